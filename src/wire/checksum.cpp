#include "wire/checksum.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>

namespace ustack::wire {

namespace {

// Adds b to a with end-around carry (one's-complement addition on 64-bit words).
inline std::uint64_t add_carry(std::uint64_t a, std::uint64_t b) {
    std::uint64_t s = a + b;
    return s + (s < b ? 1u : 0u);
}

// RFC 1071 2(B): the one's-complement sum is independent of byte order, so the bulk of the
// data is summed as native-endian words and the 16-bit result is swapped once at the end. And
// since 2^16 == 1 (mod 2^16 - 1), any word width works: a 64-bit word w contributes the same as
// its four 16-bit halves, and only carries out of bit 63 must be added back.

#if defined(__GNUC__) || defined(__clang__)

// Two 64-bit lanes in a 128-bit vector. Both g++ and clang lower this to SSE2 on baseline
// x86-64 (and to NEON or scalar code elsewhere).
using U64x2 = std::uint64_t __attribute__((vector_size(16)));

inline U64x2 load_vec(const std::byte* p) {
    U64x2 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

inline void store_vec(std::byte* p, U64x2 v) {
    std::memcpy(p, &v, sizeof v);
}

// Sums `count` 64-byte blocks, and with kCopy also stores them at out. SSE2 has no unsigned
// 64-bit compare to count carries, so each lane keeps two accumulators instead: A, the wrapping
// sum of the 64-bit words, and H, the exact sum of their upper 32-bit halves. The exact sum of
// the lower halves is then A - (H << 32) modulo 2^64, which is exact while it stays below 2^64,
// i.e. for fewer than 2^32 words in all. The caller keeps `count` well below that.
template <bool kCopy>
std::uint64_t sum_blocks(const std::byte* p, std::size_t count, std::byte* out) {
    U64x2 a0{}, a1{}, a2{}, a3{};
    U64x2 h0{}, h1{}, h2{}, h3{};
    for (; count != 0; --count, p += 64) {
        U64x2 w0 = load_vec(p);
        U64x2 w1 = load_vec(p + 16);
        U64x2 w2 = load_vec(p + 32);
        U64x2 w3 = load_vec(p + 48);
        if constexpr (kCopy) {
            store_vec(out, w0);
            store_vec(out + 16, w1);
            store_vec(out + 32, w2);
            store_vec(out + 48, w3);
            out += 64;
        }
        a0 += w0;
        a1 += w1;
        a2 += w2;
        a3 += w3;
        h0 += w0 >> 32;
        h1 += w1 >> 32;
        h2 += w2 >> 32;
        h3 += w3 >> 32;
    }
    // Every lane's H is below 2^59 and the total of the lower halves below 2^59 too (the caller
    // passes at most 2^24 blocks), so lanes can be merged before the A - (H << 32) step.
    U64x2 a = (a0 + a1) + (a2 + a3);
    U64x2 h = (h0 + h1) + (h2 + h3);
    std::uint64_t a_total = a[0] + a[1];
    std::uint64_t h_total = h[0] + h[1];
    std::uint64_t low_halves = a_total - (h_total << 32);
    return add_carry(low_halves, h_total);
}

#if defined(__x86_64__)
#define USTACK_CHECKSUM_AVX2 1

// The same with four lanes of 256 bits, for CPUs with AVX2 (chosen at run time, since the build
// targets baseline x86-64). Same bounds: each lane and each H sum stay below 2^59.
using U64x4 = std::uint64_t __attribute__((vector_size(32)));

template <bool kCopy>
__attribute__((target("avx2"))) std::uint64_t sum_blocks_avx2(const std::byte* p, std::size_t count,
                                                              std::byte* out) {
    U64x4 a0{}, a1{};
    U64x4 h0{}, h1{};
    for (; count != 0; --count, p += 64) {
        U64x4 w0, w1;
        std::memcpy(&w0, p, sizeof w0);
        std::memcpy(&w1, p + 32, sizeof w1);
        if constexpr (kCopy) {
            std::memcpy(out, &w0, sizeof w0);
            std::memcpy(out + 32, &w1, sizeof w1);
            out += 64;
        }
        a0 += w0;
        a1 += w1;
        h0 += w0 >> 32;
        h1 += w1 >> 32;
    }
    const U64x4 a = a0 + a1;
    const U64x4 h = h0 + h1;
    const std::uint64_t a_total = (a[0] + a[1]) + (a[2] + a[3]);
    const std::uint64_t h_total = (h[0] + h[1]) + (h[2] + h[3]);
    return add_carry(a_total - (h_total << 32), h_total);
}

std::atomic<bool> g_allow_avx2{true};

bool have_avx2() {
    static const bool cpu = (__builtin_cpu_init(), __builtin_cpu_supports("avx2") != 0);
    return cpu && g_allow_avx2.load(std::memory_order_relaxed);
}
#endif

#else

// Portable fallback: 64-bit words with the carries counted separately.
template <bool kCopy>
std::uint64_t sum_blocks(const std::byte* p, std::size_t count, std::byte* out) {
    std::uint64_t sum = 0;
    std::uint64_t carries = 0;
    for (; count != 0; --count, p += 64) {
        if constexpr (kCopy) {
            std::memcpy(out, p, 64);
            out += 64;
        }
        for (int i = 0; i < 8; ++i) {
            std::uint64_t w;
            std::memcpy(&w, p + 8 * i, 8);
            sum += w;
            carries += sum < w ? 1u : 0u;
        }
    }
    return add_carry(sum, carries);
}

#endif

// Blocks per call of sum_blocks: 2^24 blocks is 1 GiB, far below the 2^32-word lane limit.
constexpr std::size_t kMaxBlocksPerRun = std::size_t{1} << 24;

// Copies n < 64 bytes with a few fixed-size moves (overlapping where n is not a power of two)
// rather than a call to memcpy.
inline void copy_small(std::byte* out, const std::byte* p, std::size_t n) {
    auto move = [&](auto word) {
        constexpr std::size_t k = sizeof word;
        std::memcpy(&word, p, k);
        std::memcpy(out, &word, k);
        std::memcpy(&word, p + n - k, k);
        std::memcpy(out + n - k, &word, k);
    };
    struct B16 {
        std::uint64_t a, b;
    };
    struct B32 {
        B16 a, b;
    };
    if (n >= 32)
        move(B32{});
    else if (n >= 16)
        move(B16{});
    else if (n >= 8)
        move(std::uint64_t{});
    else if (n >= 4)
        move(std::uint32_t{});
    else if (n >= 2)
        move(std::uint16_t{});
    else if (n == 1)
        *out = *p;
}

// The sum of data (copied to out on the way with kCopy), folded, in network byte order, added to
// initial.
template <bool kCopy>
std::uint64_t accumulate(ByteSpan data, std::uint64_t initial, std::byte* out) {
    const std::byte* p = data.data();
    std::size_t n = data.size();
    std::uint64_t sum = 0;  // native byte order, end-around carried
    while (n >= 64) {
        std::size_t blocks = std::min(n / 64, kMaxBlocksPerRun);
#ifdef USTACK_CHECKSUM_AVX2
        sum = add_carry(sum, have_avx2() ? sum_blocks_avx2<kCopy>(p, blocks, out)
                                         : sum_blocks<kCopy>(p, blocks, out));
#else
        sum = add_carry(sum, sum_blocks<kCopy>(p, blocks, out));
#endif
        p += blocks * 64;
        n -= blocks * 64;
        if constexpr (kCopy) out += blocks * 64;
    }
    // Under 64 bytes left (all of a header): copied in fixed-size moves, and summed as 32-bit
    // words into a 64-bit total that cannot overflow. An odd final byte stays at its even
    // offset, the high-order byte of its big-endian 16-bit word (RFC 1071 4.1).
    if constexpr (kCopy) copy_small(out, p, n);
    std::uint64_t rest = 0;
    for (; n >= 4; n -= 4, p += 4) {
        std::uint32_t w;
        std::memcpy(&w, p, 4);
        rest += w;
    }
    if (n >= 2) {
        std::uint16_t w;
        std::memcpy(&w, p, 2);
        rest += w;
        p += 2;
        n -= 2;
    }
    if (n != 0) {
        const auto b = static_cast<std::uint64_t>(*p);
        rest += std::endian::native == std::endian::little ? b : b << 8;
    }
    sum = add_carry(sum, rest);
    auto folded = static_cast<std::uint16_t>(checksum_fold(sum));
    if constexpr (std::endian::native == std::endian::little)
        folded = static_cast<std::uint16_t>((folded >> 8) | (folded << 8));
    return add_carry(initial, folded);
}

}  // namespace

namespace detail {
bool checksum_allow_avx2(bool allow) {
#ifdef USTACK_CHECKSUM_AVX2
    return g_allow_avx2.exchange(allow);
#else
    (void)allow;
    return false;
#endif
}
}  // namespace detail

std::uint64_t checksum_accumulate(ByteSpan data, std::uint64_t initial) {
    return accumulate<false>(data, initial, nullptr);
}

std::uint64_t checksum_copy(std::byte* out, ByteSpan data, std::uint64_t initial) {
    return accumulate<true>(data, initial, out);
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

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). Unlike eqn. 2 this never produces 0xffff from a
// header whose new sum is +0, so it agrees with a full recomputation (RFC 1624 section 3).
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
    std::uint64_t sum = 0;
    std::size_t i = 0;
    for (; i + 1 < data.size(); i += 2)
        sum += load_be16(data.data() + i);
    if (i < data.size()) sum += static_cast<std::uint64_t>(data[i]) << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

}  // namespace ustack::wire
