// Byte-order helpers. Only wire/ and phy/ use these; everything above works on host-order values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace ustack {

using ByteSpan = std::span<const std::byte>;
using MutableByteSpan = std::span<std::byte>;

inline std::uint8_t load_u8(const std::byte* p) { return static_cast<std::uint8_t>(*p); }
inline std::uint16_t load_be16(const std::byte* p) {
    return static_cast<std::uint16_t>((static_cast<unsigned>(p[0]) << 8) |
                                      static_cast<unsigned>(p[1]));
}
inline std::uint32_t load_be32(const std::byte* p) {
    return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
           (static_cast<std::uint32_t>(p[2]) << 8) | static_cast<std::uint32_t>(p[3]);
}
inline void store_u8(std::byte* p, std::uint8_t v) { *p = static_cast<std::byte>(v); }
inline void store_be16(std::byte* p, std::uint16_t v) {
    p[0] = static_cast<std::byte>(v >> 8);
    p[1] = static_cast<std::byte>(v & 0xff);
}
inline void store_be32(std::byte* p, std::uint32_t v) {
    p[0] = static_cast<std::byte>(v >> 24);
    p[1] = static_cast<std::byte>((v >> 16) & 0xff);
    p[2] = static_cast<std::byte>((v >> 8) & 0xff);
    p[3] = static_cast<std::byte>(v & 0xff);
}

inline ByteSpan as_bytes(const void* p, std::size_t n) {
    return {static_cast<const std::byte*>(p), n};
}

}  // namespace ustack
