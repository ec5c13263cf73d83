// TCP output: what to send and when (window, congestion window, Nagle, silly-window
// avoidance), and how each segment is built with its options.
#include <algorithm>
#include <cstring>

#include "tcp/tcp_layer.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace ustack::tcp {

std::uint32_t TcpLayer::ts_now(const Connection& c, Instant now) const {
    // RFC 7323 5.4: a millisecond clock, offset per connection (as Linux does since 4.10).
    return static_cast<std::uint32_t>(
               std::chrono::duration_cast<std::chrono::milliseconds>(now).count()) +
           c.ts_offset;
}

// The window to advertise now. RFC 9293 3.8.6.2.2: do not move the right edge by less than
// min(buffer/2, MSS) (receiver SWS avoidance); RFC 7323 2.4 / RFC 9293 3.8.6: never shrink it.
std::uint32_t TcpLayer::receive_window(Connection& c) const {
    const std::uint32_t scale_max = 65535u << c.rcv_wscale;
    auto wnd = static_cast<std::uint32_t>(std::min<std::size_t>(c.rcvbuf.free_space(), scale_max));
    wnd &= ~((1u << c.rcv_wscale) - 1u);
    const std::int32_t cur_signed = c.rcv_adv - c.rcv_nxt;
    const std::uint32_t cur = cur_signed > 0 ? static_cast<std::uint32_t>(cur_signed) : 0u;
    if (wnd <= cur) return cur;
    const std::uint32_t sws =
        std::min<std::uint32_t>(static_cast<std::uint32_t>(c.rcvbuf.capacity() / 2), c.rcv_mss);
    if (wnd - cur < sws && wnd < static_cast<std::uint32_t>(c.rcvbuf.capacity())) return cur;
    return wnd;
}

std::uint32_t TcpLayer::send_window(const Connection& c) const {
    const std::uint32_t cwnd = c.cc->state().cwnd + c.recovery->window_extension();
    return std::min(c.snd_wnd, cwnd);
}

void TcpLayer::send_segment(Connection& c, SeqNum seq, std::size_t data_offset, std::size_t len,
                            std::uint8_t flags, Instant now, const net::RouteInfo* route) {
    using namespace wire::tcp_flags;
    wire::TcpOptions opts;
    const bool syn = (flags & kSyn) != 0;
    if (syn) {
        auto r = ip_.route(c.tuple.remote_addr);
        const std::uint32_t mtu = r ? ip_.interface(r->ifc).mtu : 1500u;
        opts.mss = static_cast<std::uint16_t>(std::min<std::uint32_t>(mtu - 40, 65535));
        if (c.user_mss != 0) opts.mss = std::min(*opts.mss, c.user_mss);  // TCP_MAXSEG
        const bool active = (flags & kAck) == 0;
        if (tc_.window_scaling && (active || c.ws_ok)) opts.window_scale = c.rcv_wscale;
        if (tc_.sack && (active || c.sack_ok)) opts.sack_permitted = true;
        if (tc_.timestamps && (active || c.ts_ok))
            opts.timestamps = wire::TcpTimestamps{ts_now(c, now), active ? 0u : c.ts_recent};
        // Fast Open: only the first SYN asks for a cookie or carries one (a retransmitted SYN
        // is a plain one, as Linux's).
        if (active && c.fastopen_syn && c.retransmits == 0) opts.fastopen = c.fastopen_syn;
    } else {
        if (c.ts_ok) opts.timestamps = wire::TcpTimestamps{ts_now(c, now), c.ts_recent};
        // RFC 2018 4: report out-of-order data; the block holding the newest segment first.
        if (c.sack_ok && !c.rcvbuf.out_of_order().empty()) {
            const auto& ooo = c.rcvbuf.out_of_order();
            std::size_t first = 0;
            for (std::size_t i = 0; i < ooo.size(); ++i) {
                SeqNum l = c.rcv_nxt + static_cast<std::uint32_t>(ooo[i].begin);
                SeqNum r = c.rcv_nxt + static_cast<std::uint32_t>(ooo[i].end);
                if (seq_in(c.last_ooo, l, r) || c.last_ooo == r) first = i;
            }
            auto put = [&](std::size_t i) {
                if (opts.sack_count >= wire::kTcpMaxSackBlocks) return;
                opts.sack_blocks[opts.sack_count++] =
                    wire::SackBlock{(c.rcv_nxt + static_cast<std::uint32_t>(ooo[i].begin)).v,
                                    (c.rcv_nxt + static_cast<std::uint32_t>(ooo[i].end)).v};
            };
            put(first);
            for (std::size_t i = 0; i < ooo.size(); ++i)
                if (i != first) put(i);
        }
    }
    wire::TcpHeader h;
    h.src_port = c.tuple.local_port;
    h.dst_port = c.tuple.remote_port;
    h.seq = seq.v;
    h.flags = flags;
    std::uint32_t wnd = 0;
    if (flags & kAck) {
        h.ack = c.rcv_nxt.v;
        wnd = receive_window(c);
        c.rcv_adv = c.rcv_nxt + wnd;
    } else if (syn) {
        wnd = receive_window(c);
    }
    // RFC 7323 2.2: the window in a SYN or SYN-ACK is never scaled.
    h.window =
        static_cast<std::uint16_t>(syn ? std::min<std::uint32_t>(wnd, 65535)
                                       : std::min<std::uint32_t>(wnd >> c.rcv_wscale, 65535));
    std::optional<net::RouteInfo> looked_up;
    if (!route) {
        looked_up = ip_.route(c.tuple.remote_addr);
        if (looked_up) route = &*looked_up;
    }
    const net::RouteInfo* rt = route;
    const std::size_t hlen = wire::kTcpMinHeaderLen + wire::tcp_options_size(opts);
    // The segment is built where the device sends it from, when it lends its buffer: the
    // payload is copied once, from the send buffer.
    auto buf = rt ? ip_.l4_buffer(*rt, hlen + len) : ip_.l4_buffer();
    // Offloads: where the device finishes checksums, leave only the pseudo-header sum; where it
    // segments, hand it the whole run of segments at once (one crossing instead of dozens).
    // Without, the payload is summed as it is copied and the header is summed after (written
    // first, so that its narrow stores have settled by the time they are read back).
    const bool partial = rt && rt->csum_offload;
    wire::write_tcp(buf, h, opts, len, c.tuple.local_addr, c.tuple.remote_addr,
                    wire::TcpChecksum::kPseudoHeaderOnly);
    std::uint64_t payload_sum = 0;
    if (len && partial)
        c.sndbuf.copy_out(data_offset, len, buf.data() + hlen);
    else if (len)
        payload_sum = c.sndbuf.copy_out_summed(data_offset, len, buf.data() + hlen);
    const std::uint32_t seg_size = segment_size(c);
    if (!partial)
        store_be16(buf.data() + 16, wire::internet_checksum(buf.first(hlen), payload_sum));
    net::TxOffload off;
    off.csum_start = wire::kIpv4MinHeaderLen;
    off.csum_offset = 16;
    off.hdr_len = static_cast<std::uint16_t>(wire::kIpv4MinHeaderLen + hlen);
    if (len > seg_size && rt && rt->tso) off.gso_size = static_cast<std::uint16_t>(seg_size);
    net::IpTx tx;
    tx.src = c.tuple.local_addr;
    tx.dst = c.tuple.remote_addr;
    tx.protocol = wire::kIpProtoTcp;
    tx.dont_fragment = true;
    auto r = ip_.output(tx, hlen + len, now, partial ? &off : nullptr, rt);
    if (!r && r.error() == std::errc::message_size) {
        // The path MTU fell under our segment size: shrink and let retransmission resend.
        if (rt) {
            std::uint32_t m = rt->mtu - 40 - (c.ts_ok ? 12 : 0);
            if (m < c.mss) c.mss = static_cast<std::uint16_t>(std::max<std::uint32_t>(m, 64));
        }
    }
    const std::uint32_t segs =
        len > seg_size ? static_cast<std::uint32_t>((len + seg_size - 1) / seg_size) : 1u;
    c.segs_out += segs - 1;
    counters_.out_segs += segs - 1;
    ++c.segs_out;
    ++counters_.out_segs;
    if (len) ++c.data_segs_out;
    if (flags & kAck) {
        c.ack_now = false;
        c.unacked_bytes = 0;
        c.delack_at = kNever;
    }
}

void TcpLayer::send_syn(Connection& c, Instant now) {
    using namespace wire::tcp_flags;
    const bool syn_ack = c.state == State::kSynReceived;
    if (c.retransmits == 0) c.rtt_start = now;  // the handshake's RTT sample starts here
    // A first SYN with a Fast Open cookie carries the data queued (RFC 7413 3); a retransmitted
    // one goes without it, and the data follows the handshake.
    std::size_t data = 0;
    if (!syn_ack && c.retransmits == 0 && c.fastopen_syn && c.fastopen_syn->len > 0)
        data = std::min<std::size_t>(c.sndbuf.size(), syn_data_max(c));
    send_segment(c, c.iss, 0, data, syn_ack ? (kSyn | kAck) : kSyn, now);
    if (data > 0) {
        c.syn_data = static_cast<std::uint32_t>(data);
        c.bytes_sent += data;
        ++counters_.fastopen_active;
    }
    if (c.snd_nxt == c.iss) c.snd_nxt = c.iss + 1 + static_cast<std::uint32_t>(data);
    c.snd_max = seq_max(c.snd_max, c.snd_nxt);
}

// Data a Fast Open SYN may carry: a segment less the 40 bytes options may take (as Linux's
// tcp_send_syn_data), within the MSS the peer offered when it gave the cookie.
std::uint32_t TcpLayer::syn_data_max(const Connection& c) const {
    std::uint32_t m = c.mss;
    if (c.fastopen_mss != 0) m = std::min<std::uint32_t>(m, c.fastopen_mss);
    if (tc_.timestamps) m -= std::min<std::uint32_t>(m, 12);
    return m > 40 ? m - 40 : 0;
}

void TcpLayer::send_ack(Connection& c, Instant now) {
    // After a timeout SND.NXT is pulled back to resend; a bare ACK still carries the highest
    // sequence sent so that the peer finds it acceptable (Linux: tcp_acceptable_seq).
    send_segment(c, c.snd_max, 0, 0, wire::tcp_flags::kAck, now);
}

// conn: the connection resetting itself (abort, close with unread data, keepalive or timeout):
// its RST carries timestamps when they were negotiated, as Linux's active reset does.
void TcpLayer::send_rst(const FourTuple& t, SeqNum seq, std::optional<SeqNum> ack, Instant now,
                        const Connection* conn) {
    using namespace wire::tcp_flags;
    wire::TcpHeader h;
    h.src_port = t.local_port;
    h.dst_port = t.remote_port;
    h.seq = seq.v;
    h.flags = kRst;
    if (ack) {
        h.ack = ack->v;
        h.flags |= kAck;
    }
    wire::TcpOptions opts;
    if (conn && conn->ts_ok)
        opts.timestamps = wire::TcpTimestamps{ts_now(*conn, now), conn->ts_recent};
    auto buf = ip_.l4_buffer();
    const std::size_t hlen = wire::write_tcp(buf, h, opts, 0, t.local_addr, t.remote_addr);
    net::IpTx tx;
    tx.src = t.local_addr;
    tx.dst = t.remote_addr;
    tx.protocol = wire::kIpProtoTcp;
    tx.dont_fragment = true;
    (void)ip_.output(tx, hlen, now);
    ++counters_.out_segs;
    ++counters_.out_rsts;
}

// Resends the first unacknowledged segment (fast retransmit, partial ACKs, PMTU drops).
void TcpLayer::retransmit_head(Connection& c, Instant now) {
    using namespace wire::tcp_flags;
    const auto outstanding = static_cast<std::uint32_t>(c.snd_max - c.snd_una);
    if (outstanding == 0) return;
    const std::size_t data = std::min<std::size_t>({segment_size(c), c.sndbuf.size(), outstanding});
    std::uint8_t flags = kAck;
    if (data == c.sndbuf.size() && c.fin_queued && data < outstanding) flags |= kFin;
    if (data == c.sndbuf.size() && data > 0) flags |= kPsh;
    send_segment(c, c.snd_una, 0, data, flags, now);
    if (c.sack_ok)
        txq_resent(c, c.snd_una,
                   c.snd_una + static_cast<std::uint32_t>(data) + ((flags & kFin) ? 1u : 0u), now);
    c.rtt_timing = false;  // Karn: no sample from a retransmitted segment
    ++c.total_retrans;
    ++counters_.retrans_segs;
    c.bytes_retrans += data;
}

// Data bytes that fit in one segment now: the MSS less the SACK blocks this segment will carry
// (the MSS already leaves room for timestamps).
std::uint32_t TcpLayer::segment_size(const Connection& c) const {
    std::uint32_t mss = c.mss;
    if (c.sack_ok && !c.rcvbuf.out_of_order().empty()) {
        const std::size_t max_blocks = c.ts_ok ? 3 : 4;
        const std::size_t n = std::min(c.rcvbuf.out_of_order().size(), max_blocks);
        mss -= static_cast<std::uint32_t>(4 + 8 * n);
    }
    return mss;
}

// TCP_CORK or MSG_MORE holds partial segments, until a flush or the FIN.
bool TcpLayer::corked(const Connection& c) const {
    return (c.cork || c.more_hold) && c.flush == Connection::Flush::kNone && !c.fin_queued;
}

// Whether a segment shorter than the MSS may go now. Nagle (RFC 896, RFC 9293 3.7.4) and sender
// SWS avoidance (3.8.6.2.1): it goes only when it empties the queue and nothing is in flight (or
// TCP_NODELAY, or a push), or when it fills half the largest window the peer offered.
bool TcpLayer::may_send_short(const Connection& c, std::size_t len, bool last,
                              std::uint32_t in_flight) const {
    if (c.flush == Connection::Flush::kProbe) return true;  // the probe timer fired
    if (corked(c)) return false;
    const bool pushed = c.flush != Connection::Flush::kNone;
    const bool push_ok = last && (c.nodelay || pushed || in_flight == 0 || c.fin_queued);
    const bool half_window = c.max_snd_wnd > 0 && len >= c.max_snd_wnd / 2 && in_flight == 0;
    return push_ok || half_window;
}

// Whether, after a segment of len bytes, the next one would go in the same run.
bool TcpLayer::next_goes(const Connection& c, std::size_t len, std::size_t unsent,
                         std::uint32_t usable, std::uint32_t seg_size,
                         std::uint32_t in_flight) const {
    const std::size_t rest = unsent - len;
    const std::size_t room = usable - len;
    const std::size_t next = std::min<std::size_t>({rest, room, seg_size});
    if (next == 0) return false;
    if (next == seg_size) return true;
    const SeqNum next_seq = c.snd_nxt + static_cast<std::uint32_t>(len);
    for (SeqNum m : c.eor_marks)
        if (m - next_seq > 0 && static_cast<std::size_t>(m - next_seq) <= next) return true;
    if (corked(c)) return true;  // held by the cork, not cut: Linux leaves PSH off
    return may_send_short(c, next, next == rest, in_flight + static_cast<std::uint32_t>(len));
}

void TcpLayer::output(Connection& c, Instant now) {
    using namespace wire::tcp_flags;
    switch (c.state) {
        case State::kEstablished:
        case State::kCloseWait:
        case State::kFinWait1:
        case State::kClosing:
        case State::kLastAck:
            break;
        case State::kFinWait2:
        case State::kTimeWait:
            if (c.ack_now) send_ack(c, now);
            return;
        default:
            return;
    }
    const auto rt = ip_.route(c.tuple.remote_addr);
    const bool tso = rt && rt->tso;
    // Output only runs between inputs, so the SACK blocks (and the segment size) hold still.
    const std::uint32_t seg_size = segment_size(c);
    const std::size_t tso_max = tso ? tso_max_len(seg_size) : seg_size;
    // With SACK, congestion control's allowance is counted against the pipe (RFC 6675: SACKed
    // and lost segments are not in flight) and, in recovery, set by PRR; lost segments go
    // first.
    std::uint32_t budget = UINT32_MAX;
    // Linux marks a run cut short by the window with PSH only when nothing is SACKed or lost:
    // not what limited transmit or PRR lets out.
    bool plain_flight = true;
    if (c.sack_ok) {
        const std::uint32_t pipe = sack_pipe(c);
        plain_flight = !c.sack_recovery && pipe == c.bytes_in_flight();
        if (c.sack_recovery) {
            budget = c.prr_allow;
        } else {
            const std::uint32_t cwnd = c.cc->state().cwnd;
            budget = cwnd > pipe ? cwnd - pipe : 0u;
        }
        retransmit_lost(c, budget, rt ? &*rt : nullptr, now);
    }
    for (int guard = 0; guard < 1 << 16; ++guard) {
        const std::uint32_t in_flight = c.bytes_in_flight();
        const std::size_t unsent = c.unsent();
        std::uint32_t usable;
        if (c.sack_ok) {
            const std::int32_t room = (c.snd_una + c.snd_wnd) - c.snd_nxt;
            usable = std::min(room > 0 ? static_cast<std::uint32_t>(room) : 0u, budget);
        } else {
            const std::uint32_t wnd = send_window(c);
            const std::int32_t room = (c.snd_una + wnd) - c.snd_nxt;
            usable = room > 0 ? static_cast<std::uint32_t>(room) : 0u;
        }
        if (unsent > 0) {
            std::size_t len = std::min<std::size_t>({unsent, usable, tso ? tso_max : seg_size});
            // A super-segment carries whole segments unless it ends the queued data.
            if (len > seg_size && len < unsent) len -= len % seg_size;
            // MSG_EOR: no segment crosses the end of a record (the marks stay until
            // acknowledged, so that a resend from SND.UNA keeps them too).
            bool at_record_end = false;
            for (SeqNum m : c.eor_marks) {
                if (m <= c.snd_nxt) continue;
                const auto to_mark = static_cast<std::size_t>(m - c.snd_nxt);
                if (len > 0 && to_mark <= len) {
                    len = to_mark;
                    at_record_end = true;
                }
                break;
            }
            if (len == 0) {
                // Zero window with nothing in flight: the persist timer probes it (RFC 9293
                // 3.8.6.1).
                if (c.snd_wnd == 0 && in_flight == 0 && (c.rto_at == kNever || !c.persist)) {
                    c.persist = true;
                    c.rto_at = now + std::max(c.rtt.rto(), tc_.persist_min);
                }
                break;
            }
            const bool last = len == unsent;
            if (len < seg_size && !at_record_end && !may_send_short(c, len, last, in_flight)) {
                // Held data with nothing in flight must not wait for an ACK that may never come:
                // corked data (the 200 ms ceiling of TCP_CORK), and a window smaller than a
                // segment that sender SWS avoidance will not fill (RFC 1122 4.2.3.4's override
                // timer) go after one RTO anyway, as Linux's probe timer sends them.
                if (in_flight == 0 && c.rto_at == kNever) {
                    c.persist = true;
                    c.rto_at = now + std::max(c.rtt.rto(), tc_.persist_min);
                }
                break;
            }
            // PSH where a write without MSG_MORE ends and at a record end; on what the cork
            // timer lets out; and, as Linux marks them, on the last segment of a run cut short by
            // the window or by Nagle while data waits.
            // Retransmissions (after an RTO) are not runs of new data: no cut-short PSH.
            const bool retransmission = c.snd_nxt < c.snd_max;
            const bool next_held = !retransmission && plain_flight && !last && !at_record_end &&
                                   !next_goes(c, len, unsent, usable, seg_size, in_flight);
            std::uint8_t flags = kAck;
            if ((last && !c.more) || at_record_end || next_held ||
                c.flush == Connection::Flush::kProbe)
                flags |= kPsh;
            if (last && c.fin_queued) flags |= kFin;
            const auto offset = static_cast<std::size_t>(c.snd_nxt - c.snd_una);
            send_segment(c, c.snd_nxt, offset, len, flags, now, rt ? &*rt : nullptr);
            if (c.sack_ok) {
                txq_sent(c, c.snd_nxt, static_cast<std::uint32_t>(len), flags, retransmission, now);
                sack_charge(c, budget,
                            static_cast<std::uint32_t>(len) + ((flags & kFin) ? 1u : 0u));
            }
            if (retransmission) {
                ++c.total_retrans;
                ++counters_.retrans_segs;
                c.bytes_retrans += len;
            } else {
                c.bytes_sent += len;
                if (!c.rtt_timing) {
                    c.rtt_timing = true;
                    c.rtt_seq = c.snd_nxt;
                    c.rtt_start = now;
                }
            }
            c.snd_nxt += static_cast<std::uint32_t>(len) + ((flags & kFin) ? 1u : 0u);
            c.snd_max = seq_max(c.snd_max, c.snd_nxt);
            arm_rto(c, now);
            continue;
        }
        if (c.flush != Connection::Flush::kNone) c.flush = Connection::Flush::kNone;
        if (c.fin_queued && c.snd_nxt == c.fin_seq()) {
            send_segment(c, c.snd_nxt, 0, 0, kAck | kFin, now);
            if (c.sack_ok) txq_sent(c, c.snd_nxt, 0, kAck | kFin, c.snd_nxt < c.snd_max, now);
            c.snd_nxt += 1;
            c.snd_max = seq_max(c.snd_max, c.snd_nxt);
            arm_rto(c, now);
        }
        break;
    }
    if (c.ack_now) send_ack(c, now);
}

}  // namespace ustack::tcp
