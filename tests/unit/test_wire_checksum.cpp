#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "test_wire_util.hpp"
#include "wire/checksum.hpp"

using namespace ustack;
using namespace ustack::wire;
using ustack::test::Bytes;
using ustack::test::from_hex;

namespace {

Bytes random_bytes(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    Bytes b(n);
    for (auto& x : b)
        x = static_cast<std::byte>(rng());
    return b;
}

}  // namespace

// RFC 1071 section 3 works through the bytes 00 01 f2 03 f4 f5 f6 f7: the 16-bit sum is ddf2
// (with the carries folded back in), so the checksum is ~ddf2 = 220d.
TEST(Checksum, Rfc1071Example) {
    Bytes d = from_hex("0001f203f4f5f6f7");
    EXPECT_EQ(checksum_fold(checksum_accumulate(d)), 0xddf2);
    EXPECT_EQ(internet_checksum(d), 0x220d);
    EXPECT_EQ(internet_checksum_reference(d), 0x220d);
    // Sums are byte-order independent (RFC 1071 2(B)): the swapped data sums to the swapped sum.
    Bytes swapped = from_hex("010003f2f5f4f7f6");
    EXPECT_EQ(checksum_fold(checksum_accumulate(swapped)), 0xf2dd);
}

TEST(Checksum, EmptyAndZeroData) {
    EXPECT_EQ(internet_checksum({}), 0xffff);
    EXPECT_EQ(internet_checksum_reference({}), 0xffff);
    Bytes zeros(1000);
    EXPECT_EQ(internet_checksum(zeros), 0xffff);
    EXPECT_EQ(internet_checksum_reference(zeros), 0xffff);
    // All ones sums to "negative zero", whose checksum is +0.
    Bytes ones(1000, std::byte{0xff});
    EXPECT_EQ(internet_checksum(ones), 0x0000);
    EXPECT_EQ(internet_checksum_reference(ones), 0x0000);
}

// An odd final byte is the high-order byte of a word padded with zero (RFC 1071 4.1).
TEST(Checksum, OddLengthPadsWithZero) {
    for (std::size_t n = 1; n < 200; n += 2) {
        Bytes d = random_bytes(n, n);
        Bytes padded = d;
        padded.push_back(std::byte{0});
        EXPECT_EQ(internet_checksum(d), internet_checksum(padded)) << n;
        EXPECT_EQ(internet_checksum(d), internet_checksum_reference(d)) << n;
    }
}

// Runs fn with the AVX2 code allowed (where the CPU has it), then with SSE2 only.
template <class Fn>
void with_each_vector_width(Fn fn) {
    for (bool avx2 : {true, false}) {
        SCOPED_TRACE(avx2 ? "AVX2 where available" : "SSE2");
        const bool before = detail::checksum_allow_avx2(avx2);
        fn();
        detail::checksum_allow_avx2(before);
    }
}

// Every length 0..2000 at every alignment 0..7 against the 16-bit reference loop.
TEST(Checksum, MatchesReferenceForAllLengthsAndOffsets) {
    Bytes buf = random_bytes(2000 + 8, 42);
    with_each_vector_width([&] {
        for (std::size_t offset = 0; offset < 8; ++offset) {
            for (std::size_t n = 0; n + offset <= buf.size() && n <= 2000; ++n) {
                ByteSpan d{buf.data() + offset, n};
                ASSERT_EQ(internet_checksum(d), internet_checksum_reference(d))
                    << "offset " << offset << " length " << n;
            }
        }
    });
}

// Data chosen to stress the carries: words of all ones, all but one bit set, and mixtures.
TEST(Checksum, MatchesReferenceOnCarryHeavyData) {
    with_each_vector_width([] {
        for (std::uint8_t fill : {0xff, 0xfe, 0x7f, 0x80, 0x01}) {
            for (std::size_t n :
                 {1, 2, 7, 8, 63, 64, 65, 127, 128, 1500, 4096, 65535, 65536, 70001}) {
                Bytes d(n, static_cast<std::byte>(fill));
                if (n > 3) d[n / 2] = std::byte{0};
                ASSERT_EQ(internet_checksum(d), internet_checksum_reference(d))
                    << "fill " << int{fill} << " length " << n;
            }
        }
    });
}

TEST(Checksum, MatchesReferenceOnLargeRandomBuffers) {
    for (std::size_t n : {65536, 65536 + 7, 200000, 1 << 20}) {
        Bytes d = random_bytes(n, n);
        EXPECT_EQ(internet_checksum(d), internet_checksum_reference(d)) << n;
    }
}

// Chaining pieces of even length gives the one-call result, for any initial sum.
TEST(Checksum, ChainingEvenPiecesEqualsOneCall) {
    Bytes d = random_bytes(3001, 7);
    std::mt19937 rng(99);
    for (int trial = 0; trial < 2000; ++trial) {
        std::size_t n = rng() % d.size();
        ByteSpan all{d.data(), n};
        std::uint64_t initial = trial % 3 == 0 ? 0 : rng() % 0x40000;
        std::uint64_t sum = initial;
        std::size_t pos = 0;
        while (pos < n) {
            std::size_t piece = std::min<std::size_t>(2 * (rng() % 80), n - pos);
            if (piece == 0) piece = std::min<std::size_t>(2, n - pos);
            if (pos + piece < n && piece % 2 != 0) ++piece;
            sum = checksum_accumulate(all.subspan(pos, piece), sum);
            pos += piece;
        }
        ASSERT_EQ(checksum_fold(sum), checksum_fold(checksum_accumulate(all, initial)))
            << "trial " << trial;
    }
}

// checksum_copy copies exactly the bytes and sums them as checksum_accumulate does, for every
// length 0..600 and every alignment of source and destination, with and without an initial sum.
TEST(Checksum, CopyEqualsAccumulateAndCopies) {
    with_each_vector_width([] {
        Bytes src = random_bytes(600 + 8, 11);
        Bytes dst(600 + 16);
        for (std::size_t from = 0; from < 8; ++from) {
            for (std::size_t to = 0; to < 8; to += 3) {
                for (std::size_t n = 0; n + from <= src.size() && n <= 600; ++n) {
                    ByteSpan d{src.data() + from, n};
                    std::fill(dst.begin(), dst.end(), std::byte{0xa5});
                    const std::uint64_t initial = n % 3 == 0 ? 0 : 0x1234 * n;
                    ASSERT_EQ(checksum_copy(dst.data() + to, d, initial),
                              checksum_accumulate(d, initial))
                        << "from " << from << " to " << to << " length " << n;
                    ASSERT_TRUE(std::equal(d.begin(), d.end(), dst.begin() + to));
                    ASSERT_EQ(dst[to + n], std::byte{0xa5}) << "wrote past the end, length " << n;
                }
            }
        }
        Bytes big = random_bytes(70001, 12);
        Bytes out(big.size());
        EXPECT_EQ(checksum_copy(out.data(), big), checksum_accumulate(big));
        EXPECT_EQ(out, big);
    });
}

TEST(Checksum, FoldHandlesWideSums) {
    EXPECT_EQ(checksum_fold(0), 0);
    EXPECT_EQ(checksum_fold(0xffff), 0xffff);
    EXPECT_EQ(checksum_fold(0x10000), 1);
    EXPECT_EQ(checksum_fold(0x1fffe), 0xffff);
    EXPECT_EQ(checksum_fold(0xffffffffffffffffull), 0xffff);
    EXPECT_EQ(checksum_fold(0x0001000100010001ull), 4);
    // 2^16 == 1 (mod 2^16 - 1), so any value folds to its residue (with 0xffff for 0 unless 0).
    std::mt19937_64 rng(5);
    for (int i = 0; i < 1000; ++i) {
        std::uint64_t v = rng();
        std::uint64_t r = v % 0xffff;
        EXPECT_EQ(checksum_fold(v), v == 0 ? 0 : (r == 0 ? 0xffff : r));
    }
}

TEST(Checksum, InitialValueIsAddedInOnesComplement) {
    Bytes d = random_bytes(100, 3);
    std::uint64_t near_max = 0xfffffffffffffff0ull;
    EXPECT_EQ(checksum_fold(checksum_accumulate(d, near_max)),
              checksum_fold(checksum_accumulate(d, 0) + checksum_fold(near_max)));
}

TEST(Checksum, PseudoHeaderSum) {
    // 10.0.0.1 -> 10.0.0.2, TCP, 20 bytes: 0a00+0001+0a00+0002+0006+0014 = 0x141d
    EXPECT_EQ(checksum_fold(pseudo_header_sum(Ipv4Addr(10, 0, 0, 1), Ipv4Addr(10, 0, 0, 2), 6, 20)),
              0x141d);
    // The same as summing the 12-byte pseudo-header laid out in memory (RFC 793 3.1).
    Bytes ph = from_hex("c0a80001c0a8ff0e00110123");
    EXPECT_EQ(checksum_fold(pseudo_header_sum(Ipv4Addr(192, 168, 0, 1), Ipv4Addr(192, 168, 255, 14),
                                              17, 0x123)),
              checksum_fold(checksum_accumulate(ph)));
}

// Writes the 16-bit field at `at` and returns the checksum of the whole buffer with the checksum
// field (at `csum`) set to zero.
namespace {
std::uint16_t full_checksum(Bytes& d, std::size_t csum) {
    store_be16(d.data() + csum, 0);
    return internet_checksum(d);
}
}  // namespace

// RFC 1624: an incrementally updated checksum equals the recomputed one.
TEST(Checksum, IncrementalUpdateMatchesRecomputation) {
    std::mt19937 rng(1624);
    for (int trial = 0; trial < 5000; ++trial) {
        std::size_t words = 2 + rng() % 30;
        Bytes d = random_bytes(words * 2, static_cast<std::uint64_t>(trial));
        std::size_t csum = 2 * (rng() % words);
        std::size_t field = 2 * (rng() % words);
        if (field == csum) field = (field + 2) % (words * 2);
        std::uint16_t hc = full_checksum(d, csum);
        store_be16(d.data() + csum, hc);
        std::uint16_t m = load_be16(d.data() + field);
        std::uint16_t m2 =
            trial % 7 == 0 ? static_cast<std::uint16_t>(~m) : static_cast<std::uint16_t>(rng());
        store_be16(d.data() + field, m2);
        std::uint16_t updated = checksum_update16(hc, m, m2);
        ASSERT_EQ(updated, full_checksum(d, csum)) << "trial " << trial;
        // And the updated packet verifies.
        store_be16(d.data() + csum, updated);
        ASSERT_EQ(internet_checksum(d), 0) << "trial " << trial;
    }
}

TEST(Checksum, IncrementalUpdate32MatchesRecomputation) {
    std::mt19937 rng(32);
    for (int trial = 0; trial < 2000; ++trial) {
        Bytes d = random_bytes(20, static_cast<std::uint64_t>(trial) + 100000);
        std::uint16_t hc = full_checksum(d, 10);
        store_be16(d.data() + 10, hc);
        std::uint32_t old_addr = load_be32(d.data() + 12);
        std::uint32_t new_addr = static_cast<std::uint32_t>(rng());
        store_be32(d.data() + 12, new_addr);
        ASSERT_EQ(checksum_update32(hc, old_addr, new_addr), full_checksum(d, 10));
    }
}

// RFC 1624 section 3: a header with checksum 0xdd2f whose field 0x5555 becomes 0x3285. The new
// sum is 0xffff ("negative zero"), so a recomputation gives a checksum of 0x0000. Eqn. 2 of
// RFC 1624 would give 0xffff here; eqn. 3 gives 0x0000, like the recomputation.
TEST(Checksum, Rfc1624NegativeZeroCorner) {
    EXPECT_EQ(checksum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);

    // The same with a real buffer: two words, [field, filler], whose sum is ~0xdd2f = 0x22d0.
    // With field 0x5555 the filler is 0x22d0 - 0x5555 in one's complement: 0xcd7a.
    Bytes d = from_hex("5555cd7a0000");
    EXPECT_EQ(full_checksum(d, 4), 0xdd2f);
    store_be16(d.data(), 0x3285);
    EXPECT_EQ(full_checksum(d, 4), 0x0000);
}

TEST(Checksum, IncrementalUpdateNoChangeKeepsChecksum) {
    for (std::uint16_t hc : {0x0000, 0x1234, 0xfffe}) {
        for (std::uint16_t m : {0x0000, 0xffff, 0xabcd})
            EXPECT_EQ(checksum_update16(hc, m, m), hc);
    }
}
