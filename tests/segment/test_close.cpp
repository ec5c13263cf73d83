// RFC 9293 state diagram, closing arrows: active, passive and simultaneous close, half-close,
// TIME-WAIT and FIN-WAIT-2 timers, resets (RFC 5961 acceptance, close with unread data, abort).
#include "segment/harness.hpp"

using namespace ustack;
using namespace ustack::testing;
using tcp::State;

class Close : public ConnectedHarness {
  protected:
    void SetUp() override {
        ConnectedHarness::SetUp();
        open();
    }
    State state() { return stack->tcp_info(c)->state; }
};

TEST_F(Close, ActiveCloseThroughFinWait2AndTimeWait) {
    stack->tcp_close(c);
    Seg fin = one();
    EXPECT_EQ(fin.flags, F | A);
    EXPECT_EQ(fin.seq, iss + 1);
    EXPECT_EQ(fin.ack, 5001u);
    EXPECT_EQ(stack->tcp_connection_count(), 1u);
    inject(A, 5001, iss + 2, 65535);
    nothing();
    inject(F | A, 5001, iss + 2, 65535);
    Seg ack = one();
    EXPECT_EQ(ack.flags, A);
    EXPECT_EQ(ack.seq, iss + 2);
    EXPECT_EQ(ack.ack, 5002u);
    // TIME-WAIT lasts 60 s; a retransmitted FIN is acknowledged and restarts it.
    advance(std::chrono::seconds(30));
    inject(F | A, 5001, iss + 2, 65535);
    Seg ack2 = one();
    EXPECT_EQ(ack2.ack, 5002u);
    advance(std::chrono::seconds(60) - std::chrono::milliseconds(1));
    EXPECT_EQ(stack->tcp_connection_count(), 1u);
    advance(std::chrono::milliseconds(1));
    EXPECT_EQ(stack->tcp_connection_count(), 0u);
    nothing();
}

TEST_F(Close, ShutdownWriteHalfCloseKeepsReading) {
    ASSERT_TRUE(stack->tcp_shutdown(c, tcp::Shutdown::kWrite));
    Seg fin = one();
    EXPECT_EQ(fin.flags, F | A);
    EXPECT_EQ(state(), State::kFinWait1);
    inject(A, 5001, iss + 2, 65535);
    EXPECT_EQ(state(), State::kFinWait2);
    auto w = stack->tcp_send(c, bytes("x"));
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error(), std::errc::broken_pipe);
    // The peer keeps sending; we keep reading (no FIN-WAIT-2 timeout for a half-closed socket).
    inject(P | A, 5001, iss + 2, 65535, bytes("more data"));
    one();
    std::vector<std::byte> buf(100);
    auto r = stack->tcp_recv(c, buf);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 9u);
    advance(std::chrono::seconds(120));
    EXPECT_EQ(state(), State::kFinWait2);
    inject(F | A, 5010, iss + 2, 65535);
    Seg ack = one();
    EXPECT_EQ(ack.ack, 5011u);
    EXPECT_EQ(state(), State::kTimeWait);
    auto eof = stack->tcp_recv(c, buf);
    ASSERT_TRUE(eof);
    EXPECT_EQ(*eof, 0u);
}

TEST_F(Close, PassiveCloseThroughCloseWaitAndLastAck) {
    inject(F | A, 5001, iss + 1, 65535);
    Seg ack = one();
    EXPECT_EQ(ack.ack, 5002u);
    EXPECT_EQ(state(), State::kCloseWait);
    std::vector<std::byte> buf(10);
    auto r = stack->tcp_recv(c, buf);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 0u);  // end of stream
    // Half-closed by the peer: we may still send.
    ASSERT_TRUE(stack->tcp_send(c, bytes("bye")));
    Seg d = one();
    EXPECT_EQ(d.flags, P | A);
    EXPECT_EQ(d.data.size(), 3u);
    inject(A, 5002, iss + 4, 65535);
    stack->tcp_close(c);
    Seg fin = one();
    EXPECT_EQ(fin.flags, F | A);
    EXPECT_EQ(fin.seq, iss + 4);
    inject(A, 5002, iss + 5, 65535);
    nothing();
    EXPECT_EQ(stack->tcp_connection_count(), 0u);
}

TEST_F(Close, SimultaneousCloseThroughClosing) {
    stack->tcp_close(c);
    Seg fin = one();
    // The peer's FIN crosses ours, acknowledging nothing new: FIN-WAIT-1 -> CLOSING.
    inject(F | A, 5001, iss + 1, 65535);
    Seg ack = one();
    EXPECT_EQ(ack.flags, A);
    EXPECT_EQ(ack.ack, 5002u);
    EXPECT_EQ(stack->tcp_connection_count(), 1u);
    inject(A, 5002, iss + 2, 65535);  // our FIN acknowledged: CLOSING -> TIME-WAIT
    nothing();
    advance(std::chrono::seconds(60));
    EXPECT_EQ(stack->tcp_connection_count(), 0u);
    (void)fin;
}

TEST_F(Close, FinWait1FinAckGoesStraightToTimeWait) {
    ASSERT_TRUE(stack->tcp_shutdown(c, tcp::Shutdown::kWrite));
    one();
    inject(F | A, 5001, iss + 2, 65535);
    Seg ack = one();
    EXPECT_EQ(ack.ack, 5002u);
    EXPECT_EQ(state(), State::kTimeWait);
}

TEST_F(Close, OrphanFinWait2TimesOut) {
    stack->tcp_close(c);
    one();
    inject(A, 5001, iss + 2, 65535);
    EXPECT_EQ(stack->tcp_connection_count(), 1u);
    advance(std::chrono::seconds(60) - std::chrono::milliseconds(1));
    EXPECT_EQ(stack->tcp_connection_count(), 1u);
    advance(std::chrono::milliseconds(1));
    EXPECT_EQ(stack->tcp_connection_count(), 0u);
}

TEST_F(Close, CloseWithUnreadDataSendsReset) {
    inject(P | A, 5001, iss + 1, 65535, bytes("unread"));
    one();
    stack->tcp_close(c);
    Seg r = one();
    EXPECT_EQ(r.flags, R | A);
    EXPECT_EQ(r.seq, iss + 1);
    EXPECT_EQ(r.ack, 5007u);
    EXPECT_EQ(stack->tcp_connection_count(), 0u);
    EXPECT_EQ(stack->counters().tcp.abort_on_close, 1u);
}

TEST_F(Close, LingerZeroAborts) {
    ASSERT_TRUE(stack->tcp_set_linger(c, Duration{0}));
    stack->tcp_close(c);
    Seg r = one();
    EXPECT_EQ(r.flags, R | A);
    EXPECT_EQ(stack->tcp_connection_count(), 0u);
}

TEST_F(Close, DataAfterCloseResets) {
    stack->tcp_close(c);
    one();
    inject(P | A, 5001, iss + 2, 65535, bytes("late"));
    Seg r = one();
    EXPECT_EQ(r.flags, R);
    EXPECT_EQ(stack->tcp_connection_count(), 0u);
}

TEST_F(Close, ExactRstResetsConnection) {
    inject(R, 5001, 0, 0);
    nothing();
    EXPECT_TRUE(stack->tcp_poll(c) & events::kError);
    std::vector<std::byte> buf(10);
    auto r = stack->tcp_recv(c, buf);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::connection_reset);
    auto s = stack->tcp_send(c, bytes("x"));
    ASSERT_FALSE(s);
    EXPECT_EQ(stack->counters().tcp.estab_resets, 1u);
}

TEST_F(Close, RstInCloseWaitIsEpipe) {
    // Linux tcp_reset(): in CLOSE-WAIT the error is EPIPE (then EOF, then EPIPE again).
    inject(F | A, 5001, iss + 1, 65535);
    Seg ack = one();
    EXPECT_EQ(ack.ack, 5002u);
    ASSERT_EQ(state(), State::kCloseWait);
    inject(R, 5002, 0, 0);
    nothing();
    EXPECT_TRUE(stack->tcp_poll(c) & events::kError);
    auto s = stack->tcp_send(c, bytes("x"));
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error(), std::errc::broken_pipe);
    EXPECT_FALSE(stack->tcp_poll(c) & events::kError);  // reported once
    std::vector<std::byte> buf(10);
    auto r = stack->tcp_recv(c, buf);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 0u);
}

TEST_F(Close, InWindowRstGetsChallengeAck) {
    // RFC 5961 3.2: in the window but not exactly RCV.NXT: challenge ACK, no reset.
    inject(R, 5100, 0, 0);
    Seg ch = one();
    EXPECT_EQ(ch.flags, A);
    EXPECT_EQ(ch.seq, iss + 1);
    EXPECT_EQ(ch.ack, 5001u);
    EXPECT_EQ(state(), State::kEstablished);
    // Out of the window entirely: silently dropped.
    inject(R, 5001u + 10000000u, 0, 0);
    nothing();
    EXPECT_EQ(state(), State::kEstablished);
    EXPECT_EQ(stack->counters().tcp.challenge_acks, 1u);
}

TEST_F(Close, SynInEstablishedGetsChallengeAck) {
    inject(S, 7777, 0, 1000);
    Seg ch = one();
    EXPECT_EQ(ch.flags, A);
    EXPECT_EQ(ch.ack, 5001u);
    EXPECT_EQ(state(), State::kEstablished);
}

TEST_F(Close, AbortSendsReset) {
    stack->tcp_abort(c);
    Seg r = one();
    EXPECT_EQ(r.flags, R | A);
    EXPECT_EQ(r.seq, iss + 1);
    EXPECT_EQ(stack->tcp_connection_count(), 0u);
}

TEST_F(Close, LastAckRetransmitsFin) {
    inject(F | A, 5001, iss + 1, 65535);
    one();
    stack->tcp_close(c);
    Seg fin = one();
    advance(std::chrono::milliseconds(200) - std::chrono::milliseconds(1));
    nothing();
    advance(std::chrono::milliseconds(1));
    Seg again = one();
    EXPECT_EQ(again.flags, F | A);
    EXPECT_EQ(again.seq, fin.seq);
}

TEST_F(Close, ReuseAddressDecidesWhetherTimeWaitHoldsThePort) {
    stack->tcp_close(listener);
    stack->tcp_close(c);  // the server closes first: its side goes to TIME-WAIT
    one();
    inject(A, 5001, iss + 2, 65535);
    inject(F | A, 5001, iss + 2, 65535);
    one();
    ASSERT_EQ(stack->tcp_connection_count(), 1u);  // TIME-WAIT on our_port
    auto again = stack->tcp_listen(Endpoint{{}, our_port});
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), std::errc::address_in_use);
    EXPECT_TRUE(stack->tcp_listen(Endpoint{{}, our_port}, 16, /*reuse_address=*/true));
}

TEST_F(Close, ResetInTimeWaitKeepsUnreadDataForTheApplication) {
    // We half-close; the peer sends data and its FIN; we are in TIME-WAIT with the data
    // unread when a reset arrives (the peer's stack already forgot the connection).
    ASSERT_TRUE(stack->tcp_shutdown(c, tcp::Shutdown::kWrite));
    one();
    inject(A, 5001, iss + 2, 65535);
    inject(P | A, 5001, iss + 2, 65535, bytes("last words"));
    inject(F | A, 5011, iss + 2, 65535);
    sent();
    ASSERT_EQ(state(), State::kTimeWait);
    inject(R, 5012, 0, 0);
    nothing();
    EXPECT_EQ(state(), State::kClosed);
    std::vector<std::byte> buf(64);
    auto r = stack->tcp_recv(c, buf);
    ASSERT_TRUE(r);
    EXPECT_EQ(std::vector<std::byte>(buf.begin(), buf.begin() + static_cast<long>(*r)),
              bytes("last words"));
    auto eof = stack->tcp_recv(c, buf);
    ASSERT_TRUE(eof);
    EXPECT_EQ(*eof, 0u);
    stack->tcp_close(c);
    EXPECT_EQ(stack->tcp_connection_count(), 0u);
}
