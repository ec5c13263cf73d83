// TCP building blocks: sequence arithmetic, RTO estimation, SipHash and ISNs, NewReno windows.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>

#include "tcp/congestion.hpp"
#include "tcp/isn.hpp"
#include "tcp/rtt.hpp"
#include "tcp/seq.hpp"

using namespace ustack;
using namespace ustack::tcp;

// ---- SeqNum ----

TEST(SeqNum, WrapsAtTheTop) {
    const SeqNum top{0xffffffffu};
    const SeqNum zero{0};
    EXPECT_EQ(top + 1, zero);
    EXPECT_EQ(zero - 1, top);
    EXPECT_EQ(zero - top, 1);
    EXPECT_EQ(top - zero, -1);
    EXPECT_TRUE(top < zero);
    EXPECT_TRUE(zero > top);
    EXPECT_TRUE(top <= zero);
    EXPECT_FALSE(top >= zero);
    EXPECT_TRUE(SeqNum{0xfffffff0u} < SeqNum{0x10});
    EXPECT_EQ(SeqNum{0x10} - SeqNum{0xfffffff0u}, 0x20);
    SeqNum s{0xfffffffeu};
    s += 5;
    EXPECT_EQ(s, SeqNum{3});
}

TEST(SeqNum, HalfSpaceBoundary) {
    const SeqNum zero{0};
    // Within 2^31 - 1 of each other, the order is the order along the circle.
    EXPECT_TRUE(zero < SeqNum{0x7fffffffu});
    EXPECT_TRUE(SeqNum{0x7fffffffu} > zero);
    EXPECT_EQ(SeqNum{0x7fffffffu} - zero, INT32_MAX);
    // One more step and 0x80000001 is behind 0 rather than ahead.
    EXPECT_TRUE(SeqNum{0x80000001u} < zero);
    EXPECT_EQ(zero - SeqNum{0x80000001u}, INT32_MAX);
    // Across the middle of the number space nothing special happens.
    EXPECT_TRUE(SeqNum{0x7ffffff0u} < SeqNum{0x80000010u});
    EXPECT_EQ(SeqNum{0x80000010u} - SeqNum{0x7ffffff0u}, 0x20);
}

TEST(SeqNum, RangesAndExtremaAcrossWrap) {
    const SeqNum lo{0xfffffff0u};
    const SeqNum hi{0x10};
    EXPECT_TRUE(seq_in(SeqNum{0xffffffffu}, lo, hi));
    EXPECT_TRUE(seq_in(SeqNum{0}, lo, hi));
    EXPECT_TRUE(seq_in(lo, lo, hi));
    EXPECT_FALSE(seq_in(hi, lo, hi));
    EXPECT_FALSE(seq_in(SeqNum{0x20}, lo, hi));
    EXPECT_FALSE(seq_in(SeqNum{0xffffffe0u}, lo, hi));
    EXPECT_EQ(seq_max(lo, hi), hi);
    EXPECT_EQ(seq_min(lo, hi), lo);
    EXPECT_EQ(seq_max(hi, lo), hi);
    EXPECT_EQ(seq_min(hi, lo), lo);
}

// ---- RttEstimator (RFC 6298) ----

namespace {

RttEstimator linux_like() {
    return RttEstimator(1s, 200ms, 120s);
}

}  // namespace

TEST(RttEstimator, InitialRto) {
    RttEstimator e = linux_like();
    EXPECT_FALSE(e.has_sample());
    EXPECT_EQ(e.rto(), 1s);
    EXPECT_EQ(e.backoff_count(), 0u);
}

// Worked by hand with alpha = 1/8, beta = 1/4, K = 4, G = 0:
//   R = 100: SRTT = 100,      RTTVAR = 50,                           RTO = 100 + 200 = 300
//   R = 200: RTTVAR = 3/4*50 + 1/4*|100-200| = 62.5, SRTT = 7/8*100 + 200/8 = 112.5,
//            RTO = 112.5 + 250 = 362.5
//   R = 50:  RTTVAR = 3/4*62.5 + 1/4*|112.5-50| = 62.5, SRTT = 7/8*112.5 + 50/8 = 104.6875,
//            RTO = 104.6875 + 250 = 354.6875
//   R = 400: RTTVAR = 3/4*62.5 + 1/4*|104.6875-400| = 120.703125,
//            SRTT = 7/8*104.6875 + 400/8 = 141.6015625, RTO = 141.6015625 + 482.8125 = 624.4140625
// (all in ms). The estimator keeps whole nanoseconds, so the last SRTT loses its half nanosecond.
TEST(RttEstimator, Rfc6298Sequence) {
    RttEstimator e = linux_like();
    e.sample(100ms);
    EXPECT_TRUE(e.has_sample());
    EXPECT_EQ(e.srtt(), 100ms);
    EXPECT_EQ(e.rttvar(), 50ms);
    EXPECT_EQ(e.rto(), 300ms);

    e.sample(200ms);
    EXPECT_EQ(e.rttvar(), 62500us);
    EXPECT_EQ(e.srtt(), 112500us);
    EXPECT_EQ(e.rto(), 362500us);

    e.sample(50ms);
    EXPECT_EQ(e.rttvar(), 62500us);
    EXPECT_EQ(e.srtt(), 104687500ns);
    EXPECT_EQ(e.rto(), 354687500ns);

    e.sample(400ms);
    EXPECT_EQ(e.rttvar(), 120703125ns);
    EXPECT_EQ(e.srtt(), 141601562ns);
    EXPECT_EQ(e.rto(), 624414062ns);
    EXPECT_EQ(e.min_rtt(), 50ms);
}

TEST(RttEstimator, MinRtoFloorAndMaxCap) {
    RttEstimator e = linux_like();
    e.sample(10ms);  // 10 + 4*5 = 30 ms, below the floor
    EXPECT_EQ(e.rto(), 200ms);
    for (int i = 0; i < 50; ++i)
        e.sample(10ms);  // RTTVAR decays towards 0; the floor holds
    EXPECT_EQ(e.srtt(), 10ms);
    EXPECT_EQ(e.rto(), 200ms);

    RttEstimator slow = linux_like();
    slow.sample(100s);  // 100 + 4*50 = 300 s, above the cap
    EXPECT_EQ(slow.rto(), 120s);
}

TEST(RttEstimator, BackoffDoublesToTheCap) {
    RttEstimator e = linux_like();
    const Duration expected[] = {2s, 4s, 8s, 16s, 32s, 64s, 120s, 120s, 120s};
    for (Duration want : expected) {
        e.backoff();
        EXPECT_EQ(e.rto(), want);
    }
    EXPECT_EQ(e.backoff_count(), 9u);
    for (int i = 0; i < 100; ++i)
        e.backoff();
    EXPECT_EQ(e.rto(), 120s);
    e.reset_backoff();
    EXPECT_EQ(e.backoff_count(), 0u);
    EXPECT_EQ(e.rto(), 1s);
}

TEST(RttEstimator, BackoffFromMeasuredAndFlooredValues) {
    RttEstimator e = linux_like();
    e.sample(100ms);  // RTO 300 ms
    e.backoff();
    EXPECT_EQ(e.rto(), 600ms);
    e.backoff();
    EXPECT_EQ(e.rto(), 1200ms);
    // A valid sample (Karn: from a segment not retransmitted) ends the backoff.
    e.sample(100ms);
    EXPECT_EQ(e.backoff_count(), 0u);
    EXPECT_EQ(e.rttvar(), 37500us);
    EXPECT_EQ(e.rto(), 250ms);

    RttEstimator f = linux_like();
    f.sample(10ms);  // floored at 200 ms; the backoff doubles the floored value
    f.backoff();
    EXPECT_EQ(f.rto(), 400ms);
}

TEST(RttEstimator, DegenerateInputs) {
    RttEstimator e(0ms, 0ms, 0ms);
    for (int i = 0; i < 1000; ++i)
        e.backoff();
    EXPECT_EQ(e.rto(), 0ms);
    RttEstimator g = linux_like();
    g.sample(-5ms);  // a clock that went backwards counts as zero
    EXPECT_EQ(g.srtt(), 0ms);
    EXPECT_EQ(g.rto(), 200ms);
    RttEstimator h(1s, 200ms, Duration::max());
    for (int i = 0; i < 100; ++i)
        h.backoff();
    EXPECT_EQ(h.rto(), Duration::max());
}

// ---- SipHash-2-4 and ISNs ----

namespace {

constexpr std::array<std::uint8_t, 16> kSipKey = {0, 1, 2,  3,  4,  5,  6,  7,
                                                  8, 9, 10, 11, 12, 13, 14, 15};

// SipHash-2-4 outputs for key 00 01 .. 0f and messages 00 01 .. (n-1), n = 0..63, from the
// SipHash paper's test vectors (read as little-endian 64-bit values).
constexpr std::uint64_t kSipVectors[64] = {
    0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d,
    0xcf2794e0277187b7, 0x18765564cd99a68d, 0xcbc9466e58fee3ce, 0xab0200f58b01d137,
    0x93f5f5799a932462, 0x9e0082df0ba9e4b0, 0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7,
    0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee, 0xa129ca6149be45e5,
    0x3f2acc7f57c29bdb, 0x699ae9f52cbe4794, 0x4bc1b3f0968dd39c, 0xbb6dc91da77961bd,
    0xbed65cf21aa2ee98, 0xd0f2cbb02e3b67c7, 0x93536795e3a33e88, 0xa80c038ccd5ccec8,
    0xb8ad50c6f649af94, 0xbce192de8a85b8ea, 0x17d835b85bbb15f3, 0x2f2e6163076bcfad,
    0xde4daaaca71dc9a5, 0xa6a2506687956571, 0xad87a3535c49ef28, 0x32d892fad841c342,
    0x7127512f72f27cce, 0xa7f32346f95978e3, 0x12e0b01abb051238, 0x15e034d40fa197ae,
    0x314dffbe0815a3b4, 0x027990f029623981, 0xcadcd4e59ef40c4d, 0x9abfd8766a33735c,
    0x0e3ea96b5304a7d0, 0xad0c42d6fc585992, 0x187306c89bc215a9, 0xd4a60abcf3792b95,
    0xf935451de4f21df2, 0xa9538f0419755787, 0xdb9acddff56ca510, 0xd06c98cd5c0975eb,
    0xe612a3cb9ecba951, 0xc766e62cfcadaf96, 0xee64435a9752fe72, 0xa192d576b245165a,
    0x0a8787bf8ecb74b2, 0x81b3e73d20b49b6f, 0x7fa8220ba3b2ecea, 0x245731c13ca42499,
    0xb78dbfaf3a8d83bd, 0xea1ad565322a1a0b, 0x60e61c23a3795013, 0x6606d7e446282b93,
    0x6ca4ecb15c5f91e1, 0x9f626da15c9625f3, 0xe51b38608ef25f57, 0x958a324ceb064572,
};

}  // namespace

TEST(SipHash, ReferenceVectors) {
    std::uint8_t msg[64];
    for (int i = 0; i < 64; ++i)
        msg[i] = static_cast<std::uint8_t>(i);
    for (std::size_t n = 0; n < 64; ++n)
        EXPECT_EQ(siphash24(kSipKey, msg, n), kSipVectors[n]) << "length " << n;
    EXPECT_EQ(siphash24(kSipKey, nullptr, 0), kSipVectors[0]);
}

TEST(SipHash, KeyMatters) {
    std::array<std::uint8_t, 16> other = kSipKey;
    other[15] ^= 1;
    const std::uint8_t msg[3] = {0, 1, 2};
    EXPECT_NE(siphash24(other, msg, 3), kSipVectors[3]);
}

TEST(Isn, ClockTicksEveryFourMicroseconds) {
    const IsnGenerator gen(kSipKey);
    const wire::Ipv4Addr a(10, 0, 0, 1);
    const wire::Ipv4Addr b(10, 0, 0, 2);
    const std::uint32_t base = gen.isn(a, 40000, b, 80, Instant{0});
    EXPECT_EQ(static_cast<std::uint32_t>(gen.hash(a, 40000, b, 80)), base);
    EXPECT_EQ(gen.isn(a, 40000, b, 80, Instant{3999ns}), base);
    EXPECT_EQ(gen.isn(a, 40000, b, 80, Instant{4us}), base + 1);
    EXPECT_EQ(gen.isn(a, 40000, b, 80, Instant{1s}), base + 250000);
    // 2^32 ticks later (about 4.77 hours) the clock has gone once round.
    EXPECT_EQ(gen.isn(a, 40000, b, 80, Instant{4us * (std::int64_t{1} << 32)}), base);
}

TEST(Isn, DependsOnEveryInput) {
    const IsnGenerator gen(kSipKey);
    const wire::Ipv4Addr a(10, 0, 0, 1);
    const wire::Ipv4Addr b(10, 0, 0, 2);
    const Instant t = 123456789ns;
    const std::uint32_t base = gen.isn(a, 40000, b, 80, t);
    EXPECT_EQ(gen.isn(a, 40000, b, 80, t), base);  // deterministic
    EXPECT_NE(gen.isn(b, 40000, a, 80, t), base);
    EXPECT_NE(gen.isn(a, 80, b, 40000, t), base);
    EXPECT_NE(gen.isn(a, 40001, b, 80, t), base);
    EXPECT_NE(gen.isn(a, 40000, wire::Ipv4Addr(10, 0, 0, 3), 80, t), base);
    EXPECT_NE(gen.hash(a, 40000, b, 80, 1), gen.hash(a, 40000, b, 80, 0));
    std::array<std::uint8_t, 16> other = kSipKey;
    other[0] = 0xa5;
    EXPECT_NE(IsnGenerator(other).isn(a, 40000, b, 80, t), base);
}

// ---- NewReno ----

namespace {

constexpr std::uint32_t kMss = 1000;

std::uint32_t cwnd(const CongestionControl& cc) {
    return cc.state().cwnd;
}
std::uint32_t ssthresh(const CongestionControl& cc) {
    return cc.state().ssthresh;
}

}  // namespace

TEST(NewReno, InitialWindow) {
    auto cc = make_newreno();
    EXPECT_EQ(cc->name(), "newreno");
    cc->init(kMss, 10);
    EXPECT_EQ(cwnd(*cc), 10000u);
    EXPECT_EQ(ssthresh(*cc), UINT32_MAX);
}

TEST(NewReno, SlowStartCountsBytesUpToTwoSegmentsPerAckWithRfc3465Limit) {
    auto cc = make_newreno(2);
    cc->init(kMss, 10);
    cc->on_ack(1000, 9000, 0ns);
    EXPECT_EQ(cwnd(*cc), 11000u);
    cc->on_ack(2000, 9000, 0ns);  // a delayed ACK for two segments
    EXPECT_EQ(cwnd(*cc), 13000u);
    cc->on_ack(5000, 9000, 0ns);  // RFC 3465: at most L = 2 * SMSS
    EXPECT_EQ(cwnd(*cc), 15000u);
    cc->on_ack(300, 9000, 0ns);  // a partial segment counts its bytes
    EXPECT_EQ(cwnd(*cc), 15300u);
    cc->on_ack(0, 9000, 0ns);
    EXPECT_EQ(cwnd(*cc), 15300u);
    // One round trip of full-sized segments, each acknowledged, doubles the window.
    auto fresh = make_newreno(2);
    fresh->init(kMss, 10);
    for (int i = 0; i < 10; ++i)
        fresh->on_ack(kMss, 10000, 0ns);
    EXPECT_EQ(cwnd(*fresh), 20000u);
}

TEST(NewReno, SlowStartWithoutLimitGrowsByEverythingAStretchAckCovers) {
    auto cc = make_newreno();  // Linux's default: no per-ACK limit
    cc->init(kMss, 10);
    cc->on_ack(10000, 10000, 0ns);  // one ACK for the whole initial window
    EXPECT_EQ(cwnd(*cc), 20000u);
}

TEST(NewReno, FastRecoveryEnterAndExit) {
    auto cc = make_newreno();
    cc->init(kMss, 10);
    for (int i = 0; i < 10; ++i)
        cc->on_ack(kMss, 10000, 0ns);
    ASSERT_EQ(cwnd(*cc), 20000u);
    // RFC 6582 3.2 step 2: ssthresh = max(FlightSize / 2, 2 * SMSS), cwnd = ssthresh + 3 * SMSS.
    cc->on_enter_recovery(20000);
    EXPECT_EQ(ssthresh(*cc), 10000u);
    EXPECT_EQ(cwnd(*cc), 13000u);
    // Step 3, option 1: cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS).
    cc->on_exit_recovery(15000);
    EXPECT_EQ(cwnd(*cc), 10000u);
    cc->on_enter_recovery(20000);
    cc->on_exit_recovery(4000);
    EXPECT_EQ(cwnd(*cc), 5000u);
    cc->on_enter_recovery(20000);
    cc->on_exit_recovery(0);
    EXPECT_EQ(cwnd(*cc), 2000u);
    // A small flight still leaves ssthresh at two segments.
    cc->on_enter_recovery(1500);
    EXPECT_EQ(ssthresh(*cc), 2000u);
    EXPECT_EQ(cwnd(*cc), 5000u);
}

TEST(NewReno, CongestionAvoidanceAddsOneSegmentPerWindow) {
    auto cc = make_newreno();
    cc->init(kMss, 10);
    cc->on_ack(10000, 10000, 0ns);  // limited to +2000: 12000
    cc->on_enter_recovery(20000);   // ssthresh 10000
    cc->on_exit_recovery(20000);    // cwnd 10000 == ssthresh: congestion avoidance
    ASSERT_EQ(cwnd(*cc), 10000u);
    for (int i = 0; i < 9; ++i) {
        cc->on_ack(kMss, 10000, 0ns);
        EXPECT_EQ(cwnd(*cc), 10000u);
    }
    cc->on_ack(kMss, 10000, 0ns);  // a whole window acknowledged
    EXPECT_EQ(cwnd(*cc), 11000u);
    for (int i = 0; i < 10; ++i)
        cc->on_ack(kMss, 11000, 0ns);
    EXPECT_EQ(cwnd(*cc), 11000u);
    cc->on_ack(kMss, 11000, 0ns);  // the 11th segment of the 11000-byte window
    EXPECT_EQ(cwnd(*cc), 12000u);
    // Partial segments accumulate too.
    for (int i = 0; i < 24; ++i)
        cc->on_ack(500, 12000, 0ns);
    EXPECT_EQ(cwnd(*cc), 13000u);
    EXPECT_EQ(ssthresh(*cc), 10000u);
}

TEST(NewReno, RetransmissionTimeoutAndSlowStartToThreshold) {
    auto cc = make_newreno();
    cc->init(kMss, 10);
    cc->on_rto(30000);
    EXPECT_EQ(ssthresh(*cc), 15000u);
    EXPECT_EQ(cwnd(*cc), 1000u);
    cc->on_ack(1000, 1000, 0ns);
    EXPECT_EQ(cwnd(*cc), 2000u);
    cc->on_ack(2000, 2000, 0ns);
    cc->on_ack(2000, 2000, 0ns);
    cc->on_ack(2000, 2000, 0ns);
    cc->on_ack(2000, 2000, 0ns);
    cc->on_ack(2000, 2000, 0ns);
    cc->on_ack(2000, 2000, 0ns);
    EXPECT_EQ(cwnd(*cc), 14000u);
    // Crossing ssthresh: cwnd stops at 15000 and the other 1000 bytes count towards avoidance.
    cc->on_ack(2000, 14000, 0ns);
    EXPECT_EQ(cwnd(*cc), 15000u);
    for (int i = 0; i < 13; ++i)
        cc->on_ack(kMss, 15000, 0ns);
    EXPECT_EQ(cwnd(*cc), 15000u);
    cc->on_ack(kMss, 15000, 0ns);  // 1000 + 14 * 1000 = one window
    EXPECT_EQ(cwnd(*cc), 16000u);
    // A timeout with little in flight still leaves ssthresh at two segments.
    cc->on_rto(1000);
    EXPECT_EQ(ssthresh(*cc), 2000u);
    EXPECT_EQ(cwnd(*cc), 1000u);
}

TEST(NewReno, MssChangeAndExtremes) {
    auto cc = make_newreno(2);
    cc->init(kMss, 10);
    cc->set_mss(500);
    cc->on_ack(5000, 0, 0ns);
    EXPECT_EQ(cwnd(*cc), 11000u);  // the limit follows the new MSS
    cc->on_rto(0);
    EXPECT_EQ(cwnd(*cc), 500u);
    EXPECT_EQ(ssthresh(*cc), 1000u);

    auto big = make_newreno();
    big->init(UINT32_MAX / 2, 10);  // saturates rather than wraps
    EXPECT_EQ(cwnd(*big), UINT32_MAX);
    big->on_ack(UINT32_MAX, UINT32_MAX, 0ns);
    EXPECT_EQ(cwnd(*big), UINT32_MAX);
    big->on_enter_recovery(UINT32_MAX);
    EXPECT_EQ(cwnd(*big), UINT32_MAX);

    auto zero = make_newreno();
    zero->init(0, 0);  // nonsense in, a usable window out
    EXPECT_GE(cwnd(*zero), 1u);
    zero->on_ack(100, 0, 0ns);
    EXPECT_GT(cwnd(*zero), 1u);
}
