// Shared helpers for the libFuzzer targets: invariant checks that abort with a message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/bytes.hpp"
#include "wire/addr.hpp"

#define FUZZ_CHECK(cond)                                                                      \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                     \
        }                                                                                     \
    } while (0)

namespace ustack::fuzz {

// A copy of the input in a heap buffer of exactly its size, so ASan sees reads past the end.
inline std::vector<std::byte> copy_input(const std::uint8_t* data, std::size_t size) {
    std::vector<std::byte> v(size);
    if (size) std::memcpy(v.data(), data, size);
    return v;
}

inline bool same_bytes(ByteSpan a, ByteSpan b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

// True when `inner` lies inside `outer` (parsers must only hand out views into their input).
inline bool within(ByteSpan inner, ByteSpan outer) {
    if (inner.empty()) return true;
    auto o = reinterpret_cast<std::uintptr_t>(outer.data());
    auto i = reinterpret_cast<std::uintptr_t>(inner.data());
    return i >= o && i + inner.size() <= o + outer.size();
}

// Takes the first 8 bytes as source and destination addresses (for pseudo-header checksums).
struct AddrPrefix {
    wire::Ipv4Addr src;
    wire::Ipv4Addr dst;
    ByteSpan rest;
};
inline AddrPrefix split_addresses(ByteSpan in) {
    AddrPrefix a;
    if (in.size() >= 8) {
        a.src = wire::Ipv4Addr{load_be32(in.data())};
        a.dst = wire::Ipv4Addr{load_be32(in.data() + 4)};
        a.rest = in.subspan(8);
    } else {
        a.rest = in;
    }
    return a;
}

}  // namespace ustack::fuzz
