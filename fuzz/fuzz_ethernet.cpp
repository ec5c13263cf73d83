// Fuzzes parse_ethernet; a parsed header must rebuild to the same 14 bytes.
#include "fuzz_util.hpp"
#include "wire/ethernet.hpp"

using namespace ustack;
using namespace ustack::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto input = fuzz::copy_input(data, size);
    ByteSpan in{input.data(), input.size()};
    auto f = parse_ethernet(in);
    if (!f) {
        FUZZ_CHECK(size < kEthernetHeaderLen);
        return 0;
    }
    FUZZ_CHECK(fuzz::within(f->payload, in));
    FUZZ_CHECK(f->payload.size() == size - kEthernetHeaderLen);
    std::byte out[kEthernetHeaderLen];
    write_ethernet(out, f->header);
    FUZZ_CHECK(fuzz::same_bytes(out, in.first(kEthernetHeaderLen)));
    return 0;
}
