// SACK-based loss recovery: the scoreboard, RACK's loss detection and reordering timer
// (RFC 8985), PRR's pacing (RFC 6937), and retransmissions that keep the segments (and record
// ends) they were first sent as.
#include "segment/harness.hpp"

using namespace ustack;
using namespace ustack::testing;

class SackRecovery : public ConnectedHarness {
  protected:
    void SetUp() override {
        cfg.tcp.timestamps = false;
        // NewReno's ssthresh (half the flight) keeps PRR's arithmetic in round numbers.
        cfg.tcp.congestion = TcpConfig::Congestion::kNewReno;
        start();
        // The peer offers MSS 1000 and SACK; no window scaling. The handshake takes 8 ms: the
        // first RTT sample, and the minimum RTT RACK's reordering window is made of.
        open(syn_opts(1000, std::nullopt, true), std::chrono::milliseconds(8));
        ASSERT_TRUE(stack->tcp_info(c)->sack);
    }
    std::uint32_t at(std::uint32_t off) const { return iss + 1 + off; }
    wire::TcpOptions sack(std::uint32_t left, std::uint32_t right) const {
        wire::TcpOptions o;
        o.sack_blocks[0] = wire::SackBlock{at(left), at(right)};
        o.sack_count = 1;
        return o;
    }
    // Writes n segments' worth (1000 bytes each), all sent at once; returns them.
    std::vector<Seg> burst(std::size_t n) {
        auto data = pattern(n * 1000);
        auto w = stack->tcp_send(c, data);
        EXPECT_TRUE(w);
        auto v = sent();
        EXPECT_EQ(v.size(), n) << describe(v);
        return v;
    }
};

TEST_F(SackRecovery, ThreeSackedSegmentsAboveAHoleResendItAtOnce) {
    auto v = burst(6);
    advance(std::chrono::milliseconds(10));
    // Segment 2 (1000:2000) is lost; the peer SACKs 2000:5000 after acknowledging the first.
    inject(A, 5001, at(1000), 65535, {}, sack(2000, 5000));
    Seg r = one();
    EXPECT_EQ(r.seq, at(1000));
    EXPECT_EQ(r.data, v[1].data);
    EXPECT_TRUE(stack->tcp_info(c)->in_recovery);
    EXPECT_EQ(stack->counters().tcp.fast_retrans, 1u);
    EXPECT_EQ(stack->tcp_info(c)->total_retrans, 1u);
    // The hole filled: recovery ends with everything acknowledged, nothing more is resent.
    inject(A, 5001, at(6000), 65535);
    nothing();
    EXPECT_FALSE(stack->tcp_info(c)->in_recovery);
    advance(std::chrono::seconds(2));
    nothing();
}

TEST_F(SackRecovery, FewerSackedSegmentsWaitForTheReorderingWindow) {
    burst(4);
    advance(std::chrono::milliseconds(8));
    inject(A, 5001, at(1000), 65535);  // an 8 ms RTT sample: min_rtt 8 ms
    advance(std::chrono::milliseconds(1));
    // One segment SACKed above the hole: not yet DupThresh, so RACK waits min_rtt / 4 (2 ms)
    // plus the timer floor (2 ms) before calling 1000:2000 lost.
    inject(A, 5001, at(1000), 65535, {}, sack(2000, 3000));
    nothing();
    EXPECT_FALSE(stack->tcp_info(c)->in_recovery);
    advance(std::chrono::microseconds(3900));
    nothing();
    advance(std::chrono::microseconds(200));
    Seg r = one();
    EXPECT_EQ(r.seq, at(1000));
    EXPECT_EQ(r.data.size(), 1000u);
    EXPECT_TRUE(stack->tcp_info(c)->in_recovery);
}

TEST_F(SackRecovery, ReorderedDataThatArrivesInTimeIsNotResent) {
    burst(4);
    advance(std::chrono::milliseconds(8));
    inject(A, 5001, at(1000), 65535);
    inject(A, 5001, at(1000), 65535, {}, sack(2000, 3000));
    advance(std::chrono::milliseconds(1));
    inject(A, 5001, at(4000), 65535);  // the "hole" arrived after all
    advance(std::chrono::seconds(1));
    auto v = sent();
    for (const auto& s : v)
        EXPECT_NE(s.seq, at(1000)) << "resent data that was only reordered";
    EXPECT_EQ(stack->tcp_info(c)->total_retrans, 0u);
}

TEST_F(SackRecovery, RetransmissionsKeepRecordEnds) {
    ASSERT_TRUE(stack->tcp_set_nodelay(c, true));
    // Three 400-byte records, sent as three segments.
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(stack->tcp_send(c, pattern(400), false, true));
    ASSERT_TRUE(stack->tcp_send(c, pattern(3000)));
    auto v = sent();
    ASSERT_EQ(v.size(), 6u) << describe(v);
    advance(std::chrono::milliseconds(5));
    // The records are lost, the 3000 bytes after them arrive: each record goes again alone.
    inject(A, 5001, at(0), 65535, {}, sack(1200, 4200));
    auto r = sent();
    ASSERT_GE(r.size(), 1u);
    for (std::size_t i = 0; i < r.size(); ++i) {
        EXPECT_EQ(r[i].seq, at(static_cast<std::uint32_t>(400 * i)));
        EXPECT_EQ(r[i].data.size(), 400u);
        EXPECT_EQ(r[i].flags, P | A);
    }
    // Whatever PRR held back goes as the peer acknowledges; still one record per segment.
    std::uint32_t next = static_cast<std::uint32_t>(400 * r.size());
    for (int round = 0; round < 3 && next < 1200; ++round) {
        inject(A, 5001, at(next), 65535, {}, sack(1200, 4200));
        for (const auto& s : sent()) {
            EXPECT_EQ(s.seq, at(next));
            EXPECT_EQ(s.data.size(), 400u);
            next += 400;
        }
    }
    EXPECT_EQ(next, 1200u);
    inject(A, 5001, at(4200), 65535);
    EXPECT_EQ(stack->tcp_info(c)->bytes_acked, 4200u);
}

TEST_F(SackRecovery, PrrPacesSendingInProportionToWhatIsDelivered) {
    ASSERT_TRUE(stack->tcp_send(c, pattern(20000)));
    ASSERT_EQ(sent().size(), 10u);  // the initial window; 10 segments wait
    advance(std::chrono::milliseconds(5));
    // Segment 0 lost, 1..3 SACKed: RACK calls 0 lost at once (DupThresh SACKed above it).
    // In flight 6000 > ssthresh 5000, so PRR lets out delivered * ssthresh / RecoverFS:
    // 3000 * 5000 / 10000 = 1500 bytes: the retransmission, not yet a new segment.
    inject(A, 5001, at(0), 65535, {}, sack(1000, 4000));
    Seg r = one();
    EXPECT_EQ(r.seq, at(0));
    EXPECT_TRUE(stack->tcp_info(c)->in_recovery);
    // From here each 1000 bytes delivered allows 500 more: a new segment every other ACK.
    inject(A, 5001, at(0), 65535, {}, sack(1000, 5000));
    Seg n1 = one();
    EXPECT_EQ(n1.seq, at(10000));
    inject(A, 5001, at(0), 65535, {}, sack(1000, 6000));
    nothing();
    // Now the pipe (5000) is down to ssthresh: PRR-SSRB sends only what keeps it there.
    inject(A, 5001, at(0), 65535, {}, sack(1000, 7000));
    nothing();
    inject(A, 5001, at(0), 65535, {}, sack(1000, 8000));
    Seg n2 = one();
    EXPECT_EQ(n2.seq, at(11000));
    // The retransmission arrives: everything outstanding at the start of recovery is
    // acknowledged, recovery ends at ssthresh.
    inject(A, 5001, at(10000), 65535);
    EXPECT_FALSE(stack->tcp_info(c)->in_recovery);
    EXPECT_EQ(stack->tcp_info(c)->ssthresh, 5000u);
}

TEST_F(SackRecovery, TimeoutResendsFromTheFirstUnacknowledgedByte) {
    burst(3);
    advance(std::chrono::milliseconds(5));
    inject(A, 5001, at(0), 65535, {}, sack(2000, 3000));
    // RACK waits on the reordering window, then resends 0:1000 and 1000:2000 as PRR allows;
    // none of it is acknowledged: the RTO fires and resends from SND.UNA.
    advance(std::chrono::milliseconds(50));
    sent();
    advance(std::chrono::seconds(1));
    auto v = sent();
    ASSERT_FALSE(v.empty());
    EXPECT_EQ(v[0].seq, at(0));
    EXPECT_FALSE(stack->tcp_info(c)->in_recovery);
    EXPECT_GE(stack->counters().tcp.timeouts, 1u);
}
