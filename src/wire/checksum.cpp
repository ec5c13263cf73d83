#include "wire/checksum.hpp"

#include <cstring>

namespace ustack::wire {

// RFC 1071 4.1: sum 16-bit words with end-around carry. We sum 32-bit big-endian-agnostic
// chunks into a 64-bit accumulator: one's-complement addition is byte-order independent as long
// as the fold swaps back, so we load native words and swap once at the end (RFC 1071 2(B)).
std::uint64_t checksum_accumulate(ByteSpan data, std::uint64_t initial) {
    const std::byte* p = data.data();
    std::size_t n = data.size();
    // Work on native-endian words; convert the incoming initial sum (big-endian meaning) to native.
    std::uint64_t sum = 0;
    while (n >= 32) {
        std::uint32_t w[8];
        std::memcpy(w, p, 32);
        sum += std::uint64_t{w[0]} + w[1] + w[2] + w[3] + w[4] + w[5] + w[6] + w[7];
        p += 32;
        n -= 32;
    }
    while (n >= 4) {
        std::uint32_t w;
        std::memcpy(&w, p, 4);
        sum += w;
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        std::uint16_t w;
        std::memcpy(&w, p, 2);
        sum += w;
        p += 2;
        n -= 2;
    }
    if (n == 1) {
        std::uint8_t last[2] = {static_cast<std::uint8_t>(*p), 0};
        std::uint16_t w;
        std::memcpy(&w, last, 2);
        sum += w;
    }
    // Fold to 16 bits in native order, then convert to big-endian meaning.
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    std::uint16_t native = static_cast<std::uint16_t>(sum);
    std::uint8_t bytes[2];
    std::memcpy(bytes, &native, 2);
    std::uint16_t be = static_cast<std::uint16_t>((bytes[0] << 8) | bytes[1]);
    return initial + be;
}

std::uint16_t checksum_fold(std::uint64_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

std::uint64_t pseudo_header_sum(Ipv4Addr src, Ipv4Addr dst, std::uint8_t protocol,
                                std::uint32_t length) {
    std::uint64_t s = 0;
    s += src.value >> 16;
    s += src.value & 0xffff;
    s += dst.value >> 16;
    s += dst.value & 0xffff;
    s += protocol;
    s += length >> 16;
    s += length & 0xffff;
    return s;
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')
std::uint16_t checksum_update16(std::uint16_t old_checksum, std::uint16_t old_field,
                                std::uint16_t new_field) {
    std::uint32_t s = static_cast<std::uint16_t>(~old_checksum);
    s += static_cast<std::uint16_t>(~old_field);
    s += new_field;
    return static_cast<std::uint16_t>(~checksum_fold(s));
}

std::uint16_t checksum_update32(std::uint16_t old_checksum, std::uint32_t old_field,
                                std::uint32_t new_field) {
    auto c = checksum_update16(old_checksum, static_cast<std::uint16_t>(old_field >> 16),
                               static_cast<std::uint16_t>(new_field >> 16));
    return checksum_update16(c, static_cast<std::uint16_t>(old_field & 0xffff),
                             static_cast<std::uint16_t>(new_field & 0xffff));
}

std::uint16_t internet_checksum_reference(ByteSpan data) {
    std::uint32_t sum = 0;
    std::size_t i = 0;
    for (; i + 1 < data.size(); i += 2) sum += load_be16(data.data() + i);
    if (i < data.size()) sum += static_cast<std::uint32_t>(data[i]) << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

}  // namespace ustack::wire
