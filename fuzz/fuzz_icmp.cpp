// Fuzzes parse_icmp with and without checksum verification; a parsed message must rebuild to
// the same bytes (checksum aside, see below) and the rebuilt message must verify.
#include "fuzz_util.hpp"
#include "wire/checksum.hpp"
#include "wire/icmp.hpp"

using namespace ustack;
using namespace ustack::wire;

namespace {

void check(ByteSpan in, bool verify) {
    auto m = parse_icmp(in, verify);
    if (!m) return;
    FUZZ_CHECK(in.size() >= kIcmpHeaderLen);
    FUZZ_CHECK(fuzz::within(m->body, in));
    FUZZ_CHECK(m->body.size() == in.size() - kIcmpHeaderLen);
    FUZZ_CHECK(m->echo_id() == (m->rest >> 16) && m->echo_seq() == (m->rest & 0xffff));

    std::vector<std::byte> out(in.size());
    std::size_t n = write_icmp(out, m->type, m->code, m->rest, m->body);
    FUZZ_CHECK(n == in.size());
    ByteSpan rebuilt{out.data(), n};
    FUZZ_CHECK(fuzz::same_bytes(rebuilt.first(2), in.first(2)));
    FUZZ_CHECK(fuzz::same_bytes(rebuilt.subspan(4), in.subspan(4)));
    FUZZ_CHECK(internet_checksum(rebuilt) == 0);
    // Negative zero: 0xffff verifies too, but the writer produces 0x0000.
    if (verify && load_be16(out.data() + 2) != m->checksum)
        FUZZ_CHECK(m->checksum == 0xffff && load_be16(out.data() + 2) == 0);
    auto again = parse_icmp(rebuilt);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->type == m->type && again->code == m->code && again->rest == m->rest);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto input = fuzz::copy_input(data, size);
    ByteSpan in{input.data(), input.size()};
    check(in, true);
    check(in, false);
    return 0;
}
