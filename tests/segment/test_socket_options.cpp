// Socket options that change what goes on the wire: TCP_CORK, MSG_MORE, MSG_EOR, TCP_MAXSEG,
// TCP_SYNCNT, TCP_USER_TIMEOUT, TCP_NOTSENT_LOWAT. Linux's behaviour is the reference (the
// packetdrill scripts in nagle/, eor/ and mss/ state it).
#include "segment/harness.hpp"

using namespace ustack;
using namespace ustack::testing;
using tcp::State;

class Options : public ConnectedHarness {
  protected:
    void open(wire::TcpOptions o = syn_opts(1000, std::nullopt, false)) {
        ConnectedHarness::open(o);
    }
};

TEST_F(Options, CorkHoldsPartialSegmentsUntilUncorked) {
    open();
    ASSERT_TRUE(stack->tcp_set_cork(c, true));
    ASSERT_TRUE(stack->tcp_send(c, pattern(40)));
    advance(std::chrono::milliseconds(50));
    ASSERT_TRUE(stack->tcp_send(c, pattern(40, 1)));
    nothing();  // corked: 80 bytes wait
    ASSERT_TRUE(stack->tcp_set_cork(c, false));
    Seg s = one();  // uncorking pushes them as one segment
    EXPECT_EQ(s.flags, P | A);
    EXPECT_EQ(s.seq, iss + 1);
    EXPECT_EQ(s.data.size(), 80u);
}

TEST_F(Options, CorkLetsFullSegmentsGoAndTheTailAfterOneRto) {
    open();
    ASSERT_TRUE(stack->tcp_set_cork(c, true));
    ASSERT_TRUE(stack->tcp_send(c, pattern(2500)));
    auto v = sent();
    ASSERT_EQ(v.size(), 2u) << describe(v);  // two full segments; the 500-byte tail waits
    EXPECT_EQ(v[1].flags, A);                // held by the cork, not cut: no PSH
    inject(A, 5001, iss + 2001, 65535);
    nothing();
    // Nothing in flight: the probe timer lets the tail out one RTO later, with PSH.
    const auto rto = stack->tcp_info(c)->rto;
    advance(rto - std::chrono::milliseconds(1));
    nothing();
    advance(std::chrono::milliseconds(1));
    Seg t = one();
    EXPECT_EQ(t.flags, P | A);
    EXPECT_EQ(t.seq, iss + 2001);
    EXPECT_EQ(t.data.size(), 500u);
}

TEST_F(Options, MsgMoreHoldsTheTailAndTcpNodelayPushesItWithoutPsh) {
    open();
    ASSERT_TRUE(stack->tcp_send(c, pattern(40), /*more=*/true));
    ASSERT_TRUE(stack->tcp_send(c, pattern(40, 1), /*more=*/true));
    nothing();
    ASSERT_TRUE(stack->tcp_set_nodelay(c, true));
    Seg s = one();
    EXPECT_EQ(s.flags, A);  // Linux: the write said more is coming, so no PSH
    EXPECT_EQ(s.data.size(), 80u);
}

TEST_F(Options, MsgMoreHoldsOnlyInItsOwnCallAnAckLetsTheTailGo) {
    open();
    ASSERT_TRUE(stack->tcp_set_nodelay(c, true));
    ASSERT_TRUE(stack->tcp_send(c, pattern(2500), /*more=*/true));
    auto v = sent();
    ASSERT_EQ(v.size(), 2u) << describe(v);  // full segments go; the 500-byte tail waits
    EXPECT_EQ(v[1].flags, A);
    inject(A, 5001, iss + 1001, 65535);  // Linux (sendmsg_msg_more.pkt): the ACK releases it
    Seg t = one();
    EXPECT_EQ(t.seq, iss + 2001);
    EXPECT_EQ(t.data.size(), 500u);
    EXPECT_EQ(t.flags, A);  // written with MSG_MORE: no PSH
}

TEST_F(Options, EorRecordsAreNeverJoinedInOneSegment) {
    open();
    ASSERT_TRUE(stack->tcp_send(c, pattern(400), false, /*eor=*/true));
    ASSERT_TRUE(stack->tcp_send(c, pattern(400, 1), false, /*eor=*/true));
    ASSERT_TRUE(stack->tcp_send(c, pattern(1500, 2)));
    auto v = sent();
    ASSERT_EQ(v.size(), 3u) << describe(v);
    EXPECT_EQ(v[0].data.size(), 400u);
    EXPECT_EQ(v[0].flags, P | A);
    EXPECT_EQ(v[1].data.size(), 400u);
    EXPECT_EQ(v[1].flags, P | A);
    EXPECT_EQ(v[2].data.size(), 1000u);  // the next write starts a segment of its own
    EXPECT_EQ(v[2].flags, P | A);        // Nagle holds the tail: the run ends here
    inject(A, 5001, iss + 1 + 1800, 65535);
    Seg t = one();
    EXPECT_EQ(t.data.size(), 500u);
    EXPECT_EQ(t.flags, P | A);
    EXPECT_EQ(t.seq, iss + 1 + 1800);
}

TEST_F(Options, MaxsegOnAListenerLowersTheSynAckMssAndTheSegmentSize) {
    auto l = stack->tcp_listen(Endpoint{{}, our_port});
    ASSERT_TRUE(l);
    ASSERT_TRUE(stack->tcp_set_maxseg(*l, 1100));
    inject(S, 5000, 0, 32792, {}, syn_opts(1300, 7, false));
    Seg sa = one();
    ASSERT_TRUE(sa.opts.mss);
    EXPECT_EQ(*sa.opts.mss, 1100);
    inject(A, 5001, sa.seq + 1, 257);
    auto a = stack->tcp_accept(*l);
    ASSERT_TRUE(a);
    EXPECT_EQ(stack->tcp_info(*a)->snd_mss, 1100u);
    ASSERT_TRUE(stack->tcp_send(*a, pattern(2500)));
    auto v = sent();
    ASSERT_GE(v.size(), 2u);
    EXPECT_EQ(v[0].data.size(), 1100u);
}

TEST_F(Options, SyncntLimitsSynRetries) {
    auto conn = stack->tcp_connect(Endpoint{peer, 80});
    ASSERT_TRUE(conn);
    ASSERT_TRUE(stack->tcp_set_limits(*conn, 2, Duration{0}, 0));
    one();
    advance(std::chrono::seconds(1));
    EXPECT_EQ(one().flags, S);
    advance(std::chrono::seconds(2));
    EXPECT_EQ(one().flags, S);
    // Two retries, then the attempt fails after the next (doubled) timeout: 7 s in all.
    advance(std::chrono::seconds(4) - std::chrono::milliseconds(1));
    EXPECT_EQ(stack->tcp_info(*conn)->state, State::kSynSent);
    advance(std::chrono::milliseconds(1));
    auto e = stack->tcp_error(*conn);
    ASSERT_TRUE(e);
    EXPECT_EQ(*e, std::errc::timed_out);
}

TEST_F(Options, UserTimeoutEndsAConnectionWhoseDataGoesUnacknowledged) {
    open();
    ASSERT_TRUE(stack->tcp_set_limits(c, 0, std::chrono::milliseconds(1500), 0));
    ASSERT_TRUE(stack->tcp_send(c, bytes("hello")));
    one();
    // Retransmissions back off from the RTO; the connection lives until 1.5 s without an ACK
    // have passed, and ends at the first timeout after that (tcp_retries2 alone: 924 s).
    advance(std::chrono::milliseconds(1400));
    EXPECT_GE(sent().size(), 1u);
    EXPECT_EQ(stack->tcp_info(c)->state, State::kEstablished);
    advance(std::chrono::seconds(2));
    auto e = stack->tcp_error(c);
    ASSERT_TRUE(e);
    EXPECT_EQ(*e, std::errc::timed_out);
}

TEST_F(Options, NotsentLowatMakesWritabilityWaitForUnsentBytes) {
    open(syn_opts(1000, std::nullopt, false));
    ASSERT_TRUE(stack->tcp_set_limits(c, 0, Duration{0}, 5000));
    ASSERT_TRUE(stack->tcp_send(c, pattern(20000)));  // 10 000 go, 10 000 wait unsent
    sent();
    EXPECT_FALSE(stack->tcp_poll(c) & events::kWritable);
    inject(A, 5001, iss + 1 + 10000, 65535);  // the window opens: 10 000 more leave
    sent();
    EXPECT_TRUE(stack->tcp_poll(c) & events::kWritable);
}
