// RFC 9293 state diagram, opening arrows: passive and active open, simultaneous open, resets
// to closed ports, SYN and SYN-ACK retransmission.
#include "segment/harness.hpp"

using namespace ustack;
using namespace ustack::testing;
using tcp::State;

class Handshake : public TcpHarness {};

TEST_F(Handshake, PassiveOpenListenSynReceivedEstablished) {
    auto l = stack->tcp_listen(Endpoint{{}, our_port}, 8);
    ASSERT_TRUE(l);
    wire::TcpOptions o = syn_opts(1460, 7, true, 100);
    inject(S, 1000, 0, 65535, {}, o);
    Seg sa = one();
    EXPECT_EQ(sa.flags, S | A);
    EXPECT_EQ(sa.ack, 1001u);
    EXPECT_EQ(sa.sport, our_port);
    EXPECT_EQ(sa.dport, peer_port);
    // Linux's SYN-ACK options: mss 1460, sackOK, TS (echoing 100), nop, wscale.
    ASSERT_TRUE(sa.opts.mss);
    EXPECT_EQ(*sa.opts.mss, 1460);
    EXPECT_TRUE(sa.opts.sack_permitted);
    ASSERT_TRUE(sa.opts.timestamps);
    EXPECT_EQ(sa.opts.timestamps->echo, 100u);
    ASSERT_TRUE(sa.opts.window_scale);
    EXPECT_EQ(*sa.opts.window_scale, 7);  // 65535 << 7 covers the 6 MiB maximum buffer
    EXPECT_FALSE(stack->tcp_accept(*l));  // not established yet
    auto info = stack->tcp_info(*l);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->state, State::kListen);

    wire::TcpOptions ts;
    ts.timestamps = wire::TcpTimestamps{101, sa.opts.timestamps->value};
    inject(A, 1001, sa.seq + 1, 512, {}, ts);
    nothing();
    std::vector<SocketEvent> ev;
    stack->take_events(ev);
    ASSERT_FALSE(ev.empty());
    EXPECT_EQ(ev.back().socket, *l);
    Endpoint who;
    auto c = stack->tcp_accept(*l, &who);
    ASSERT_TRUE(c);
    EXPECT_EQ(who, (Endpoint{peer, peer_port}));
    auto ci = stack->tcp_info(*c);
    ASSERT_TRUE(ci);
    EXPECT_EQ(ci->state, State::kEstablished);
    EXPECT_TRUE(ci->timestamps);
    EXPECT_TRUE(ci->sack);
    EXPECT_EQ(ci->snd_wscale, 7);
    EXPECT_EQ(ci->snd_wnd, 512u << 7);    // window in the ACK is scaled
    EXPECT_EQ(ci->snd_mss, 1460u - 12u);  // timestamps take 12 bytes of each segment
    EXPECT_EQ(stack->counters().tcp.passive_opens, 1u);
    EXPECT_EQ(stack->counters().tcp.curr_estab, 1u);
}

TEST_F(Handshake, ActiveOpenSendsLinuxSynAndCompletes) {
    auto c = stack->tcp_connect(Endpoint{peer, 80});
    ASSERT_TRUE(c);
    Seg syn = one();
    EXPECT_EQ(syn.flags, S);
    EXPECT_EQ(syn.dport, 80);
    EXPECT_GE(syn.sport, 32768);
    EXPECT_LE(syn.sport, 60999);
    EXPECT_EQ(syn.win, 65535);
    ASSERT_TRUE(syn.opts.mss);
    EXPECT_EQ(*syn.opts.mss, 1460);
    EXPECT_TRUE(syn.opts.sack_permitted);
    ASSERT_TRUE(syn.opts.timestamps);
    EXPECT_EQ(syn.opts.timestamps->echo, 0u);
    ASSERT_TRUE(syn.opts.window_scale);
    EXPECT_EQ(stack->tcp_info(*c)->state, State::kSynSent);
    EXPECT_EQ(stack->tcp_poll(*c) & events::kWritable, 0u);

    peer_port = 80;
    our_port = syn.sport;
    wire::TcpOptions o = syn_opts(1400, 2, true, 5000);
    o.timestamps->echo = syn.opts.timestamps->value;
    inject(S | A, 7000, syn.seq + 1, 30000, {}, o);
    Seg ack = one();
    EXPECT_EQ(ack.flags, A);
    EXPECT_EQ(ack.seq, syn.seq + 1);
    EXPECT_EQ(ack.ack, 7001u);
    ASSERT_TRUE(ack.opts.timestamps);
    EXPECT_EQ(ack.opts.timestamps->echo, 5000u);
    auto info = stack->tcp_info(*c);
    EXPECT_EQ(info->state, State::kEstablished);
    EXPECT_EQ(info->snd_mss, 1400u - 12u);
    EXPECT_EQ(info->snd_wnd, 30000u);  // a SYN-ACK's window is never scaled
    EXPECT_TRUE(stack->tcp_poll(*c) & events::kWritable);
    EXPECT_EQ(stack->counters().tcp.active_opens, 1u);
}

TEST_F(Handshake, SynWithoutTimestampsGetsLinuxLayoutWithoutTimestamps) {
    cfg.tcp.timestamps = false;
    start();
    auto c = stack->tcp_connect(Endpoint{peer, 80});
    ASSERT_TRUE(c);
    // mss, nop, nop, sackOK, nop, wscale: check the raw bytes.
    auto frames = dev.take_sent();
    ASSERT_EQ(frames.size(), 1u);
    auto ip = wire::parse_ipv4(frames[0]);
    auto t = wire::parse_tcp(ip->payload, ip->header.src, ip->header.dst);
    ASSERT_TRUE(t);
    std::vector<int> kinds;
    for (auto b : t->header.raw_options)
        kinds.push_back(static_cast<int>(b));
    ASSERT_EQ(kinds.size(), 12u);
    EXPECT_EQ(kinds[0], 2);
    EXPECT_EQ(kinds[1], 4);
    EXPECT_EQ(kinds[4], 1);
    EXPECT_EQ(kinds[5], 1);
    EXPECT_EQ(kinds[6], 4);
    EXPECT_EQ(kinds[7], 2);
    EXPECT_EQ(kinds[8], 1);
    EXPECT_EQ(kinds[9], 3);
    EXPECT_EQ(kinds[10], 3);
}

TEST_F(Handshake, SimultaneousOpen) {
    auto c = stack->tcp_connect(Endpoint{peer, 5000}, Endpoint{us, 6000});
    ASSERT_TRUE(c);
    Seg syn = one();
    our_port = 6000;
    peer_port = 5000;
    // The peer's SYN crosses ours: SYN-SENT -> SYN-RECEIVED, we answer SYN-ACK with our ISS.
    inject(S, 9000, 0, 65535, {}, syn_opts(1460, std::nullopt, false));
    Seg sa = one();
    EXPECT_EQ(sa.flags, S | A);
    EXPECT_EQ(sa.seq, syn.seq);
    EXPECT_EQ(sa.ack, 9001u);
    EXPECT_EQ(stack->tcp_info(*c)->state, State::kSynReceived);
    // Its SYN-ACK for our SYN arrives: ESTABLISHED.
    inject(S | A, 9000, syn.seq + 1, 65535, {}, syn_opts(1460, std::nullopt, false));
    auto v = sent();
    EXPECT_EQ(stack->tcp_info(*c)->state, State::kEstablished) << describe(v);
    EXPECT_TRUE(stack->tcp_poll(*c) & events::kWritable);
}

TEST_F(Handshake, ConnectToClosedPortIsRefused) {
    auto c = stack->tcp_connect(Endpoint{peer, 81});
    Seg syn = one();
    peer_port = 81;
    our_port = syn.sport;
    inject(R | A, 0, syn.seq + 1, 0);
    nothing();
    EXPECT_TRUE(stack->tcp_poll(*c) & events::kError);
    auto e = stack->tcp_error(*c);
    ASSERT_TRUE(e);
    EXPECT_EQ(*e, std::errc::connection_refused);
    EXPECT_EQ(stack->counters().tcp.attempt_fails, 1u);
}

TEST_F(Handshake, RstWithUnacceptableAckInSynSentIsIgnored) {
    auto c = stack->tcp_connect(Endpoint{peer, 81});
    Seg syn = one();
    peer_port = 81;
    our_port = syn.sport;
    inject(R | A, 0, syn.seq + 5, 0);
    nothing();
    EXPECT_EQ(stack->tcp_info(*c)->state, State::kSynSent);
    // A SYN-ACK acknowledging something we never sent gets a RST with SEQ = SEG.ACK.
    inject(S | A, 1, syn.seq + 99, 1000);
    Seg r = one();
    EXPECT_EQ(r.flags, R);
    EXPECT_EQ(r.seq, syn.seq + 99);
}

TEST_F(Handshake, SynRetransmissionsThenTimeout) {
    auto c = stack->tcp_connect(Endpoint{peer, 80});
    Seg first = one();
    // Linux: 6 retries at 1, 2, 4, 8, 16 and 32 s intervals; the attempt fails 64 s after the
    // last one (127 s in all).
    const int gaps[] = {1, 2, 4, 8, 16, 32};
    for (int g : gaps) {
        advance(std::chrono::seconds(g) - std::chrono::milliseconds(1));
        nothing();
        advance(std::chrono::milliseconds(1));
        Seg r = one();
        EXPECT_EQ(r.flags, S);
        EXPECT_EQ(r.seq, first.seq);
    }
    advance(std::chrono::seconds(64) - std::chrono::milliseconds(1));
    EXPECT_EQ(stack->tcp_info(*c)->state, State::kSynSent);
    advance(std::chrono::milliseconds(1));
    nothing();
    auto e = stack->tcp_error(*c);
    ASSERT_TRUE(e);
    EXPECT_EQ(*e, std::errc::timed_out);
    EXPECT_EQ(stack->counters().tcp.syn_retrans, 6u);
}

TEST_F(Handshake, SynAckRetransmissionsThenDrop) {
    auto l = stack->tcp_listen(Endpoint{{}, our_port}, 8);
    inject(S, 1000, 0, 65535, {}, syn_opts(1460, std::nullopt, false));
    Seg sa = one();
    const int gaps[] = {1, 2, 4, 8, 16};
    for (int g : gaps) {
        advance(std::chrono::seconds(g));
        Seg r = one();
        EXPECT_EQ(r.flags, S | A);
        EXPECT_EQ(r.seq, sa.seq);
    }
    EXPECT_EQ(stack->tcp_connection_count(), 1u);
    advance(std::chrono::seconds(32));
    nothing();
    EXPECT_EQ(stack->tcp_connection_count(), 0u);
    EXPECT_FALSE(stack->tcp_accept(*l));
}

TEST_F(Handshake, RetransmittedSynInSynReceivedGetsSynAckAgain) {
    ASSERT_TRUE(stack->tcp_listen(Endpoint{{}, our_port}, 8));
    inject(S, 1000, 0, 65535, {}, syn_opts(1460, std::nullopt, false));
    Seg sa = one();
    inject(S, 1000, 0, 65535, {}, syn_opts(1460, std::nullopt, false));
    Seg again = one();
    EXPECT_EQ(again.flags, S | A);
    EXPECT_EQ(again.seq, sa.seq);
    EXPECT_EQ(again.ack, 1001u);
}

TEST_F(Handshake, ResetsForSegmentsToNoConnection) {
    // RFC 9293 3.10.7.1: with ACK, <SEQ=SEG.ACK><CTL=RST>.
    inject(A, 5, 777, 100);
    Seg r1 = one();
    EXPECT_EQ(r1.flags, R);
    EXPECT_EQ(r1.seq, 777u);
    // Without ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; SYN and FIN count in SEG.LEN.
    inject(S, 100, 0, 100);
    Seg r2 = one();
    EXPECT_EQ(r2.flags, R | A);
    EXPECT_EQ(r2.seq, 0u);
    EXPECT_EQ(r2.ack, 101u);
    inject(P, 100, 0, 100, bytes("hello"));
    Seg r3 = one();
    EXPECT_EQ(r3.ack, 105u);
    // Never a reset in answer to a reset.
    inject(R, 100, 0, 0);
    nothing();
    inject(R | A, 100, 5, 0);
    nothing();
    EXPECT_EQ(stack->counters().tcp.out_rsts, 3u);
}

TEST_F(Handshake, AckToListenerGetsReset) {
    ASSERT_TRUE(stack->tcp_listen(Endpoint{{}, our_port}, 8));
    inject(A, 5, 4242, 100);
    Seg r = one();
    EXPECT_EQ(r.flags, R);
    EXPECT_EQ(r.seq, 4242u);
}

TEST_F(Handshake, RstInSynReceivedReturnsToListen) {
    auto l = stack->tcp_listen(Endpoint{{}, our_port}, 8);
    inject(S, 1000, 0, 65535, {}, syn_opts(1460, std::nullopt, false));
    one();
    inject(R, 1001, 0, 0);
    nothing();
    EXPECT_EQ(stack->tcp_connection_count(), 0u);
    EXPECT_FALSE(stack->tcp_accept(*l));
    EXPECT_EQ(stack->tcp_info(*l)->state, State::kListen);
}

TEST_F(Handshake, BacklogBoundsTheQueues) {
    auto l = stack->tcp_listen(Endpoint{{}, our_port}, 2);
    for (int i = 0; i < 4; ++i) {
        peer_port = static_cast<std::uint16_t>(41000 + i);
        inject(S, 1000, 0, 65535, {}, syn_opts(1460, std::nullopt, false));
    }
    EXPECT_EQ(sent().size(), 2u);
    EXPECT_EQ(stack->counters().tcp.listen_drops, 2u);
    (void)l;
}

TEST_F(Handshake, BindConflicts) {
    auto a = stack->tcp_listen(Endpoint{{}, 9000});
    ASSERT_TRUE(a);
    auto b = stack->tcp_listen(Endpoint{us, 9000});
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error(), std::errc::address_in_use);
    auto bad = stack->tcp_listen(Endpoint{wire::Ipv4Addr{10, 1, 1, 1}, 9001});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), std::errc::address_not_available);
    // The same local port toward different peers.
    auto c1 = stack->tcp_connect(Endpoint{peer, 80}, Endpoint{us, 7777});
    auto c2 = stack->tcp_connect(Endpoint{wire::Ipv4Addr{192, 0, 2, 2}, 80}, Endpoint{us, 7777});
    EXPECT_TRUE(c1);
    EXPECT_TRUE(c2);
    auto c3 = stack->tcp_connect(Endpoint{peer, 80}, Endpoint{us, 7777});
    ASSERT_FALSE(c3);
    EXPECT_EQ(c3.error(), std::errc::address_in_use);
}

TEST_F(Handshake, CloseInSynSentGoesStraightToClosed) {
    auto c = stack->tcp_connect(Endpoint{peer, 80});
    one();
    stack->tcp_close(*c);
    nothing();  // no FIN, no RST: nothing was synchronized
    EXPECT_EQ(stack->tcp_connection_count(), 0u);
    advance(std::chrono::seconds(5));
    nothing();  // and no SYN retransmission either
}

TEST_F(Handshake, CloseInListenResetsUnacceptedConnections) {
    auto l = stack->tcp_listen(Endpoint{{}, our_port}, 8);
    inject(S, 1000, 0, 65535, {}, syn_opts(1460, std::nullopt, false));
    Seg sa = one();
    inject(A, 1001, sa.seq + 1, 65535);  // established, waiting in the accept queue
    nothing();
    stack->tcp_close(*l);
    Seg r = one();
    EXPECT_EQ(r.flags, R | A);
    EXPECT_EQ(r.seq, sa.seq + 1);
    EXPECT_EQ(stack->tcp_connection_count(), 0u);
    // The port is free again; a SYN to it now gets a reset.
    inject(S, 5000, 0, 65535);
    EXPECT_EQ(one().flags, R | A);
}

TEST_F(Handshake, CloseInSynReceivedSendsFinOnceEstablished) {
    // Simultaneous open leaves an application-held socket in SYN-RECEIVED.
    auto c = stack->tcp_connect(Endpoint{peer, 5000}, Endpoint{us, 6000});
    Seg syn = one();
    our_port = 6000;
    peer_port = 5000;
    inject(S, 9000, 0, 65535, {}, syn_opts(1460, std::nullopt, false));
    one();
    ASSERT_TRUE(stack->tcp_shutdown(*c, tcp::Shutdown::kWrite));
    nothing();  // RFC 9293 3.10.4: the FIN waits for ESTABLISHED
    inject(A, 9001, syn.seq + 1, 65535);
    Seg fin = one();
    EXPECT_EQ(fin.flags, F | A);
    EXPECT_EQ(fin.seq, syn.seq + 1);
    EXPECT_EQ(stack->tcp_info(*c)->state, State::kFinWait1);
}
