// SACK-based loss recovery for peers that negotiated SACK: the sender's scoreboard (RFC 6675 2:
// which segments the peer holds), RACK loss detection (RFC 8985: a segment is lost when one sent
// after it was delivered more than an RTT plus a reordering window ago), and Proportional Rate
// Reduction (RFC 6937) to pace what recovery sends. Peers without SACK keep NewReno
// (newreno_recovery.cpp). A retransmission timeout still resends from SND.UNA (tcp_timers.cpp).
#include <algorithm>

#include "tcp/tcp_layer.hpp"

namespace ustack::tcp {

namespace {

// RFC 8985 6.2: whether (t1, seq1) was sent after (t2, seq2); a tie in time goes by sequence.
bool sent_after(Instant t1, SeqNum end1, Instant t2, SeqNum end2) {
    return t1 > t2 || (t1 == t2 && end1 > end2);
}

}  // namespace

// A segment left the stack: appended to the scoreboard (only new data, or what a timeout
// resends from SND.UNA after the scoreboard was cleared, comes here: both extend its end).
void TcpLayer::txq_sent(Connection& c, SeqNum start, std::uint32_t len, std::uint8_t flags,
                        bool retrans, Instant now) {
    using namespace wire::tcp_flags;
    TxSeg s;
    s.start = start;
    s.end = start + len + ((flags & kFin) ? 1u : 0u);
    s.xmit = now;
    s.retrans = retrans;
    s.psh = (flags & kPsh) != 0;
    s.fin = (flags & kFin) != 0;
    if (s.end == s.start) return;
    if (!c.txq.empty() && c.txq.back().end > s.start) {
        // Overlaps what the scoreboard holds (a resend it did not ask for): the entries it
        // covers are sent again now; only what lies beyond them is new.
        txq_resent(c, s.start, s.end, now);
        if (c.txq.back().end >= s.end) return;
        s.start = c.txq.back().end;
    }
    c.txq.push_back(s);
}

// Splits the entry that holds `at` strictly inside it, so that an entry starts at `at`.
void TcpLayer::txq_split(Connection& c, SeqNum at) {
    for (std::size_t i = 0; i < c.txq.size(); ++i) {
        TxSeg& s = c.txq[i];
        if (s.start >= at) return;
        if (at < s.end) {
            TxSeg tail = s;
            tail.start = at;
            s.end = at;
            s.fin = false;  // the FIN and the PSH stay with the segment's end
            s.psh = false;
            c.txq.insert(c.txq.begin() + static_cast<std::ptrdiff_t>(i) + 1, tail);
            return;
        }
    }
}

// Calls fn on each entry within [start, end), split first so that entries begin and end at
// the range's edges.
template <typename Fn>
void TcpLayer::txq_each_in(Connection& c, SeqNum start, SeqNum end, Fn fn) {
    txq_split(c, start);
    txq_split(c, end);
    for (TxSeg& s : c.txq) {
        if (s.end <= start) continue;
        if (s.start >= end) break;
        fn(s);
    }
}

// [start, end) was resent outside retransmit_lost() (fast retransmit of the head after a PMTU
// drop): those entries are in flight again, retransmitted.
void TcpLayer::txq_resent(Connection& c, SeqNum start, SeqNum end, Instant now) {
    txq_each_in(c, start, end, [&](TxSeg& s) {
        if (s.sacked) return;
        s.lost = false;
        s.retrans = true;
        s.xmit = now;
    });
}

// RFC 8985 6.2 step 2: RACK learns from each newly delivered segment its RTT and whether it was
// the most recently sent one delivered; step 1 notes reordering.
void TcpLayer::rack_delivered(Connection& c, const TxSeg& s, Instant now) {
    if (s.end > c.rack_fack || c.rack_xmit == Instant{}) {
        c.rack_fack = s.end;
    } else if (!s.retrans) {
        c.rack_reord = true;  // delivered below one delivered before, never resent: reordered
    }
    const Duration rtt = now - s.xmit;
    // A retransmitted segment acknowledged sooner than the minimum RTT was acknowledged for its
    // first transmission: its send time says nothing.
    if (s.retrans && rtt < c.rtt.min_rtt()) return;
    c.rack_rtt = rtt;
    if (c.rack_xmit == Instant{} || sent_after(s.xmit, s.end, c.rack_xmit, c.rack_end)) {
        c.rack_xmit = s.xmit;
        c.rack_end = s.end;
    }
}

// The scoreboard after an ACK (SND.UNA already moved): acknowledged entries leave, SACK blocks
// mark what the peer holds above SND.UNA. Returns the bytes newly delivered (RFC 6937's
// DeliveredData: cumulatively acknowledged or newly SACKed).
std::uint32_t TcpLayer::scoreboard_ack(Connection& c, const wire::TcpOptions& o, Instant now) {
    std::uint32_t delivered = 0;
    while (!c.txq.empty() && c.txq.front().start < c.snd_una) {
        TxSeg& s = c.txq.front();
        if (s.end <= c.snd_una) {
            // As Linux (tcp_clean_rtx_queue), a segment of one MSS or less that a partial ACK
            // left whole counts, once acknowledged to its end, as delivered out of order: its
            // start lies below the previous SND.UNA. Linux remembers that as reordering seen,
            // which widens RACK's reordering window from then on; so does this.
            if (s.partly_acked && s.len() <= c.mss) c.rack_reord = true;
            if (!s.sacked) {
                delivered += s.len();
                rack_delivered(c, s, now);
            }
            c.txq.pop_front();
            continue;
        }
        // Partly acknowledged: the rest stays.
        if (!s.sacked) {
            TxSeg part = s;
            part.end = c.snd_una;
            delivered += part.len();
            rack_delivered(c, part, now);
        }
        s.start = c.snd_una;
        s.partly_acked = true;
        break;
    }
    for (std::size_t b = 0; b < o.sack_count; ++b) {
        SeqNum left{o.sack_blocks[b].left}, right{o.sack_blocks[b].right};
        // D-SACK (RFC 2883: below SND.UNA) and blocks beyond what was sent tell no new holdings.
        if (right <= c.snd_una || right > c.snd_max || left >= right) continue;
        if (left < c.snd_una) left = c.snd_una;
        txq_each_in(c, left, right, [&](TxSeg& s) {
            if (s.sacked) return;
            s.sacked = true;
            s.lost = false;
            delivered += s.len();
            rack_delivered(c, s, now);
        });
    }
    return delivered;
}

// RFC 8985 6.2 step 4: the reordering window. Until reordering has been seen, none in recovery
// or once DupThresh segments are SACKed (as fast as duplicate-ACK counting); else a quarter of
// the minimum RTT, at most SRTT.
Duration TcpLayer::rack_reo_wnd(const Connection& c) const {
    if (!c.rack_reord) {
        if (c.sack_recovery) return Duration{0};
        std::uint32_t sacked = 0;
        const std::uint32_t mss = std::max<std::uint32_t>(c.mss, 1);
        for (const TxSeg& s : c.txq)
            if (s.sacked) sacked += (s.len() + mss - 1) / mss;
        if (sacked >= tc_.reordering) return Duration{0};
    }
    return std::min(c.rtt.min_rtt() / 4, c.rtt.srtt());
}

// RFC 8985 6.2 step 5: marks lost every segment sent before the most recently sent delivered
// one whose time is up; arms the reordering timer for the rest. True when any was marked.
bool TcpLayer::rack_detect_loss(Connection& c, Instant now) {
    c.reo_at = kNever;
    if (c.rack_xmit == Instant{}) return false;
    const Duration reo = rack_reo_wnd(c);
    Duration wait{0};
    bool marked = false;
    for (TxSeg& s : c.txq) {
        if (s.sacked || s.lost) continue;
        if (!sent_after(c.rack_xmit, c.rack_end, s.xmit, s.end)) continue;
        const Duration remaining = (s.xmit + c.rack_rtt + reo) - now;
        if (remaining <= Duration{0}) {
            s.lost = true;
            marked = true;
        } else {
            wait = std::max(wait, remaining);
        }
    }
    // Linux's timers run no sooner than TCP_TIMEOUT_MIN (two jiffies) ahead.
    if (wait > Duration{0}) c.reo_at = now + wait + tc_.rack_timer_min;
    return marked;
}

// RFC 6675 pipe: bytes in flight, SACKed and lost-not-yet-resent segments left out.
std::uint32_t TcpLayer::sack_pipe(const Connection& c) const {
    std::uint32_t pipe = 0;
    for (const TxSeg& s : c.txq)
        if (!s.sacked && !s.lost) pipe += s.len();
    return pipe;
}

void TcpLayer::sack_enter_recovery(Connection& c, std::uint32_t flight, Instant /*now*/) {
    // RFC 6675 5 / RFC 6937: ssthresh from the congestion controller; PRR from here on.
    c.sack_recovery = true;
    c.recovery_point = c.snd_max;
    c.prr_delivered = 0;
    c.prr_out = 0;
    c.recover_fs = std::max<std::uint32_t>(flight, 1);
    c.cc->on_enter_recovery(flight);
    ++counters_.fast_retrans;
}

// RFC 6937 3: how much this ACK lets out. Above ssthresh, sending follows delivery in
// proportion ssthresh / RecoverFS; at or below it, slow start's pace up to ssthresh
// (PRR-SSRB: what was delivered, plus one segment).
void TcpLayer::prr_update(Connection& c, std::uint32_t delivered) {
    c.prr_delivered += delivered;
    const std::uint64_t pipe = sack_pipe(c);
    const std::uint64_t ssthresh = c.cc->state().ssthresh;
    std::int64_t sndcnt;
    if (pipe > ssthresh) {
        const std::uint64_t share =
            (std::uint64_t{c.prr_delivered} * ssthresh + c.recover_fs - 1) / c.recover_fs;
        sndcnt = static_cast<std::int64_t>(share) - c.prr_out;
    } else {
        const std::int64_t owed = std::max<std::int64_t>(
            static_cast<std::int64_t>(c.prr_delivered) - c.prr_out, delivered);
        sndcnt = std::min<std::int64_t>(static_cast<std::int64_t>(ssthresh - pipe), owed + c.mss);
    }
    c.prr_allow = static_cast<std::uint32_t>(std::clamp<std::int64_t>(sndcnt, 0, UINT32_MAX));
}

// An acceptable ACK on a SACK connection (SND.UNA already moved): scoreboard, loss detection,
// recovery.
void TcpLayer::sack_ack(Connection& c, const SegmentIn& in, std::uint32_t flight_before,
                        std::uint32_t data_acked, Instant now) {
    const std::uint32_t delivered = scoreboard_ack(c, in.seg.options, now);
    if (c.sack_recovery && c.snd_una >= c.recovery_point) {
        // RFC 6675 5: everything outstanding when recovery began is acknowledged.
        c.sack_recovery = false;
        c.prr_allow = 0;
        c.cc->on_exit_recovery(c.bytes_in_flight());
    }
    // Losses can only be inferred from SACK information or while recovering.
    if ((in.seg.options.sack_count > 0 || c.sack_recovery || c.reo_at != kNever) &&
        rack_detect_loss(c, now) && !c.sack_recovery)
        sack_enter_recovery(c, flight_before, now);
    if (c.sack_recovery) {
        prr_update(c, delivered);
    } else if (data_acked > 0) {
        c.cc->on_ack(data_acked, flight_before, now);
    }
}

// Resends lost segments in sequence order while the budget (PRR's allowance in recovery,
// cwnd - pipe outside it) lasts; the first retransmission of a recovery always goes (RFC 6937:
// recovery starts with one). Each goes as it was first sent, never joined to its neighbours:
// record ends (MSG_EOR) stay where they were.
void TcpLayer::retransmit_lost(Connection& c, std::uint32_t& budget, const net::RouteInfo* route,
                               Instant now) {
    using namespace wire::tcp_flags;
    const std::uint32_t seg_size = segment_size(c);
    const std::uint32_t limit = route && route->tso ? tso_max_len(seg_size) : seg_size;
    for (std::size_t i = 0; i < c.txq.size(); ++i) {
        if (!c.txq[i].lost) continue;
        const bool first = c.sack_recovery && c.prr_out == 0;
        if (budget == 0 && !first) break;
        const std::uint32_t fin = c.txq[i].fin ? 1u : 0u;
        if (c.txq[i].len() - fin > limit) txq_split(c, c.txq[i].start + limit);
        TxSeg& s = c.txq[i];
        const std::uint32_t len = s.len();
        if (len > budget && !first) break;
        const std::uint32_t data = len - (s.fin ? 1u : 0u);
        std::uint8_t flags = kAck;
        if (s.psh) flags |= kPsh;
        if (s.fin) flags |= kFin;
        send_segment(c, s.start, static_cast<std::size_t>(s.start - c.snd_una), data, flags, now,
                     route);
        s.lost = false;
        s.retrans = true;
        s.xmit = now;
        sack_charge(c, budget, len);
        if (c.rtt_timing && c.rtt_seq < s.end) c.rtt_timing = false;  // Karn
        ++c.total_retrans;
        ++counters_.retrans_segs;
        c.bytes_retrans += data;
        arm_rto(c, now);
    }
}

// Sequence space just sent comes off the congestion allowance (and, in recovery, off PRR's).
void TcpLayer::sack_charge(Connection& c, std::uint32_t& budget, std::uint32_t len) {
    budget -= std::min(budget, len);
    if (c.sack_recovery) {
        c.prr_out += len;
        c.prr_allow -= std::min(c.prr_allow, len);
    }
}

// The reordering window ran out for segments RACK was waiting on (RFC 8985 6.3).
void TcpLayer::on_reo_timeout(Connection& c, Instant now) {
    if (!c.sack_ok || c.txq.empty()) return;
    if (!rack_detect_loss(c, now)) return;
    if (!c.sack_recovery) sack_enter_recovery(c, c.bytes_in_flight(), now);
    prr_update(c, 0);
    output(c, now);
}

}  // namespace ustack::tcp
