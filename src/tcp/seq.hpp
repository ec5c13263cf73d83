// Sequence numbers: 32-bit values compared modulo 2^32 (RFC 9293 3.4, RFC 1982 style). No raw
// `<` on sequence numbers appears outside this type.
#pragma once

#include <cstdint>

namespace ustack::tcp {

struct SeqNum {
    std::uint32_t v = 0;

    constexpr SeqNum() = default;
    constexpr explicit SeqNum(std::uint32_t x) : v(x) {}

    constexpr SeqNum operator+(std::uint32_t n) const { return SeqNum{v + n}; }
    constexpr SeqNum operator-(std::uint32_t n) const { return SeqNum{v - n}; }
    constexpr SeqNum& operator+=(std::uint32_t n) {
        v += n;
        return *this;
    }
    // Signed distance from b to a (a - b), valid when they are within 2^31 of each other.
    friend constexpr std::int32_t operator-(SeqNum a, SeqNum b) {
        return static_cast<std::int32_t>(a.v - b.v);
    }
    friend constexpr bool operator==(SeqNum a, SeqNum b) = default;
    friend constexpr bool operator<(SeqNum a, SeqNum b) { return (a - b) < 0; }
    friend constexpr bool operator<=(SeqNum a, SeqNum b) { return (a - b) <= 0; }
    friend constexpr bool operator>(SeqNum a, SeqNum b) { return (a - b) > 0; }
    friend constexpr bool operator>=(SeqNum a, SeqNum b) { return (a - b) >= 0; }
};

constexpr SeqNum seq_max(SeqNum a, SeqNum b) {
    return a < b ? b : a;
}
constexpr SeqNum seq_min(SeqNum a, SeqNum b) {
    return a < b ? a : b;
}

// lo <= x < hi, modulo 2^32.
constexpr bool seq_in(SeqNum x, SeqNum lo, SeqNum hi) {
    return lo <= x && x < hi;
}

}  // namespace ustack::tcp
