// SendBuffer and RecvBuffer: fixed cases for wrap-around and limits, then seeded random runs
// checked against simple reference models.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <random>
#include <set>
#include <vector>

#include "tcp/recv_buffer.hpp"
#include "tcp/send_buffer.hpp"
#include "wire/checksum.hpp"

using namespace ustack;
using namespace ustack::tcp;

namespace {

using Bytes = std::vector<std::byte>;

// The byte at stream position p: any fixed function of p will do, as long as neighbours differ.
std::byte stream_byte(std::uint64_t p) {
    return static_cast<std::byte>((p * 131 + (p >> 8)) & 0xff);
}

Bytes stream(std::uint64_t from, std::size_t n) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i)
        b[i] = stream_byte(from + i);
    return b;
}

Bytes read_all(RecvBuffer& rb) {
    Bytes out(rb.readable());
    EXPECT_EQ(rb.read(out), out.size());
    return out;
}

using Ranges = std::vector<std::pair<std::size_t, std::size_t>>;

Ranges ranges_of(const RecvBuffer& rb) {
    Ranges r;
    for (const auto& x : rb.out_of_order())
        r.emplace_back(x.begin, x.end);
    return r;
}

}  // namespace

// ---- SendBuffer ----

TEST(SendBuffer, EmptyAndZeroCapacity) {
    SendBuffer sb;
    EXPECT_EQ(sb.capacity(), 0u);
    EXPECT_EQ(sb.append(stream(0, 10)), 0u);
    EXPECT_EQ(sb.size(), 0u);
    EXPECT_TRUE(sb.set_capacity(16));
    EXPECT_EQ(sb.free_space(), 16u);
    EXPECT_EQ(sb.append({}), 0u);
    sb.copy_out(0, 0, nullptr);  // nothing to copy is fine
}

TEST(SendBuffer, AppendTakesOnlyWhatFits) {
    SendBuffer sb(10);
    EXPECT_EQ(sb.append(stream(0, 7)), 7u);
    EXPECT_EQ(sb.append(stream(7, 7)), 3u);
    EXPECT_EQ(sb.size(), 10u);
    EXPECT_EQ(sb.free_space(), 0u);
    EXPECT_EQ(sb.append(stream(10, 1)), 0u);
    Bytes out(10);
    sb.copy_out(0, 10, out.data());
    EXPECT_EQ(out, stream(0, 10));
}

TEST(SendBuffer, WrapAround) {
    SendBuffer sb(8);
    ASSERT_EQ(sb.append(stream(0, 6)), 6u);
    sb.consume(4);                           // bytes 4 and 5 remain, at ring positions 4 and 5
    ASSERT_EQ(sb.append(stream(6, 6)), 6u);  // 6..11 land at positions 6, 7, 0, 1, 2, 3
    EXPECT_EQ(sb.size(), 8u);
    Bytes out(8);
    sb.copy_out(0, 8, out.data());
    EXPECT_EQ(out, stream(4, 8));
    Bytes mid(4);
    sb.copy_out(3, 4, mid.data());  // straddles the end of the ring
    EXPECT_EQ(mid, stream(7, 4));
    sb.consume(5);
    Bytes rest(3);
    sb.copy_out(0, 3, rest.data());
    EXPECT_EQ(rest, stream(9, 3));
}

// copy_out_summed copies what copy_out copies and returns its checksum sum, also across the end
// of the ring with a first piece of odd length (whose second piece adds in byte-swapped).
TEST(SendBuffer, CopyOutSummedAcrossTheEndOfTheRing) {
    for (std::size_t skip = 0; skip < 8; ++skip) {
        SendBuffer sb(64);
        ASSERT_EQ(sb.append(stream(0, 40 + skip)), 40 + skip);
        sb.consume(40 + skip);  // empty: the ring starts over at 0
        ASSERT_EQ(sb.append(stream(0, 40 + skip)), 40 + skip);
        sb.consume(40 + skip);
        ASSERT_EQ(sb.append(stream(100, 20)), 20u);
        sb.consume(20);
        ASSERT_EQ(sb.append(stream(120, 64)), 64u);
        for (std::size_t off = 0; off < 64; off += 7) {
            for (std::size_t len = 0; off + len <= 64; len += 5) {
                Bytes out(len);
                const std::uint64_t sum = sb.copy_out_summed(off, len, out.data());
                EXPECT_EQ(out, stream(120 + off, len));
                EXPECT_EQ(wire::checksum_fold(sum),
                          wire::checksum_fold(wire::checksum_accumulate(out)))
                    << "skip " << skip << " offset " << off << " length " << len;
            }
        }
    }
}

TEST(SendBuffer, SetCapacityOnlyWhileEmpty) {
    SendBuffer sb(4);
    ASSERT_EQ(sb.append(stream(0, 2)), 2u);
    EXPECT_FALSE(sb.set_capacity(8));
    EXPECT_EQ(sb.capacity(), 4u);
    sb.consume(2);
    EXPECT_TRUE(sb.set_capacity(8));
    EXPECT_EQ(sb.append(stream(0, 9)), 8u);
    Bytes out(8);
    sb.copy_out(0, 8, out.data());
    EXPECT_EQ(out, stream(0, 8));
}

// Random appends, acknowledgements and reads against a deque.
TEST(SendBuffer, RandomAgainstDeque) {
    for (std::uint64_t seed : {1u, 2u, 3u, 42u, 1234u}) {
        std::mt19937_64 rng(seed);
        const std::size_t cap = 1 + rng() % 2000;
        SendBuffer sb(cap);
        std::deque<std::byte> model;
        std::uint64_t written = 0;
        for (int step = 0; step < 4000; ++step) {
            switch (rng() % 3) {
                case 0: {
                    const std::size_t n = rng() % (cap + cap / 2 + 1);
                    Bytes data = stream(written, n);
                    const std::size_t took = sb.append(data);
                    ASSERT_EQ(took, std::min(n, cap - model.size()));
                    model.insert(model.end(), data.begin(), data.begin() + took);
                    written += took;
                    break;
                }
                case 1: {
                    const std::size_t n = model.empty() ? 0 : rng() % (model.size() + 1);
                    sb.consume(n);
                    model.erase(model.begin(), model.begin() + n);
                    break;
                }
                default: {
                    const std::size_t off = rng() % (model.size() + 1);
                    const std::size_t len = rng() % (model.size() - off + 1);
                    Bytes out(len);
                    sb.copy_out(off, len, out.data());
                    ASSERT_TRUE(std::equal(out.begin(), out.end(), model.begin() + off))
                        << "seed " << seed << " step " << step;
                }
            }
            ASSERT_EQ(sb.size(), model.size());
            ASSERT_EQ(sb.free_space(), cap - model.size());
        }
    }
}

// ---- RecvBuffer ----

TEST(RecvBuffer, InOrderAndRead) {
    RecvBuffer rb(16);
    EXPECT_EQ(rb.write(0, stream(0, 5)), 5u);
    EXPECT_EQ(rb.write(0, stream(5, 3)), 3u);
    EXPECT_EQ(rb.readable(), 8u);
    EXPECT_EQ(rb.free_space(), 8u);
    Bytes peeked(3);
    EXPECT_EQ(rb.peek(peeked), 3u);
    EXPECT_EQ(peeked, stream(0, 3));
    EXPECT_EQ(rb.readable(), 8u);
    Bytes out(4);
    EXPECT_EQ(rb.read(out), 4u);
    EXPECT_EQ(out, stream(0, 4));
    EXPECT_EQ(read_all(rb), stream(4, 4));
    Bytes more(4);
    EXPECT_EQ(rb.read(more), 0u);
}

TEST(RecvBuffer, ZeroLengthAndZeroCapacity) {
    RecvBuffer none;
    EXPECT_EQ(none.write(0, stream(0, 4)), 0u);
    EXPECT_EQ(none.readable(), 0u);
    EXPECT_EQ(none.free_space(), 0u);

    RecvBuffer rb(8);
    EXPECT_EQ(rb.write(0, {}), 0u);
    EXPECT_EQ(rb.write(3, {}), 0u);
    EXPECT_TRUE(rb.out_of_order().empty());
    Bytes out(4);
    EXPECT_EQ(rb.read(out), 0u);
}

TEST(RecvBuffer, OutOfOrderThenFill) {
    RecvBuffer rb(100);
    EXPECT_EQ(rb.write(10, stream(10, 5)), 0u);
    EXPECT_EQ(rb.write(20, stream(20, 5)), 0u);
    EXPECT_EQ(ranges_of(rb), (Ranges{{10, 15}, {20, 25}}));
    EXPECT_EQ(rb.out_of_order_bytes(), 10u);
    // Bridges the two ranges without reaching offset 0.
    EXPECT_EQ(rb.write(13, stream(13, 8)), 0u);
    EXPECT_EQ(ranges_of(rb), (Ranges{{10, 25}}));
    // Fills the hole at the front: everything up to 25 becomes readable.
    EXPECT_EQ(rb.write(0, stream(0, 10)), 25u);
    EXPECT_TRUE(rb.out_of_order().empty());
    EXPECT_EQ(read_all(rb), stream(0, 25));
}

TEST(RecvBuffer, RangesShiftAfterAdvance) {
    RecvBuffer rb(100);
    rb.write(10, stream(10, 5));
    rb.write(30, stream(30, 5));
    EXPECT_EQ(rb.write(0, stream(0, 12)), 15u);  // overlaps the front of [10, 15)
    // [30, 35) was 30 past the old RCV.NXT, so it is 15 past the new one.
    EXPECT_EQ(ranges_of(rb), (Ranges{{15, 20}}));
    EXPECT_EQ(rb.write(0, stream(15, 15)), 20u);
    EXPECT_EQ(read_all(rb), stream(0, 35));
}

TEST(RecvBuffer, OverlapsAndDuplicates) {
    RecvBuffer rb(100);
    rb.write(10, stream(10, 10));
    EXPECT_EQ(rb.write(12, stream(12, 3)), 0u);  // inside
    EXPECT_EQ(rb.write(5, stream(5, 20)), 0u);   // covers
    EXPECT_EQ(ranges_of(rb), (Ranges{{5, 25}}));
    EXPECT_EQ(rb.write(25, stream(25, 5)), 0u);  // touches the end
    EXPECT_EQ(rb.write(3, stream(3, 2)), 0u);    // touches the begin
    EXPECT_EQ(ranges_of(rb), (Ranges{{3, 30}}));
    EXPECT_EQ(rb.write(0, stream(0, 3)), 30u);
    EXPECT_EQ(rb.write(0, stream(30, 0)), 0u);
    EXPECT_EQ(read_all(rb), stream(0, 30));
}

TEST(RecvBuffer, DataPastFreeSpaceIsCut) {
    RecvBuffer rb(10);
    EXPECT_EQ(rb.write(0, stream(0, 15)), 10u);
    EXPECT_EQ(rb.free_space(), 0u);
    EXPECT_EQ(rb.write(0, stream(10, 1)), 0u);
    Bytes out(4);
    ASSERT_EQ(rb.read(out), 4u);
    EXPECT_EQ(rb.free_space(), 4u);
    EXPECT_EQ(rb.write(2, stream(12, 5)), 0u);  // only offsets 2 and 3 fit
    EXPECT_EQ(ranges_of(rb), (Ranges{{2, 4}}));
    EXPECT_EQ(rb.write(0, stream(10, 6)), 4u);
    EXPECT_EQ(rb.readable(), 10u);
    EXPECT_EQ(read_all(rb), stream(4, 10));
}

TEST(RecvBuffer, OffsetsBeyondCapacity) {
    RecvBuffer rb(10);
    EXPECT_EQ(rb.write(10, stream(10, 1)), 0u);
    EXPECT_EQ(rb.write(1000, stream(1000, 5)), 0u);
    EXPECT_EQ(rb.write(SIZE_MAX, stream(0, 5)), 0u);
    EXPECT_EQ(rb.write(SIZE_MAX - 2, stream(0, 5)), 0u);
    EXPECT_TRUE(rb.out_of_order().empty());
    EXPECT_EQ(rb.write(9, stream(9, 100)), 0u);
    EXPECT_EQ(ranges_of(rb), (Ranges{{9, 10}}));
}

TEST(RecvBuffer, WrapAround) {
    RecvBuffer rb(8);
    ASSERT_EQ(rb.write(0, stream(0, 6)), 6u);
    Bytes out(4);
    ASSERT_EQ(rb.read(out), 4u);  // readable bytes 4 and 5 sit at ring positions 4 and 5
    // Out-of-order bytes 9..11 land at positions 1, 2, 3; bytes 6..8 at 6, 7, 0.
    EXPECT_EQ(rb.write(3, stream(9, 3)), 0u);
    EXPECT_EQ(rb.write(0, stream(6, 3)), 6u);
    EXPECT_EQ(rb.readable(), 8u);
    EXPECT_EQ(read_all(rb), stream(4, 8));
}

TEST(RecvBuffer, RangeCountIsBounded) {
    // The limit is 64 disjoint ranges (recv_buffer.cpp); a 65th is dropped whole.
    RecvBuffer rb(1000);
    for (std::size_t i = 1; i <= 64; ++i)
        ASSERT_EQ(rb.write(2 * i, stream(2 * i, 1)), 0u);
    ASSERT_EQ(rb.out_of_order().size(), 64u);
    EXPECT_EQ(rb.write(500, stream(500, 10)), 0u);
    EXPECT_EQ(rb.out_of_order().size(), 64u);
    EXPECT_EQ(rb.out_of_order_bytes(), 64u);
    // Extending a range held is still accepted.
    EXPECT_EQ(rb.write(129, stream(129, 5)), 0u);
    EXPECT_EQ(rb.out_of_order().back().end, 134u);
    // So is in-order data, even when it touches no range.
    EXPECT_EQ(rb.write(0, stream(0, 1)), 1u);
    EXPECT_EQ(rb.out_of_order().size(), 64u);
    EXPECT_EQ(rb.out_of_order().front().begin, 1u);
    // Joining two ranges makes room for a new one.
    EXPECT_EQ(rb.write(2, stream(3, 1)), 0u);
    EXPECT_EQ(rb.out_of_order().size(), 63u);
    EXPECT_EQ(rb.write(499, stream(500, 10)), 0u);
    EXPECT_EQ(rb.out_of_order().size(), 64u);
    // Everything held becomes readable once the gaps are filled.
    for (int i = 0; i < 1000 && rb.readable() < 510; ++i)
        rb.write(0, stream(rb.readable(), 1));
    EXPECT_TRUE(rb.out_of_order().empty());
    EXPECT_EQ(read_all(rb), stream(0, 510));
}

// stage() copies a segment to its place in free space and write() then keeps it without
// copying; a staged copy never written (a bad checksum) changes nothing the buffer holds.
TEST(RecvBuffer, StageThenWriteOrDrop) {
    RecvBuffer rb(32);
    std::uint64_t sum = 0;
    Bytes seg = stream(0, 10);
    ByteSpan staged = rb.stage(0, seg, sum);
    ASSERT_EQ(staged.size(), 10u);
    EXPECT_NE(staged.data(), seg.data());
    EXPECT_EQ(Bytes(staged.begin(), staged.end()), seg);
    EXPECT_EQ(sum, wire::checksum_accumulate(seg));
    EXPECT_EQ(rb.readable(), 0u);  // nothing is readable before write()
    EXPECT_EQ(rb.write(0, staged), 10u);
    // Out of order, then a staged copy of garbage dropped over the gap: the bytes held stay.
    EXPECT_EQ(rb.write(5, stream(15, 5)), 0u);
    Bytes garbage(5, std::byte{0xee});
    ASSERT_EQ(rb.stage(0, garbage, sum).size(), 5u);
    EXPECT_EQ(ranges_of(rb), (Ranges{{5, 10}}));
    EXPECT_EQ(rb.write(0, stream(10, 5)), 10u);
    EXPECT_EQ(read_all(rb), stream(0, 20));
}

TEST(RecvBuffer, StageRefusesWhatDoesNotFitInOnePiece) {
    RecvBuffer rb(16);
    std::uint64_t sum = 0;
    EXPECT_TRUE(rb.stage(0, {}, sum).empty());
    EXPECT_TRUE(rb.stage(0, stream(0, 17), sum).empty());   // past free space
    EXPECT_TRUE(rb.stage(10, stream(10, 7), sum).empty());  // past free space
    ASSERT_EQ(rb.write(8, stream(8, 4)), 0u);
    EXPECT_TRUE(rb.stage(6, stream(6, 3), sum).empty());    // over the range held
    EXPECT_TRUE(rb.stage(11, stream(11, 2), sum).empty());  // over the range held
    EXPECT_EQ(rb.stage(4, stream(4, 4), sum).size(), 4u);   // touching it is fine
    EXPECT_EQ(rb.stage(12, stream(12, 4), sum).size(), 4u);
    EXPECT_EQ(rb.write(0, stream(0, 12)), 12u);
    Bytes out(12);
    ASSERT_EQ(rb.read(out), 12u);  // empty: the ring starts over at position 0
    ASSERT_EQ(rb.write(0, stream(12, 8)), 8u);
    ASSERT_EQ(rb.read(MutableByteSpan(out).first(4)), 4u);
    // Readable bytes 16..19 sit at ring positions 4..7; the free space runs from 8 round to 3.
    EXPECT_EQ(rb.stage(0, stream(20, 8), sum).size(), 8u);
    EXPECT_TRUE(rb.stage(0, stream(20, 9), sum).empty());  // would wrap
    EXPECT_EQ(rb.write(0, stream(20, 12)), 12u);
    EXPECT_EQ(read_all(rb), stream(16, 16));
}

TEST(RecvBuffer, DropOutOfOrderAndSetCapacity) {
    RecvBuffer rb(20);
    rb.write(5, stream(5, 5));
    EXPECT_FALSE(rb.set_capacity(40));
    rb.drop_out_of_order();
    EXPECT_TRUE(rb.out_of_order().empty());
    EXPECT_EQ(rb.out_of_order_bytes(), 0u);
    EXPECT_TRUE(rb.set_capacity(40));
    EXPECT_EQ(rb.write(0, stream(0, 50)), 40u);
    EXPECT_FALSE(rb.set_capacity(10));
    EXPECT_EQ(read_all(rb), stream(0, 40));
    EXPECT_TRUE(rb.set_capacity(10));
    EXPECT_EQ(rb.free_space(), 10u);
}

// Random segments (in order, out of order, overlapping, past the window) and reads, against a
// model that keeps a set of absolute stream positions held beyond RCV.NXT. Returns how many
// writes the model expected to be refused for the range limit.
namespace {

int run_recv_model(std::uint64_t seed, std::size_t max_len, int steps) {
    std::mt19937_64 rng(seed);
    const std::size_t cap = 16 + rng() % 3000;
    RecvBuffer rb(cap);
    std::uint64_t rcv_nxt = 0;  // absolute
    std::uint64_t read_pos = 0;
    std::set<std::uint64_t> held;  // absolute positions >= rcv_nxt received out of order
    int refused = 0;

    auto model_ranges = [&] {
        Ranges r;
        for (std::uint64_t p : held) {
            const std::size_t off = p - rcv_nxt;
            if (!r.empty() && r.back().second == off)
                ++r.back().second;
            else
                r.emplace_back(off, off + 1);
        }
        return r;
    };

    for (int step = 0; step < steps; ++step) {
        SCOPED_TRACE(testing::Message() << "seed " << seed << " step " << step);
        const auto op = rng() % 10;
        if (op < 6) {
            const std::size_t window = cap - (rcv_nxt - read_pos);
            // Mostly near RCV.NXT, sometimes anywhere up to a little past the capacity.
            const std::size_t offset =
                rng() % 4 == 0 ? rng() % (cap + 10) : rng() % (window / 4 + 1);
            const std::size_t len = rng() % (max_len + 1);
            Bytes data = stream(rcv_nxt + offset, len);
            // Now and then the segment goes through stage() first, as the checksum path does,
            // and now and then a damaged copy is staged and dropped.
            std::uint64_t sum = 0;
            const auto via = rng() % 4;
            ByteSpan to_write = data;
            if (via == 1) {
                const ByteSpan staged = rb.stage(offset, data, sum);
                if (!staged.empty()) {
                    EXPECT_EQ(sum, wire::checksum_accumulate(data));
                    to_write = staged;
                }
            } else if (via == 2) {
                Bytes damaged(len, std::byte{0xee});
                (void)rb.stage(offset, damaged, sum);
            }

            std::size_t expect = 0;
            if (len > 0 && offset < window) {
                const std::size_t end = std::min(offset + len, window);
                // Data that is at RCV.NXT or touches a byte held is never refused; a new
                // disjoint range is refused when 64 are held already.
                bool touches = offset == 0 || held.count(rcv_nxt + offset - 1) != 0;
                for (std::uint64_t p = rcv_nxt + offset; p <= rcv_nxt + end && !touches; ++p)
                    touches = held.count(p) != 0;
                if (touches || model_ranges().size() < 64) {
                    for (std::uint64_t p = rcv_nxt + offset; p < rcv_nxt + end; ++p)
                        held.insert(p);
                    while (!held.empty() && *held.begin() == rcv_nxt) {
                        held.erase(held.begin());
                        ++rcv_nxt;
                        ++expect;
                    }
                } else {
                    ++refused;
                }
            }
            EXPECT_EQ(rb.write(offset, to_write), expect) << "offset " << offset << " len " << len;
        } else if (op < 9) {
            Bytes out(rng() % (2 * max_len + 1));
            const bool peek = rng() % 4 == 0;
            const std::size_t n = peek ? rb.peek(out) : rb.read(out);
            EXPECT_EQ(n, std::min<std::size_t>(out.size(), rcv_nxt - read_pos));
            out.resize(n);
            EXPECT_EQ(out, stream(read_pos, n));
            if (!peek) read_pos += n;
        } else if (rng() % 8 == 0) {
            rb.drop_out_of_order();
            held.clear();
        }
        EXPECT_EQ(rb.readable(), rcv_nxt - read_pos);
        EXPECT_EQ(rb.free_space(), cap - (rcv_nxt - read_pos));
        EXPECT_EQ(ranges_of(rb), model_ranges());
        EXPECT_EQ(rb.out_of_order_bytes(), held.size());
        if (testing::Test::HasFailure()) break;
    }
    return refused;
}

}  // namespace

TEST(RecvBuffer, RandomAgainstModel) {
    for (std::uint64_t seed : {7u, 8u, 9u, 99u, 2024u, 31337u})
        run_recv_model(seed, 300, 3000);
}

// Tiny segments scattered over the window, so that the range limit is reached often.
TEST(RecvBuffer, RandomTinySegmentsAgainstModel) {
    int refused = 0;
    for (std::uint64_t seed : {11u, 12u, 13u, 14u})
        refused += run_recv_model(seed, 3, 4000);
    EXPECT_GT(refused, 0);
}
