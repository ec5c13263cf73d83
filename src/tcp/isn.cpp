#include "tcp/isn.hpp"

namespace ustack::tcp {

namespace {

constexpr std::uint64_t rotl(std::uint64_t x, int b) {
    return (x << b) | (x >> (64 - b));
}

// Little-endian load of n <= 8 bytes (SipHash reads its key and message little-endian).
std::uint64_t load_le(const std::uint8_t* p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i)
        v |= std::uint64_t{p[i]} << (8 * i);
    return v;
}

struct SipState {
    std::uint64_t v0, v1, v2, v3;

    // One SipRound: add-rotate-xor over the four lanes.
    void round() {
        v0 += v1;
        v1 = rotl(v1, 13);
        v1 ^= v0;
        v0 = rotl(v0, 32);
        v2 += v3;
        v3 = rotl(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = rotl(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = rotl(v1, 17);
        v1 ^= v2;
        v2 = rotl(v2, 32);
    }

    // c = 2 rounds per message word.
    void absorb(std::uint64_t m) {
        v3 ^= m;
        round();
        round();
        v0 ^= m;
    }
};

void put_be32(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

}  // namespace

std::uint64_t siphash24(const std::array<std::uint8_t, 16>& key, const std::uint8_t* data,
                        std::size_t len) {
    const std::uint64_t k0 = load_le(key.data(), 8);
    const std::uint64_t k1 = load_le(key.data() + 8, 8);
    // Initialisation constants: the ASCII of "somepseudorandomlygeneratedbytes".
    SipState s{k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull, k0 ^ 0x6c7967656e657261ull,
               k1 ^ 0x7465646279746573ull};

    const std::size_t whole = len / 8 * 8;
    for (std::size_t i = 0; i < whole; i += 8)
        s.absorb(load_le(data + i, 8));
    // The last word holds the remaining bytes and, in its top byte, the length mod 256.
    s.absorb(load_le(data + whole, len - whole) | (std::uint64_t{len & 0xff} << 56));

    // Finalisation: d = 4 rounds.
    s.v2 ^= 0xff;
    for (int i = 0; i < 4; ++i)
        s.round();
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

std::uint64_t IsnGenerator::hash(wire::Ipv4Addr local, std::uint16_t lport, wire::Ipv4Addr remote,
                                 std::uint16_t rport, std::uint32_t extra) const {
    // A fixed layout of the connection identifier: local address, remote address, the two ports,
    // then the caller's extra word.
    std::uint8_t msg[16];
    put_be32(msg, local.value);
    put_be32(msg + 4, remote.value);
    put_be32(msg + 8, (std::uint32_t{lport} << 16) | rport);
    put_be32(msg + 12, extra);
    return siphash24(key_, msg, sizeof msg);
}

std::uint32_t IsnGenerator::isn(wire::Ipv4Addr local, std::uint16_t lport, wire::Ipv4Addr remote,
                                std::uint16_t rport, Instant now) const {
    // RFC 6528 3: ISN = M + F(...), M a timer that ticks every 4 microseconds (RFC 9293 3.4.1).
    const auto ticks = static_cast<std::uint64_t>(now.count()) / 4000u;
    const auto f = hash(local, lport, remote, rport);
    return static_cast<std::uint32_t>(f + ticks);
}

}  // namespace ustack::tcp
