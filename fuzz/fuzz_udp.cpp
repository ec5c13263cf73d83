// Fuzzes parse_udp. Input: 8 bytes of source and destination address, then the datagram. A
// parsed datagram must rebuild (write_udp over the same payload) to a header that verifies, and
// to the very same bytes when the original carried a checksum that verified.
#include "fuzz_util.hpp"
#include "wire/checksum.hpp"
#include "wire/udp.hpp"

using namespace ustack;
using namespace ustack::wire;

namespace {

void check(ByteSpan in, Ipv4Addr src, Ipv4Addr dst, bool verify) {
    auto u = parse_udp(in, src, dst, verify);
    if (!u) return;
    const UdpHeader& h = u->header;
    FUZZ_CHECK(h.length >= kUdpHeaderLen && h.length <= in.size());
    FUZZ_CHECK(fuzz::within(u->payload, in));
    FUZZ_CHECK(u->payload.size() == std::size_t{h.length} - kUdpHeaderLen);

    std::vector<std::byte> out(h.length);
    if (!u->payload.empty())
        std::memcpy(out.data() + kUdpHeaderLen, u->payload.data(), u->payload.size());
    FUZZ_CHECK(write_udp(out, h.src_port, h.dst_port, u->payload.size(), src, dst) ==
               kUdpHeaderLen);
    ByteSpan rebuilt{out.data(), out.size()};
    FUZZ_CHECK(fuzz::same_bytes(rebuilt.first(6), in.first(6)));
    FUZZ_CHECK(load_be16(out.data() + 6) != 0);
    // With a non-zero checksum the valid value is unique (0 is not allowed to stand for -0).
    if (verify && h.checksum != 0) FUZZ_CHECK(load_be16(out.data() + 6) == h.checksum);
    auto again = parse_udp(rebuilt, src, dst, true);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->header.src_port == h.src_port && again->header.dst_port == h.dst_port &&
               again->header.length == h.length);
    FUZZ_CHECK(fuzz::same_bytes(again->payload, u->payload));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto input = fuzz::copy_input(data, size);
    auto a = fuzz::split_addresses(ByteSpan{input.data(), input.size()});
    check(a.rest, a.src, a.dst, true);
    check(a.rest, a.src, a.dst, false);
    return 0;
}
