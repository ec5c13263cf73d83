// Fuzzes parse_ipv4 with and without checksum verification. A parsed header must rebuild to the
// same bytes (the checksum field aside, which write_ipv4 computes), the rebuilt header must
// verify and parse to the same fields, and every view must lie inside the input.
#include "fuzz_util.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

using namespace ustack;
using namespace ustack::wire;

namespace {

bool same_fields(const Ipv4Header& a, const Ipv4Header& b) {
    return a.header_len == b.header_len && a.dscp_ecn == b.dscp_ecn && a.total_len == b.total_len &&
           a.id == b.id && a.dont_fragment == b.dont_fragment &&
           a.more_fragments == b.more_fragments && a.reserved_flag == b.reserved_flag &&
           a.frag_offset == b.frag_offset && a.ttl == b.ttl && a.protocol == b.protocol &&
           a.src == b.src && a.dst == b.dst && fuzz::same_bytes(a.options, b.options);
}

void check(ByteSpan in, ChecksumCheck mode) {
    auto pkt = parse_ipv4(in, mode);
    if (!pkt) return;
    const Ipv4Header& h = pkt->header;
    FUZZ_CHECK(h.header_len >= kIpv4MinHeaderLen && h.header_len <= kIpv4MaxHeaderLen);
    FUZZ_CHECK(h.header_len % 4 == 0);
    FUZZ_CHECK(h.total_len >= h.header_len && h.total_len <= in.size());
    FUZZ_CHECK(fuzz::within(h.options, in) && fuzz::within(pkt->payload, in));
    FUZZ_CHECK(pkt->payload.size() == std::size_t{h.total_len} - h.header_len);
    FUZZ_CHECK(h.frag_offset <= 0x1fff);

    std::byte out[kIpv4MaxHeaderLen];
    std::size_t n = write_ipv4(out, h);
    FUZZ_CHECK(n == h.header_len);
    ByteSpan rebuilt{out, n};
    FUZZ_CHECK(fuzz::same_bytes(rebuilt.first(10), in.first(10)));
    FUZZ_CHECK(fuzz::same_bytes(rebuilt.subspan(12), in.subspan(12, n - 12)));
    FUZZ_CHECK(internet_checksum(rebuilt) == 0);
    // A header that verified keeps its checksum, except that a sum of "negative zero" admits
    // both 0x0000 and 0xffff, and the writer always picks 0x0000 (RFC 1624 section 3).
    if (mode == ChecksumCheck::kVerify && load_be16(out + 10) != h.checksum)
        FUZZ_CHECK(h.checksum == 0xffff && load_be16(out + 10) == 0);

    // Parse what we built (with a payload of the original length) and compare.
    std::vector<std::byte> whole(in.begin(), in.begin() + h.total_len);
    std::memcpy(whole.data(), out, n);
    auto again = parse_ipv4(ByteSpan{whole.data(), whole.size()});
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(same_fields(again->header, h));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto input = fuzz::copy_input(data, size);
    ByteSpan in{input.data(), input.size()};
    check(in, ChecksumCheck::kVerify);
    check(in, ChecksumCheck::kSkip);
    return 0;
}
