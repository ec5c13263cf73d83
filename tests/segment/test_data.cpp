// Reliable data: segmentation, PSH, cumulative and delayed ACKs, out-of-order data and SACK,
// Nagle, retransmission timeout with backoff, fast retransmit, persist, keepalive, PAWS,
// window scaling.
#include "segment/harness.hpp"

using namespace ustack;
using namespace ustack::testing;
using tcp::State;

class Data : public ConnectedHarness {
  protected:
    std::vector<std::byte> read_all() {
        std::vector<std::byte> out, buf(65536);
        while (auto r = stack->tcp_recv(c, buf)) {
            if (*r == 0) break;
            out.insert(out.end(), buf.begin(), buf.begin() + static_cast<long>(*r));
        }
        return out;
    }
};

TEST_F(Data, SegmentsByMssWithPshOnLastAndOnWindowCutAndInitialWindowOfTen) {
    open();
    auto data = pattern(20000);
    auto w = stack->tcp_send(c, data);
    ASSERT_TRUE(w);
    EXPECT_EQ(*w, 20000u);
    auto v = sent();
    ASSERT_EQ(v.size(), 10u) << describe(v);  // RFC 6928: 10 segments
    for (std::size_t i = 0; i < v.size(); ++i) {
        EXPECT_EQ(v[i].seq, iss + 1 + i * 1460);
        EXPECT_EQ(v[i].data.size(), 1460u);
        // Not the end of the write: no PSH, except on the last segment the congestion window
        // lets out, as Linux marks a burst cut short (packetdrill's eor/ scripts show it).
        EXPECT_EQ(v[i].flags, i + 1 == v.size() ? (P | A) : A);
        EXPECT_TRUE(std::equal(v[i].data.begin(), v[i].data.end(),
                               data.begin() + static_cast<long>(i * 1460)));
    }
    // An ACK for two segments in slow start lets out 2 + 2 more (RFC 3465, L = 2 SMSS): the
    // three full segments left, while Nagle holds back the 1020-byte tail (in flight data).
    inject(A, 5001, iss + 1 + 2 * 1460, 65535);
    auto more = sent();
    ASSERT_EQ(more.size(), 3u) << describe(more);
    EXPECT_EQ(stack->tcp_info(c)->cwnd, 12u * 1460u);
    for (const auto& m : more)
        EXPECT_EQ(m.data.size(), 1460u);
    EXPECT_EQ(more[0].flags, A);
    EXPECT_EQ(more[2].flags, P | A);  // cut short by the window again
    // Once everything is acknowledged the tail goes, with PSH: the write ends there.
    inject(A, 5001, iss + 1 + 13 * 1460, 65535);
    Seg tail = one();
    EXPECT_EQ(tail.flags, P | A);
    EXPECT_EQ(tail.seq, iss + 1 + 13 * 1460);
    EXPECT_EQ(tail.data.size(), 20000u - 13u * 1460u);
}

TEST_F(Data, ReceivesInOrderWithQuickAcksThenDelayedAcks) {
    open();
    std::uint32_t seq = 5001;
    // Linux starts in quick-ACK mode: the first segments are acknowledged one by one.
    for (int i = 0; i < 16; ++i) {
        inject(A, seq, iss + 1, 65535, pattern(100, i));
        seq += 100;
        Seg a = one();
        EXPECT_EQ(a.ack, seq);
    }
    // Then a small segment waits for the delayed-ACK timer (40 ms)...
    inject(A, seq, iss + 1, 65535, pattern(100));
    seq += 100;
    nothing();
    advance(std::chrono::milliseconds(39));
    nothing();
    advance(std::chrono::milliseconds(1));
    Seg d = one();
    EXPECT_EQ(d.ack, seq);
    EXPECT_EQ(stack->counters().tcp.delayed_acks, 1u);
    // ...and every second full-sized segment is acknowledged at once.
    inject(A, seq, iss + 1, 65535, pattern(1460));
    seq += 1460;
    nothing();
    inject(A, seq, iss + 1, 65535, pattern(1460));
    seq += 1460;
    Seg two = one();
    EXPECT_EQ(two.ack, seq);
    EXPECT_EQ(read_all().size(), 16u * 100 + 100 + 2 * 1460);
}

TEST_F(Data, OutOfOrderDataIsAckedAtOnceWithSackAndReassembled) {
    open(syn_opts(1460, std::nullopt, true));
    auto all = pattern(3000);
    auto part = [&](std::size_t off, std::size_t len) {
        return std::vector<std::byte>(all.begin() + static_cast<long>(off),
                                      all.begin() + static_cast<long>(off + len));
    };
    inject(A, 5001 + 1000, iss + 1, 65535, part(1000, 1000));
    Seg d1 = one();
    EXPECT_EQ(d1.ack, 5001u);
    ASSERT_EQ(d1.opts.sack_count, 1);
    EXPECT_EQ(d1.opts.sack_blocks[0], (wire::SackBlock{6001, 7001}));
    inject(A, 5001 + 2500, iss + 1, 65535, part(2500, 500));
    Seg d2 = one();
    ASSERT_EQ(d2.opts.sack_count, 2);
    EXPECT_EQ(d2.opts.sack_blocks[0], (wire::SackBlock{7501, 8001}));  // newest first
    EXPECT_EQ(d2.opts.sack_blocks[1], (wire::SackBlock{6001, 7001}));
    inject(A, 5001, iss + 1, 65535, part(0, 1000));  // fills the first gap: ACK at once
    Seg d3 = one();
    EXPECT_EQ(d3.ack, 7001u);
    ASSERT_EQ(d3.opts.sack_count, 1);
    inject(A, 5001 + 2000, iss + 1, 65535, part(2000, 500));
    Seg d4 = one();
    EXPECT_EQ(d4.ack, 8001u);
    EXPECT_EQ(d4.opts.sack_count, 0);
    EXPECT_EQ(read_all(), all);
}

TEST_F(Data, DuplicateSegmentIsAckedAndDroppedOnce) {
    open();
    inject(A, 5001, iss + 1, 65535, bytes("abc"));
    one();
    inject(A, 5001, iss + 1, 65535, bytes("abc"));
    Seg dup = one();
    EXPECT_EQ(dup.ack, 5004u);
    EXPECT_EQ(read_all(), bytes("abc"));
}

TEST_F(Data, NagleHoldsSmallSegmentsUntilAcked) {
    open();
    ASSERT_TRUE(stack->tcp_send(c, bytes("a")));
    Seg s1 = one();
    EXPECT_EQ(s1.data.size(), 1u);
    ASSERT_TRUE(stack->tcp_send(c, bytes("b")));
    ASSERT_TRUE(stack->tcp_send(c, bytes("c")));
    nothing();  // a small segment is in flight
    inject(A, 5001, iss + 2, 65535);
    Seg s2 = one();
    EXPECT_EQ(s2.data, bytes("bc"));
    EXPECT_EQ(s2.flags, P | A);
}

TEST_F(Data, NodelaySendsAtOnce) {
    open();
    ASSERT_TRUE(stack->tcp_set_nodelay(c, true));
    ASSERT_TRUE(stack->tcp_send(c, bytes("a")));
    one();
    ASSERT_TRUE(stack->tcp_send(c, bytes("b")));
    Seg s2 = one();
    EXPECT_EQ(s2.data, bytes("b"));
}

TEST_F(Data, RetransmissionTimeoutBacksOffExponentially) {
    open();
    ASSERT_TRUE(stack->tcp_send(c, bytes("hello")));
    Seg s = one();
    // The handshake measured an RTT of 0 in virtual time: RTO = the 200 ms minimum.
    Duration rto = std::chrono::milliseconds(200);
    for (int i = 0; i < 6; ++i) {
        advance(rto - std::chrono::milliseconds(1));
        nothing();
        advance(std::chrono::milliseconds(1));
        Seg r = one();
        EXPECT_EQ(r.seq, s.seq);
        EXPECT_EQ(r.data, s.data);
        rto *= 2;
    }
    EXPECT_EQ(stack->tcp_info(c)->retransmits, 6u);
    // An ACK ends the backoff.
    inject(A, 5001, iss + 6, 65535);
    EXPECT_EQ(stack->tcp_info(c)->retransmits, 0u);
    EXPECT_EQ(stack->counters().tcp.timeouts, 6u);
}

TEST_F(Data, RetransmissionsGiveUpWithEtimedout) {
    open();
    ASSERT_TRUE(stack->tcp_send(c, bytes("hello")));
    one();
    // tcp_retries2 = 15 from a 200 ms base: 924.6 s.
    advance(std::chrono::seconds(900));
    EXPECT_EQ(stack->tcp_info(c)->state, State::kEstablished);
    advance(std::chrono::seconds(300));
    auto e = stack->tcp_error(c);
    ASSERT_TRUE(e);
    EXPECT_EQ(*e, std::errc::timed_out);
}

TEST_F(Data, FastRetransmitOnThirdDuplicateAck) {
    open();
    auto data = pattern(10 * 1460);
    ASSERT_TRUE(stack->tcp_send(c, data));
    EXPECT_EQ(sent().size(), 10u);
    // The first segment is lost: the next ones produce duplicate ACKs.
    inject(A, 5001, iss + 1, 65535);
    inject(A, 5001, iss + 1, 65535);
    nothing();
    inject(A, 5001, iss + 1, 65535);
    Seg r = one();
    EXPECT_EQ(r.seq, iss + 1);
    EXPECT_EQ(r.data.size(), 1460u);
    EXPECT_EQ(stack->counters().tcp.fast_retrans, 1u);
    EXPECT_TRUE(stack->tcp_info(c)->in_recovery);
    // A full ACK ends recovery.
    inject(A, 5001, iss + 1 + 10 * 1460, 65535);
    EXPECT_FALSE(stack->tcp_info(c)->in_recovery);
}

TEST_F(Data, ZeroWindowIsProbedWithBackoff) {
    open();
    inject(A, 5001, iss + 1, 0);  // the peer's window closes
    ASSERT_TRUE(stack->tcp_send(c, bytes("waiting")));
    nothing();
    Duration gap = std::chrono::milliseconds(200);
    std::vector<std::uint32_t> seqs;
    for (int i = 0; i < 4; ++i) {
        advance(gap - std::chrono::milliseconds(1));
        nothing();
        advance(std::chrono::milliseconds(1));
        Seg p = one();
        EXPECT_EQ(p.seq, iss);  // SND.UNA - 1: the peer must answer with its window
        EXPECT_TRUE(p.data.empty());
        gap *= 2;
    }
    EXPECT_EQ(stack->counters().tcp.zero_window_probes, 4u);
    inject(A, 5001, iss + 1, 1000);  // the window opens: data flows
    Seg d = one();
    EXPECT_EQ(d.data, bytes("waiting"));
}

TEST_F(Data, KeepaliveProbesThenTimesOut) {
    open();
    ASSERT_TRUE(
        stack->tcp_set_keepalive(c, true, std::chrono::seconds(10), std::chrono::seconds(2), 3));
    advance(std::chrono::seconds(10) - std::chrono::milliseconds(1));
    nothing();
    advance(std::chrono::milliseconds(1));
    Seg k = one();
    EXPECT_EQ(k.seq, iss);
    EXPECT_TRUE(k.data.empty());
    advance(std::chrono::seconds(2));
    one();
    advance(std::chrono::seconds(2));
    one();
    advance(std::chrono::seconds(2));
    Seg r = one();
    EXPECT_TRUE(r.flags & R);
    auto e = stack->tcp_error(c);
    EXPECT_EQ(*e, std::errc::timed_out);
}

TEST_F(Data, KeepaliveAnsweredKeepsConnection) {
    open();
    ASSERT_TRUE(
        stack->tcp_set_keepalive(c, true, std::chrono::seconds(10), std::chrono::seconds(2), 3));
    advance(std::chrono::seconds(10));
    one();
    inject(A, 5001, iss + 1, 65535);
    nothing();
    advance(std::chrono::seconds(9));
    nothing();
    advance(std::chrono::seconds(1));
    one();
    EXPECT_EQ(stack->tcp_info(c)->state, State::kEstablished);
}

TEST_F(Data, PawsDropsOldTimestamps) {
    auto o = syn_opts(1460, std::nullopt, false, 1000);
    open(o);
    // established_passive's ACK carried no timestamp; send data with TSval 2000 first.
    wire::TcpOptions ts;
    ts.timestamps = wire::TcpTimestamps{2000, 0};
    inject(A, 5001, iss + 1, 65535, bytes("new"), ts);
    one();
    ts.timestamps = wire::TcpTimestamps{1500, 0};  // older than TS.Recent
    inject(A, 5004, iss + 1, 65535, bytes("old"), ts);
    Seg a = one();
    EXPECT_EQ(a.ack, 5004u);  // acknowledged, not accepted
    EXPECT_EQ(stack->counters().tcp.paws_estab_rejected, 1u);
    EXPECT_EQ(read_all(), bytes("new"));
}

TEST_F(Data, WindowScaleArithmetic) {
    open(syn_opts(1460, 3, false));  // the peer shifts by 3; we by 7
    auto info = stack->tcp_info(c);
    EXPECT_EQ(info->snd_wscale, 3);
    EXPECT_EQ(info->rcv_wscale, 7);
    EXPECT_EQ(info->snd_wnd, 65535u << 3);
    inject(A, 5001, iss + 1, 100, bytes("x"));  // window field 100 -> 800 bytes
    Seg a = one();
    EXPECT_EQ(stack->tcp_info(c)->snd_wnd, 800u);
    // Our window field is our free space shifted right by 7.
    EXPECT_EQ(a.win, static_cast<std::uint16_t>(((1u << 20) - 1u) >> 7));
}

TEST_F(Data, ReadOpensWindowWithUpdate) {
    cfg.tcp.recv_buffer = 8192;
    start();
    open();
    std::uint32_t seq = 5001;
    for (int i = 0; i < 8; ++i) {
        inject(A, seq, iss + 1, 65535, pattern(1024));
        seq += 1024;
    }
    auto acks = sent();
    ASSERT_FALSE(acks.empty());
    EXPECT_EQ(acks.back().win, 0);  // full
    // More data is outside the window: dropped, acknowledged.
    inject(A, seq, iss + 1, 65535, pattern(100));
    Seg full = one();
    EXPECT_EQ(full.ack, seq);
    EXPECT_EQ(read_all().size(), 8192u);
    Seg upd = one();  // the window update
    EXPECT_EQ(upd.ack, seq);
    EXPECT_EQ(upd.win, 8192);
}

TEST_F(Data, PartialAckRetransmitsNextHoleWithoutLeavingRecovery) {
    open();
    ASSERT_TRUE(stack->tcp_send(c, pattern(10 * 1460)));
    EXPECT_EQ(sent().size(), 10u);
    // Segments 1 and 3 are lost: three dupacks for segment 1, then its retransmission is
    // acknowledged up to segment 3 only (a partial ACK, RFC 6582 3.2 step 4).
    for (int i = 0; i < 3; ++i)
        inject(A, 5001, iss + 1, 65535);
    Seg fast = one();
    EXPECT_EQ(fast.seq, iss + 1);
    inject(A, 5001, iss + 1 + 2 * 1460, 65535);
    auto v = sent();
    ASSERT_FALSE(v.empty()) << describe(v);
    EXPECT_EQ(v.front().seq, iss + 1 + 2 * 1460);  // the next hole, at once
    EXPECT_EQ(v.front().data.size(), 1460u);
    EXPECT_TRUE(stack->tcp_info(c)->in_recovery);
    EXPECT_EQ(stack->counters().tcp.fast_retrans, 1u);
    inject(A, 5001, iss + 1 + 10 * 1460, 65535);
    EXPECT_FALSE(stack->tcp_info(c)->in_recovery);
}

// The first loss of a connection is fast retransmitted whatever the ISS: NewReno's "recover"
// starts at the ISS (RFC 6582), so an ISS in the upper half of sequence space must not look
// "before recover" (it did once: recover started at 0).
TEST_F(Data, FastRetransmitAtTheStartWithAnIssInTheUpperHalf) {
    for (std::uint32_t fixed : {0x10000000u, 0x90000000u, 0xfffff000u}) {
        cfg.tcp.fixed_iss = fixed;
        start();
        dev.take_sent();
        open();
        ASSERT_TRUE(stack->tcp_send(c, pattern(4 * 1460)));
        EXPECT_EQ(sent().size(), 4u);
        for (int i = 0; i < 3; ++i)
            inject(A, 5001, iss + 1, 65535);
        Seg r = one();
        EXPECT_EQ(r.seq, iss + 1) << std::hex << fixed;
        EXPECT_EQ(r.data.size(), 1460u);
        EXPECT_EQ(r.flags, A);  // a retransmission keeps the original's flags: not the write end
    }
}

TEST_F(Data, AGroSuperPacketCountsAsTheSegmentsItCarries) {
    open();
    const auto before = stack->counters().tcp.in_segs;
    phy::FrameMeta gro;
    gro.gso = phy::FrameMeta::Gso::kTcpV4;
    gro.gso_size = 1000;
    gro.csum_valid = true;
    inject(A, 5001, iss + 1, 65535, pattern(3500), {}, gro);
    EXPECT_EQ(stack->counters().tcp.in_segs - before, 4u);  // 1000 + 1000 + 1000 + 500
    EXPECT_EQ(read_all().size(), 3500u);
}

// A window smaller than a segment, nothing in flight: sender SWS avoidance holds the data, and
// with no ACK to come (a window update lost) only a timer can move it (RFC 1122 4.2.3.4): it
// goes after one RTO, as much as the window takes.
TEST_F(Data, ASubSegmentWindowWithNothingInFlightIsFilledByTheProbeTimer) {
    open();
    inject(A, 5001, iss + 1, 65535);  // the largest window it offered: 65535
    inject(A, 5001, iss + 1, 500);    // then only 500 bytes (the receiver's buffer filled)
    ASSERT_TRUE(stack->tcp_send(c, pattern(3000)));
    nothing();  // 500 < MSS and < half the largest window: SWS avoidance holds it
    const auto rto = stack->tcp_info(c)->rto;
    advance(rto - std::chrono::milliseconds(1));
    nothing();
    advance(std::chrono::milliseconds(1));
    Seg s = one();
    EXPECT_EQ(s.seq, iss + 1);
    EXPECT_EQ(s.data.size(), 500u);
    inject(A, 5001, iss + 501, 65535);  // the window opens again: the rest follows
    auto v = sent();
    ASSERT_EQ(v.size(), 2u) << describe(v);
    EXPECT_EQ(v[1].seq + v[1].data.size(), iss + 3001);
}

// A data segment whose checksum fails is dropped and counted, in order (where its payload is
// summed while it is copied into the receive buffer) as out of order, and what the buffer held
// stays as it was: the good copies that follow are taken as if the bad ones never came.
TEST_F(Data, DataWithABadChecksumIsDroppedWithoutTouchingTheStream) {
    open(syn_opts(1460, std::nullopt, true));
    auto inject_damaged = [&](std::uint32_t seq, std::vector<std::byte> data) {
        auto f = frame(A, seq, iss + 1, 65535, data, {});
        f.back() ^= std::byte{0x40};  // damaged on the way
        stack->on_frame(0, f, {}, now);
    };
    const auto all = pattern(3000);
    auto part = [&](std::size_t off, std::size_t len) {
        return std::vector<std::byte>(all.begin() + static_cast<long>(off),
                                      all.begin() + static_cast<long>(off + len));
    };
    const auto errors = stack->counters().tcp.in_csum_errors;
    inject(A, 5001, iss + 1, 65535, part(0, 1000));
    EXPECT_EQ(one().ack, 6001u);
    inject(A, 5001 + 2000, iss + 1, 65535, part(2000, 1000));  // out of order: held
    EXPECT_EQ(one().ack, 6001u);
    inject_damaged(5001 + 1000, part(1000, 1000));  // in order, before the range held
    inject_damaged(5001 + 2000, part(2000, 1000));  // over the range held
    inject_damaged(5001 + 1500, part(1500, 1500));  // across its start
    nothing();
    EXPECT_EQ(stack->counters().tcp.in_csum_errors - errors, 3u);
    EXPECT_EQ(read_all(), part(0, 1000));
    inject(A, 5001 + 1000, iss + 1, 65535, part(1000, 1000));
    EXPECT_EQ(one().ack, 8001u);
    EXPECT_EQ(read_all(), part(1000, 2000));
}

// Segments that one poll receives together are coalesced where they continue each other
// (Linux's GRO): processed as one, acknowledged once, counted as what they were.
TEST_F(Data, InOrderSegmentsOfOnePollAreCoalesced) {
    open();
    const auto all = pattern(8000);
    auto part = [&](std::size_t off, std::size_t len) {
        return std::vector<std::byte>(all.begin() + static_cast<long>(off),
                                      all.begin() + static_cast<long>(off + len));
    };
    const auto in_segs = stack->counters().tcp.in_segs;
    auto info = stack->tcp_info(c);
    ASSERT_TRUE(info);
    const auto segs_in = info->segs_in;
    for (std::size_t off = 0; off < 5000; off += 1000)
        queue(A, 5001 + static_cast<std::uint32_t>(off), iss + 1, 65535, part(off, 1000));
    stack->poll(now);
    Seg ack = one();  // in quick-ACK mode: one per segment processed
    EXPECT_EQ(ack.ack, 10001u);
    EXPECT_EQ(stack->counters().tcp.in_segs - in_segs, 5u);
    info = stack->tcp_info(c);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->segs_in - segs_in, 5u);
    // A PSH does not end a run; a changed window, a short segment or a gap does.
    queue(A | P, 10001, iss + 1, 65535, part(5000, 500));
    queue(A, 10501, iss + 1, 65535, part(5500, 500));
    queue(A, 11001, iss + 1, 65000, part(6000, 500));
    queue(A, 11501, iss + 1, 65000, part(6500, 400));
    queue(A, 11901, iss + 1, 65000, part(6900, 100));
    queue(A, 12001, iss + 1, 65000, part(7000, 100));
    stack->poll(now);
    auto v = sent();
    ASSERT_EQ(v.size(), 3u) << describe(v);
    EXPECT_EQ(v[0].ack, 11001u);
    EXPECT_EQ(v[1].ack, 11901u);  // 500 + 400: after a short segment, a new run
    EXPECT_EQ(v[2].ack, 12101u);
    EXPECT_EQ(read_all(), part(0, 7100));
}

TEST_F(Data, CoalescingStopsAtAGapAndAtDamage) {
    open(syn_opts(1460, std::nullopt, true));
    const auto all = pattern(5000);
    auto part = [&](std::size_t off, std::size_t len) {
        return std::vector<std::byte>(all.begin() + static_cast<long>(off),
                                      all.begin() + static_cast<long>(off + len));
    };
    queue(A, 5001, iss + 1, 65535, part(0, 1000));
    queue(A, 6001, iss + 1, 65535, part(1000, 1000));
    auto damaged = frame(A, 7001, iss + 1, 65535, part(2000, 1000), {});
    damaged.back() ^= std::byte{1};
    dev.inbox.push_back(damaged);
    queue(A, 8001, iss + 1, 65535, part(3000, 1000));  // out of order now
    queue(A, 9001, iss + 1, 65535, part(4000, 1000));
    stack->poll(now);
    auto v = sent();
    ASSERT_EQ(v.size(), 3u) << describe(v);
    EXPECT_EQ(v[0].ack, 7001u);
    EXPECT_EQ(v[0].opts.sack_count, 0);
    EXPECT_EQ(v[1].ack, 7001u);  // duplicate ACKs with SACK, at once
    ASSERT_EQ(v[1].opts.sack_count, 1);
    EXPECT_EQ(v[1].opts.sack_blocks[0], (wire::SackBlock{8001, 9001}));
    ASSERT_EQ(v[2].opts.sack_count, 1);
    EXPECT_EQ(v[2].opts.sack_blocks[0], (wire::SackBlock{8001, 10001}));
    EXPECT_EQ(stack->counters().tcp.in_csum_errors, 1u);
    queue(A, 7001, iss + 1, 65535, part(2000, 1000));
    stack->poll(now);
    EXPECT_EQ(one().ack, 10001u);
    EXPECT_EQ(read_all(), all);
}

TEST_F(Data, CoalescingCanBeTurnedOff) {
    cfg.rx_coalesce = false;
    start();
    open();
    for (std::uint32_t i = 0; i < 4; ++i)
        queue(A, 5001 + 1000 * i, iss + 1, 65535, pattern(1000, i));
    stack->poll(now);
    EXPECT_EQ(sent().size(), 4u);  // quick ACKs, one per segment
}
