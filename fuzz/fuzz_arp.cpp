// Fuzzes parse_arp; an accepted packet must rebuild to the same 28 bytes (every field that the
// parser does not store is one it requires to have a fixed value).
#include "fuzz_util.hpp"
#include "wire/arp.hpp"

using namespace ustack;
using namespace ustack::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto input = fuzz::copy_input(data, size);
    ByteSpan in{input.data(), input.size()};
    auto a = parse_arp(in);
    if (!a) return 0;
    FUZZ_CHECK(size >= kArpPacketLen);
    FUZZ_CHECK(a->op == ArpOp::kRequest || a->op == ArpOp::kReply);
    std::byte out[kArpPacketLen];
    write_arp(out, *a);
    FUZZ_CHECK(fuzz::same_bytes(out, in.first(kArpPacketLen)));
    return 0;
}
