// CUBIC (RFC 9438) windows: slow start, the multiplicative decrease, fast convergence, the
// concave and convex cubic growth, the Reno-friendly region and timeouts. Expected values come
// from the RFC's formulas with beta = 0.7 and C = 0.4; where the window (moving in whole
// segments, one ACK at a time) may trail the curve, the bounds say by how much.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>

#include "tcp/congestion.hpp"

using namespace ustack;
using namespace ustack::tcp;

namespace {

constexpr std::uint32_t kMss = 1000;
constexpr double kC = 0.4;
constexpr double kBeta = 0.7;

std::uint32_t cwnd(const CongestionControl& cc) {
    return cc.state().cwnd;
}
std::uint32_t ssthresh(const CongestionControl& cc) {
    return cc.state().ssthresh;
}

// RFC 9438 equation 2, in segments and seconds.
double cubic_k(double w_max_segments, double cwnd_start_segments) {
    return std::cbrt((w_max_segments - cwnd_start_segments) / kC);
}

// RFC 9438 equation 1, in bytes of kMss-sized segments.
double w_cubic_bytes(double t, double k, double w_max_segments) {
    return (kC * std::pow(t - k, 3) + w_max_segments) * kMss;
}

// An ACK clock: each round trip acknowledges the whole window in one-segment ACKs spread evenly
// over the round trip, as a sender that always has data would see.
struct AckClock {
    CongestionControl& cc;
    Duration rtt;
    Instant start = 1000s;  // congestion avoidance begins with the first ACK, here
    Instant now = start;

    void round() {
        const std::uint32_t segments = cwnd(cc) / kMss;
        const Instant begin = now;
        for (std::uint32_t i = 0; i < segments; ++i)
            cc.on_ack(kMss, cwnd(cc), begin + rtt * i / segments);
        now = begin + rtt;
    }
    // Rounds until `t` seconds have passed since the start (the last round ends at or after t).
    void run_until(double t) {
        while (elapsed() < t)
            round();
    }
    double elapsed() const { return std::chrono::duration<double>(now - start).count(); }
};

// A connection in congestion avoidance after a fast-recovery episode that began at a window of
// `segments`: W_max = segments, cwnd = ssthresh = 0.7 * segments.
void lose_at(CongestionControl& cc, std::uint32_t segments) {
    cc.init(kMss, segments);
    cc.on_enter_recovery(segments * kMss);
    cc.on_exit_recovery(segments * kMss);
}

}  // namespace

TEST(Cubic, InitialWindow) {
    auto cc = make_cubic();
    EXPECT_EQ(cc->name(), "cubic");
    cc->init(kMss, 10);
    EXPECT_EQ(cwnd(*cc), 10000u);
    EXPECT_EQ(ssthresh(*cc), UINT32_MAX);
}

TEST(Cubic, SlowStartDoublesPerRoundTripCountingBytes) {
    // One round trip of full-sized segments, each acknowledged, doubles the window.
    auto cc = make_cubic();
    cc->init(kMss, 10);
    for (int i = 0; i < 10; ++i)
        cc->on_ack(kMss, 10000, 0ns);
    EXPECT_EQ(cwnd(*cc), 20000u);
    for (int i = 0; i < 20; ++i)
        cc->on_ack(kMss, 20000, 1ms);
    EXPECT_EQ(cwnd(*cc), 40000u);
    cc->on_ack(300, 40000, 2ms);  // a partial segment counts its bytes
    EXPECT_EQ(cwnd(*cc), 40300u);
    cc->on_ack(0, 40000, 2ms);
    EXPECT_EQ(cwnd(*cc), 40300u);
    // Linux's default: a stretch ACK grows it by everything it acknowledges...
    auto stretch = make_cubic();
    stretch->init(kMss, 10);
    stretch->on_ack(10000, 10000, 0ns);
    EXPECT_EQ(cwnd(*stretch), 20000u);
    // ...and with RFC 3465's L = 2 by at most two segments.
    auto limited = make_cubic(2);
    limited->init(kMss, 10);
    limited->on_ack(5000, 10000, 0ns);
    EXPECT_EQ(cwnd(*limited), 12000u);
    EXPECT_EQ(ssthresh(*limited), UINT32_MAX);
}

TEST(Cubic, EnterRecoveryReducesByBetaFromCwndAndExitDeflates) {
    auto cc = make_cubic();
    cc->init(kMss, 10);
    for (int i = 0; i < 10; ++i)
        cc->on_ack(kMss, 10000, 0ns);
    ASSERT_EQ(cwnd(*cc), 20000u);
    // RFC 9438 4.6 from cwnd (not FlightSize): ssthresh = 0.7 * 20000; cwnd = ssthresh + 3 MSS.
    cc->on_enter_recovery(5000);
    EXPECT_EQ(ssthresh(*cc), 14000u);
    EXPECT_EQ(cwnd(*cc), 17000u);
    // RFC 6582 3.2 step 3, option 1: cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS).
    cc->on_exit_recovery(15000);
    EXPECT_EQ(cwnd(*cc), 14000u);
    cc->on_enter_recovery(20000);  // 0.7 * 14000
    EXPECT_EQ(ssthresh(*cc), 9800u);
    EXPECT_EQ(cwnd(*cc), 12800u);
    cc->on_exit_recovery(4000);
    EXPECT_EQ(cwnd(*cc), 5000u);
    cc->on_enter_recovery(20000);  // 0.7 * 5000 = 3500
    cc->on_exit_recovery(0);
    EXPECT_EQ(cwnd(*cc), 2000u);
    // A small window still leaves ssthresh at two segments.
    cc->on_enter_recovery(20000);
    EXPECT_EQ(ssthresh(*cc), 2000u);
    EXPECT_EQ(cwnd(*cc), 5000u);
}

TEST(Cubic, ConcaveGrowthReachesWmaxAtK) {
    // Loss at 1000 segments: W_max = 1000, cwnd_start = 700, K = cbrt(300 / 0.4) = 9.09 s.
    // With a 100 ms round trip, Reno's estimate (700 + 0.53 per round trip, 748 at K) stays
    // below the curve: this is the concave region throughout.
    auto cc = make_cubic();
    lose_at(*cc, 1000);
    ASSERT_EQ(ssthresh(*cc), 700000u);
    ASSERT_EQ(cwnd(*cc), 700000u);
    const double k = cubic_k(1000, 700);
    ASSERT_NEAR(k, 9.0856, 1e-4);
    AckClock clock{*cc, 100ms};
    std::uint32_t previous = cwnd(*cc);
    std::uint32_t previous_gain = UINT32_MAX;
    for (int second = 1; second <= 9; ++second) {
        clock.run_until(second);
        const double t = clock.elapsed();
        // Never ahead of the curve by a segment or more; behind it by at most one round trip
        // of its growth and one segment (the target is W_cubic(t), not t + RTT).
        EXPECT_LT(cwnd(*cc), w_cubic_bytes(t, k, 1000) + kMss) << "t=" << t;
        EXPECT_GT(cwnd(*cc), w_cubic_bytes(t - 0.1, k, 1000) - kMss) << "t=" << t;
        // Concave: each second adds less than the one before.
        const std::uint32_t gain = cwnd(*cc) - previous;
        EXPECT_LT(gain, previous_gain) << "t=" << t;
        previous_gain = gain;
        previous = cwnd(*cc);
    }
    // At t = K the window is W_max, to within one segment.
    clock.run_until(k);
    EXPECT_NEAR(double(cwnd(*cc)), 1000.0 * kMss, kMss) << "t=" << clock.elapsed();
    // And it stays there, on the plateau, for a while: W_cubic(K + 1) = 1000.4 segments.
    clock.run_until(k + 1);
    EXPECT_NEAR(double(cwnd(*cc)), 1000.0 * kMss, kMss);
}

TEST(Cubic, ConvexGrowthBeyondWmax) {
    auto cc = make_cubic();
    lose_at(*cc, 1000);
    const double k = cubic_k(1000, 700);
    AckClock clock{*cc, 100ms};
    clock.run_until(k);
    std::uint32_t previous = cwnd(*cc);
    std::uint32_t previous_gain = 0;
    for (int second = 2; second <= 8; second += 2) {
        clock.run_until(k + second);
        const double t = clock.elapsed();
        // W_cubic(K + 2) = 1003.2, (K + 4) = 1025.6, (K + 6) = 1086.4, (K + 8) = 1204.8.
        EXPECT_LT(cwnd(*cc), w_cubic_bytes(t, k, 1000) + kMss) << "t=" << t;
        EXPECT_GT(cwnd(*cc), w_cubic_bytes(t - 0.1, k, 1000) - kMss) << "t=" << t;
        // Convex: each interval adds more than the one before.
        const std::uint32_t gain = cwnd(*cc) - previous;
        EXPECT_GT(gain, previous_gain) << "t=" << t;
        previous_gain = gain;
        previous = cwnd(*cc);
    }
    EXPECT_GT(cwnd(*cc), 1190000u);
    // The per-round-trip target is capped at 1.5 cwnd (RFC 9438 4.2): far beyond K, where
    // W_cubic is many times cwnd, one round trip grows the window by less than half.
    const std::uint32_t before = cwnd(*cc);
    // A minute later (the interface cannot tell idle time from congestion avoidance, so t
    // includes it), W_cubic is far above 1.5 cwnd.
    clock.now += 60s;
    clock.round();
    EXPECT_GT(cwnd(*cc), before + before / 4);
    EXPECT_LE(cwnd(*cc), before + before / 2 + kMss);
}

TEST(Cubic, FastConvergenceLowersWmaxBelowThePreviousOne) {
    auto cc = make_cubic();
    lose_at(*cc, 1000);  // W_max = 1000
    // A second loss before the window is back at W_max: W_max = 700 * (1 + 0.7) / 2 = 595
    // segments, ssthresh = 0.7 * 700 = 490 segments; K = cbrt(105 / 0.4) = 6.40 s.
    cc->on_enter_recovery(700000);
    EXPECT_EQ(ssthresh(*cc), 490000u);
    EXPECT_EQ(cwnd(*cc), 493000u);
    cc->on_exit_recovery(700000);
    ASSERT_EQ(cwnd(*cc), 490000u);
    const double w_max = 700 * (1 + kBeta) / 2;
    ASSERT_DOUBLE_EQ(w_max, 595.0);
    const double k = cubic_k(w_max, 490);
    AckClock clock{*cc, 100ms};
    clock.run_until(k);
    // The plateau is at 595 segments; without fast convergence (W_max = 700, K = 8.07 s) the
    // window would be at 0.4 * (6.40 - 8.07)^3 + 700 = 698.2 segments by now.
    EXPECT_NEAR(double(cwnd(*cc)), w_max * kMss, kMss);
    clock.run_until(k + 1);
    EXPECT_NEAR(double(cwnd(*cc)), w_max * kMss, kMss);
    EXPECT_LT(cwnd(*cc), 600000u);
}

TEST(Cubic, LossAboveWmaxRemembersTheWholeWindow) {
    auto cc = make_cubic();
    lose_at(*cc, 1000);
    const double k = cubic_k(1000, 700);
    AckClock clock{*cc, 100ms};
    clock.run_until(k + 8);
    const std::uint32_t at_loss = cwnd(*cc);
    ASSERT_GT(at_loss, 1190000u);
    // Above the old W_max: no fast convergence, W_max = cwnd.
    cc->on_enter_recovery(at_loss);
    EXPECT_EQ(ssthresh(*cc), std::uint32_t(std::uint64_t{at_loss} * 7 / 10));
    cc->on_exit_recovery(at_loss);
    const double w_max = double(at_loss) / kMss;
    const double k2 = cubic_k(w_max, double(ssthresh(*cc)) / kMss);
    AckClock again{*cc, 100ms, clock.now, clock.now};
    again.run_until(k2);
    EXPECT_NEAR(double(cwnd(*cc)), double(at_loss), kMss);
}

TEST(Cubic, RenoFriendlyRegionDominatesSmallWindowsAndShortRoundTrips) {
    // Loss at 20 segments: W_max = 20, cwnd_start = 14, K = cbrt(6 / 0.4) = 2.47 s. With a 1 ms
    // round trip the cubic curve hardly moves (W_cubic(40 ms) = 14.3 segments) while Reno's
    // estimate grows by alpha_cubic = 3 * 0.3 / 1.7 = 9/17 segment per round trip...
    auto cc = make_cubic();
    lose_at(*cc, 20);
    ASSERT_EQ(cwnd(*cc), 14000u);
    const double k = cubic_k(20, 14);
    AckClock clock{*cc, 1ms};
    for (int i = 0; i < 10; ++i)
        clock.round();
    EXPECT_LT(w_cubic_bytes(clock.elapsed(), k, 20), 14100.0);
    // W_est = 14 + 10 rounds of 9/17 * (acked / cwnd), with cwnd at most one segment above
    // the round's first window: between 14 + 5.29 * 14/15 = 18.94 and 14 + 5.29 segments,
    // and cwnd follows it in whole segments.
    EXPECT_GE(cwnd(*cc), 18000u);
    EXPECT_LE(cwnd(*cc), 19000u);
    // ...and by Reno's full segment per round trip once W_est is back at the window of the
    // loss (RFC 9438 4.3, prior_cwnd = 20 segments).
    while (cwnd(*cc) < 20000)
        clock.round();
    ASSERT_EQ(cwnd(*cc), 20000u);
    for (int i = 0; i < 10; ++i)
        clock.round();
    // W_est was in [20, 21) segments; each round adds between 20/21 and 1 segment, so W_est is
    // in [29.5, 31) and cwnd 29 or 30 segments. Alpha_cubic would have given about 25.
    EXPECT_GE(cwnd(*cc), 29000u);
    EXPECT_LE(cwnd(*cc), 30000u);
    EXPECT_LT(w_cubic_bytes(clock.elapsed(), k, 20), 14300.0);
}

TEST(Cubic, RetransmissionTimeoutCollapsesToOneSegment) {
    auto cc = make_cubic();
    cc->init(kMss, 10);
    for (int i = 0; i < 10; ++i)
        cc->on_ack(kMss, 10000, 0ns);
    ASSERT_EQ(cwnd(*cc), 20000u);
    // RFC 9438 4.8: ssthresh = 0.7 * cwnd, cwnd = 1 MSS.
    cc->on_rto(3000);
    EXPECT_EQ(ssthresh(*cc), 14000u);
    EXPECT_EQ(cwnd(*cc), 1000u);
    // A backed-off timeout before anything new is acknowledged does not reduce again.
    cc->on_rto(3000);
    EXPECT_EQ(ssthresh(*cc), 14000u);
    EXPECT_EQ(cwnd(*cc), 1000u);
    // Slow start back to ssthresh; the bytes beyond it count towards congestion avoidance.
    cc->on_ack(1000, 1000, 1s);
    EXPECT_EQ(cwnd(*cc), 2000u);
    for (int i = 0; i < 6; ++i)
        cc->on_ack(2000, 2000, 1s);
    EXPECT_EQ(cwnd(*cc), 14000u);
    // A new timeout, after new data was acknowledged, is a new congestion event.
    cc->on_rto(14000);
    EXPECT_EQ(ssthresh(*cc), 9800u);
    EXPECT_EQ(cwnd(*cc), 1000u);
    // A timeout during fast recovery keeps the recovery's ssthresh.
    auto rec = make_cubic();
    rec->init(kMss, 20);
    rec->on_enter_recovery(20000);
    ASSERT_EQ(cwnd(*rec), 17000u);
    rec->on_rto(20000);
    EXPECT_EQ(ssthresh(*rec), 14000u);
    EXPECT_EQ(cwnd(*rec), 1000u);
    // Tiny windows: ssthresh is at least two segments.
    auto small = make_cubic();
    small->init(kMss, 1);
    small->on_rto(1000);
    EXPECT_EQ(ssthresh(*small), 2000u);
    EXPECT_EQ(cwnd(*small), 1000u);
}

TEST(Cubic, FirstCongestionAvoidanceAfterTimeoutProbesFromItsStart) {
    // RFC 9438 4.8: after a timeout, K = 0 and W_max = the window when congestion avoidance
    // begins, so the window grows convexly from there (W_cubic(t) = 700 + 0.4 t^3 segments)
    // instead of climbing back towards the 1000 segments of before the timeout (which would
    // be 0.4 * (6 - 9.09)^3 + 1000 = 988 segments at t = 6 s).
    auto cc = make_cubic();
    cc->init(kMss, 1000);
    cc->on_rto(1000000);
    ASSERT_EQ(ssthresh(*cc), 700000u);
    ASSERT_EQ(cwnd(*cc), 1000u);
    // One stretch ACK takes slow start exactly to ssthresh: congestion avoidance starts here.
    cc->on_ack(699000, 1000, 1000s);
    ASSERT_EQ(cwnd(*cc), 700000u);
    AckClock ca{*cc, 100ms};
    ca.run_until(6);
    const double t = ca.elapsed();
    EXPECT_LT(cwnd(*cc), w_cubic_bytes(t, 0, 700) + kMss);
    EXPECT_GT(cwnd(*cc), w_cubic_bytes(t - 0.1, 0, 700) - kMss);
    // Near t = 0 the Reno-friendly estimate leads: about 700 + 9/17 per round trip.
    auto early = make_cubic();
    early->init(kMss, 1000);
    early->on_rto(1000000);
    early->on_ack(699000, 1000, 1000s);
    AckClock ca2{*early, 100ms};
    ca2.run_until(1);  // W_cubic(1) = 700.4, W_est = 705.3 segments
    EXPECT_GE(cwnd(*early), 704000u);
    EXPECT_LE(cwnd(*early), 705000u);
}

TEST(Cubic, MssChangeAndExtremes) {
    auto cc = make_cubic(2);
    cc->init(kMss, 10);
    cc->set_mss(500);
    cc->on_ack(5000, 0, 0ns);
    EXPECT_EQ(cwnd(*cc), 11000u);  // the slow-start limit follows the new MSS
    cc->on_rto(0);
    EXPECT_EQ(cwnd(*cc), 500u);
    EXPECT_EQ(ssthresh(*cc), 7700u);

    auto big = make_cubic();
    big->init(UINT32_MAX / 2, 10);  // saturates rather than wraps
    EXPECT_EQ(cwnd(*big), UINT32_MAX);
    big->on_ack(UINT32_MAX, UINT32_MAX, 0ns);
    EXPECT_EQ(cwnd(*big), UINT32_MAX);
    big->on_enter_recovery(UINT32_MAX);
    EXPECT_EQ(cwnd(*big), UINT32_MAX);
    big->on_exit_recovery(UINT32_MAX);
    big->on_ack(UINT32_MAX, UINT32_MAX, 1s);
    big->on_ack(UINT32_MAX, UINT32_MAX, 100s);
    EXPECT_GE(cwnd(*big), ssthresh(*big));

    auto zero = make_cubic();
    zero->init(0, 0);  // nonsense in, a usable window out
    EXPECT_GE(cwnd(*zero), 1u);
    zero->on_ack(100, 0, 0ns);
    EXPECT_GT(cwnd(*zero), 1u);

    // Time that runs backwards (an ACK stamped before the epoch began) counts as t = 0, and a
    // stretch ACK in congestion avoidance grows by at most the 1.5 cwnd bound at once.
    auto odd = make_cubic();
    lose_at(*odd, 100);
    odd->on_ack(kMss, 70000, 10s);
    odd->on_ack(kMss, 70000, 5s);
    EXPECT_EQ(cwnd(*odd), 70000u);
    odd->on_ack(UINT32_MAX, 70000, 1000s);
    EXPECT_EQ(cwnd(*odd), 105000u);
}
