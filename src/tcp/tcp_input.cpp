// TCP input: demultiplexing and segment arrival, in the order of RFC 9293 3.10.7.
#include <algorithm>

#include "stack/stack.hpp"
#include "tcp/tcp_layer.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

namespace ustack::tcp {

namespace {
using namespace wire::tcp_flags;

constexpr auto kPawsIdle = std::chrono::hours(24 * 24);  // RFC 7323 5.5: 24 days

std::uint64_t pseudo_header_sum(const net::IpRx& rx, ByteSpan l4) {
    return wire::pseudo_header_sum(rx.src, rx.dst, wire::kIpProtoTcp,
                                   static_cast<std::uint32_t>(l4.size()));
}

bool checksum_ok(const net::IpRx& rx, ByteSpan l4) {
    return wire::checksum_fold(wire::checksum_accumulate(l4, pseudo_header_sum(rx, l4))) == 0xffff;
}

// Whether the checksum of segment seg (parsed from l4) is right. For a segment of connection c
// (nullptr: none) whose data goes into c's receive buffer in one piece, at or past `held` bytes
// from RCV.NXT (what a coalesced run holds there), the data is summed as it is copied there and
// the segment's payload then points at that copy (`staged`), which process_data() keeps without
// copying it again.
bool verify_checksum(const net::IpRx& rx, ByteSpan l4, wire::TcpSegment& seg, Connection* c,
                     std::size_t held, bool& staged) {
    std::uint64_t payload_sum = 0;
    ByteSpan copy;
    if (c && !seg.payload.empty() && !seg.header.has(kSyn) && is_synchronized(c->state)) {
        const std::int32_t offset = SeqNum{seg.header.seq} - c->rcv_nxt;
        if (offset >= 0 && static_cast<std::size_t>(offset) >= held)
            copy = c->rcvbuf.stage(static_cast<std::size_t>(offset), seg.payload, payload_sum);
    }
    staged = false;
    if (copy.empty()) return checksum_ok(rx, l4);
    // The header's length is a multiple of 4: the payload's sum adds in as it is.
    const auto header = l4.first(seg.header.header_len);
    const auto sum = wire::checksum_accumulate(header, pseudo_header_sum(rx, l4)) + payload_sum;
    if (wire::checksum_fold(sum) != 0xffff) return false;
    seg.payload = copy;
    staged = true;
    return true;
}

// Data with nothing but ACK (and PSH): what a coalesced run may carry.
bool plain_data(const wire::TcpSegment& seg) {
    return (seg.header.flags & ~kPsh) == kAck && !seg.payload.empty() &&
           seg.options.sack_count == 0;
}
}  // namespace

void TcpLayer::on_datagram(const net::IpRx& rx, ByteSpan l4, Instant now) {
    ++counters_.in_segs;
    // RFC 1122 4.2.3.10: no TCP to broadcast or multicast addresses.
    if (rx.to_broadcast || rx.dst.is_multicast()) {
        ++counters_.in_errs;
        return;
    }
    // The checksum is verified once the connection is known (below), unless the device did.
    auto seg = wire::parse_tcp(l4, rx.src, rx.dst, /*verify=*/false);
    if (!seg) {
        ++counters_.in_errs;
        // A damaged option list counts as what damaged it, when the checksum says so.
        if (seg.error() == wire::ParseError::kBadOption && !rx.l4_csum_trusted &&
            !checksum_ok(rx, l4))
            ++counters_.in_csum_errors;
        return;
    }
    const FourTuple t{rx.dst, seg->header.dst_port, rx.src, seg->header.src_port};
    auto it = by_tuple_.find(t);
    Connection* c = it != by_tuple_.end() ? it->second : nullptr;
    const std::size_t held = c && run_.id == c->id ? run_.seg.payload.size() : 0;
    bool staged = false;
    if (!rx.l4_csum_trusted && !verify_checksum(rx, l4, *seg, c, held, staged)) {
        ++counters_.in_errs;
        ++counters_.in_csum_errors;
        return;
    }
    // A GRO super-packet counts as the segments it carries (Linux counts by gso_segs).
    if (rx.gso_size != 0 && seg->payload.size() > rx.gso_size)
        counters_.in_segs += (seg->payload.size() + rx.gso_size - 1) / rx.gso_size - 1;
    if (run_.id != 0) {
        if (staged && run_.id == c->id && continues_run(*c, *seg)) {
            Run& r = run_;
            r.seg.payload =
                ByteSpan{r.seg.payload.data(), r.seg.payload.size() + seg->payload.size()};
            r.seg.header.flags |= seg->header.flags;
            r.last_len = seg->payload.size();
            ++r.segs;
            return;
        }
        flush_run(now);
        it = by_tuple_.find(t);
        c = it != by_tuple_.end() ? it->second : nullptr;
    }
    // In-order data starts a run, within a batch of frames.
    if (batching_ && staged && c && c->state == State::kEstablished && plain_data(*seg) &&
        SeqNum{seg->header.seq} == c->rcv_nxt) {
        run_.id = c->id;
        run_.rx = rx;
        run_.rx.ip_packet = {};  // the frame is gone by the time the run is processed
        run_.seg = *seg;
        run_.seg.header.raw_options = {};
        run_.segs = 1;
        run_.seg_size = run_.last_len = seg->payload.size();
        return;
    }
    process_segment(rx, *seg, c, now);
}

// Whether seg (already staged) continues the run: the next bytes, right after the run's in the
// receive buffer, with the same ACK, window and options, after full-sized segments only. Unlike
// Linux's GRO, a PSH does not end a run: it holds nothing back here (the whole batch is
// processed before the poll returns), and a sender that pushes at the end of every burst would
// otherwise keep runs as short as its bursts.
bool TcpLayer::continues_run(const Connection& c, const wire::TcpSegment& seg) const {
    const auto& r = run_.seg;
    return c.state == State::kEstablished && plain_data(seg) &&
           seg.header.seq == r.header.seq + static_cast<std::uint32_t>(r.payload.size()) &&
           seg.header.ack == r.header.ack && seg.header.window == r.header.window &&
           seg.options == r.options && run_.last_len == run_.seg_size &&
           seg.payload.size() <= run_.seg_size &&
           seg.payload.data() == r.payload.data() + r.payload.size();
}

void TcpLayer::flush_run(Instant now) {
    if (run_.id == 0) return;
    Run r = run_;
    run_.id = 0;
    Connection* c = find(r.id);
    if (!c) return;
    if (r.segs > 1) {
        // Processed as one segment, counted as the segments it was (Linux counts gso_segs).
        r.rx.gso_size = static_cast<std::uint16_t>(r.seg_size);
        c->segs_in += r.segs - 1;
        c->data_segs_in += r.segs - 1;
    }
    process_segment(r.rx, r.seg, c, now);
}

void TcpLayer::end_batch(Instant now) {
    flush_run(now);
    batching_ = false;
}

void TcpLayer::process_segment(const net::IpRx& rx, const wire::TcpSegment& seg, Connection* c,
                               Instant now) {
    SegmentIn in{&rx, seg, SeqNum{seg.header.seq}, SeqNum{seg.header.ack}, 0};
    in.len = static_cast<std::uint32_t>(seg.payload.size()) + (seg.header.has(kSyn) ? 1u : 0u) +
             (seg.header.has(kFin) ? 1u : 0u);
    if (c) {
        const ConnId id = c->id;
        on_segment(*c, in, now);
        if (Connection* still = find(id); still && still->state != State::kClosed) reindex(*still);
    } else if (Listener* l = find_listener(rx.dst, seg.header.dst_port)) {
        on_listen_segment(*l, in, now);
    } else {
        send_reset_for(in, now);
    }
    flush_doomed();
}

// RFC 9293 3.10.7.1 (CLOSED): a reset for anything but a reset.
void TcpLayer::send_reset_for(const SegmentIn& in, Instant now) {
    const auto& h = in.seg.header;
    if (h.has(kRst)) return;
    FourTuple t{in.rx->dst, h.dst_port, in.rx->src, h.src_port};
    if (h.has(kAck))
        send_rst(t, in.ack, std::nullopt, now);
    else
        send_rst(t, SeqNum{0}, in.seq + in.len, now);
}

void TcpLayer::negotiate_options(Connection& c, const wire::TcpOptions& o) {
    c.peer_mss = o.mss.value_or(tc_.default_mss);
    c.ws_ok = tc_.window_scaling && o.window_scale.has_value();
    c.snd_wscale = c.ws_ok ? std::min<std::uint8_t>(*o.window_scale, 14) : 0;
    if (!c.ws_ok) c.rcv_wscale = 0;
    c.ts_ok = tc_.timestamps && o.timestamps.has_value();
    c.sack_ok = tc_.sack && o.sack_permitted;
    std::uint32_t our = 1460;
    if (auto r = ip_.route(c.tuple.remote_addr)) our = r->mtu - 40;
    if (c.user_mss != 0) our = std::min<std::uint32_t>(our, c.user_mss);  // TCP_MAXSEG
    std::uint32_t mss = std::min<std::uint32_t>(c.peer_mss, our);
    // RFC 6691 / RFC 9293 3.7.1: the MSS option excludes options; leave room for timestamps.
    if (c.ts_ok) mss -= 12;
    c.mss = static_cast<std::uint16_t>(std::max<std::uint32_t>(mss, 64));
    c.adv_mss = static_cast<std::uint16_t>(std::min<std::uint32_t>(our, 65535));
    c.rcv_mss =
        std::min<std::uint16_t>(c.mss, static_cast<std::uint16_t>(our - (c.ts_ok ? 12 : 0)));
    if (c.cc) c.cc->set_mss(c.mss);
}

void TcpLayer::on_listen_segment(Listener& l, const SegmentIn& in, Instant now) {
    const auto& h = in.seg.header;
    if (h.has(kRst)) return;  // RFC 9293 3.10.7.2: ignore
    if (h.has(kAck)) {        // an ACK to a listener: reset
        send_reset_for(in, now);
        return;
    }
    if (!h.has(kSyn)) return;
    if (l.accept_queue.size() >= l.backlog) {
        ++counters_.listen_overflows;
        ++counters_.listen_drops;
        return;
    }
    if (l.syn_queue >= l.backlog) {
        ++counters_.listen_drops;
        return;
    }
    FourTuple t{in.rx->dst, h.dst_port, in.rx->src, h.src_port};
    Connection& c = create(t, now);
    c.listener = l.id;
    c.user_mss = l.user_mss;
    ++l.syn_queue;
    c.irs = in.seq;
    c.rcv_nxt = in.seq + 1;
    c.rcv_adv = c.rcv_nxt;
    negotiate_options(c, in.seg.options);
    if (c.ts_ok) {
        c.ts_recent = in.seg.options.timestamps->value;
        c.ts_recent_at = now;
    }
    c.snd_wnd = h.window;  // unscaled in a SYN (RFC 7323 2.2)
    c.max_snd_wnd = c.snd_wnd;
    c.snd_wl1 = in.seq;
    set_state(c, State::kSynReceived, now);
    send_syn(c, now);
    arm_rto(c, now);
    reindex(c);
}

// Our SYN (or SYN-ACK) is acknowledged: take the handshake's RTT sample — timed from the SYN
// when it went out once (Karn; Linux's tcp_synack_rtt_meas on the passive side), else from the
// echoed timestamp (RFC 7323 4.1), unambiguous but millisecond-grained — stop the timer, and
// enter ESTABLISHED.
void TcpLayer::handshake_complete(Connection& c, const SegmentIn& in, Instant now) {
    if (c.retransmits == 0)
        c.rtt.sample(now - c.rtt_start);
    else if (c.ts_ok && in.seg.options.timestamps && in.seg.options.timestamps->echo != 0)
        c.rtt.sample(std::chrono::milliseconds(ts_now(c, now) - in.seg.options.timestamps->echo));
    c.rto_at = kNever;
    c.retransmits = 0;
    c.rtt.reset_backoff();
    established(c, now);
}

void TcpLayer::on_syn_sent_segment(Connection& c, const SegmentIn& in, Instant now) {
    const auto& h = in.seg.header;
    // RFC 9293 3.10.7.3, first: the ACK must acknowledge our SYN.
    if (h.has(kAck) && (in.ack <= c.iss || in.ack > c.snd_max)) {
        if (!h.has(kRst)) send_rst(c.tuple, in.ack, std::nullopt, now);
        return;
    }
    if (h.has(kRst)) {
        if (h.has(kAck)) {
            ++counters_.attempt_fails;
            reset_connection(c, std::errc::connection_refused, now);
        }
        return;
    }
    if (!h.has(kSyn)) return;
    c.irs = in.seq;
    c.rcv_nxt = in.seq + 1;
    negotiate_options(c, in.seg.options);
    if (c.ts_ok) {
        c.ts_recent = in.seg.options.timestamps->value;
        c.ts_recent_at = now;
    }
    // RFC 7413 4.1.2: a cookie in the SYN-ACK of a connection that asked for one (or sent one)
    // is kept for the next connection to this peer, with the MSS the peer offers (updated by
    // every such SYN-ACK, cookie or not: it bounds the next SYN's data).
    if (c.fastopen_syn) {
        const auto& fo = in.seg.options.fastopen;
        fastopen_remember(c, fo && fo->len > 0 ? &*fo : nullptr);
    }
    if (h.has(kAck)) {
        c.snd_una = in.ack;
        c.syn_acked = true;
        if (c.syn_data > 0) {
            // Data the SYN carried: what the SYN-ACK acknowledges is done; the rest (the peer
            // took only the SYN, RFC 7413 4.2.2) goes again at once after the handshake.
            const auto acked = static_cast<std::uint32_t>(in.ack - (c.iss + 1));
            const auto data_acked =
                std::min<std::uint32_t>(acked, static_cast<std::uint32_t>(c.sndbuf.size()));
            c.sndbuf.consume(data_acked);
            c.bytes_acked += data_acked;
            c.syn_data_acked = acked >= c.syn_data;
            if (acked < c.syn_data) {
                ++counters_.fastopen_active_fail;
                c.snd_nxt = c.snd_una;
                c.total_retrans += 1;
                c.bytes_retrans += c.syn_data - acked;
            }
        }
        c.snd_wnd = h.window;  // unscaled in a SYN-ACK
        c.max_snd_wnd = c.snd_wnd;
        c.snd_wl1 = in.seq;
        c.snd_wl2 = in.ack;
        handshake_complete(c, in, now);
        c.ack_now = true;
        if (!in.seg.payload.empty()) {
            SegmentIn data = in;
            data.seq = in.seq + 1;
            process_data(c, data, now);
        }
        output(c, now);
        return;
    }
    // Simultaneous open (RFC 9293 3.5 figure 7): SYN-RECEIVED, answer with SYN-ACK.
    c.rcv_adv = c.rcv_nxt;
    c.snd_wnd = h.window;
    set_state(c, State::kSynReceived, now);
    send_syn(c, now);
}

void TcpLayer::send_challenge_ack(Connection& c, Instant now) {
    // RFC 5961 7: rate-limited.
    if (now - last_challenge_ < tc_.challenge_ack_interval && last_challenge_ != Instant{}) return;
    last_challenge_ = now;
    ++counters_.challenge_acks;
    send_ack(c, now);
}

// RFC 7323 4.3 and 5.3: PAWS, and which TSval becomes TS.Recent. Returns false to drop.
bool TcpLayer::update_timestamps(Connection& c, const SegmentIn& in, Instant now) {
    if (!c.ts_ok || !in.seg.options.timestamps) return true;
    const std::uint32_t tsval = in.seg.options.timestamps->value;
    if (!in.seg.header.has(kRst) && static_cast<std::int32_t>(tsval - c.ts_recent) < 0 &&
        now - c.ts_recent_at < kPawsIdle) {
        ++counters_.paws_estab_rejected;
        c.ack_now = true;
        return false;
    }
    // RFC 7323 4.3 (3): SEG.TSval becomes TS.Recent if the segment covers Last.ACK.sent.
    if (in.seq <= c.rcv_nxt && static_cast<std::int32_t>(tsval - c.ts_recent) >= 0) {
        c.ts_recent = tsval;
        c.ts_recent_at = now;
    }
    return true;
}

void TcpLayer::on_segment(Connection& c, SegmentIn& in, Instant now) {
    const auto& h = in.seg.header;
    ++c.segs_in;
    if (c.state == State::kSynSent) {
        on_syn_sent_segment(c, in, now);
        return;
    }
    if (c.state == State::kClosed) return;
    c.last_recv_at = now;
    if (c.keepalive) {
        c.keepalive_sent = 0;
        c.keepalive_at = now + c.keepalive_idle;
    }
    // A retransmitted SYN in SYN-RECEIVED: our SYN-ACK was lost; send it again.
    if (c.state == State::kSynReceived && h.has(kSyn) && !h.has(kAck) && in.seq == c.irs) {
        send_syn(c, now);
        return;
    }
    // TIME-WAIT: a retransmitted FIN is acknowledged and restarts the 2 MSL wait (3.10.7.4).
    if (c.state == State::kTimeWait && h.has(kFin) && !h.has(kRst) && !h.has(kSyn)) {
        c.close_at = now + tc_.time_wait;
        c.ack_now = true;
        output(c, now);
        return;
    }
    // --- first: sequence number ---------------------------------------------------------------
    if (!update_timestamps(c, in, now)) {
        output(c, now);
        return;
    }
    const std::int32_t wnd_signed = c.rcv_adv - c.rcv_nxt;
    const std::uint32_t wnd = wnd_signed > 0 ? static_cast<std::uint32_t>(wnd_signed) : 0u;
    bool acceptable;
    if (in.len == 0) {
        acceptable = wnd == 0 ? in.seq == c.rcv_nxt : seq_in(in.seq, c.rcv_nxt, c.rcv_nxt + wnd);
    } else if (wnd == 0) {
        // A zero-window probe carries data we cannot take; its ACK still counts.
        acceptable = in.seq == c.rcv_nxt;
    } else {
        acceptable = seq_in(in.seq, c.rcv_nxt, c.rcv_nxt + wnd) ||
                     seq_in(in.seq + (in.len - 1), c.rcv_nxt, c.rcv_nxt + wnd);
    }
    // Simultaneous open: the peer's SYN-ACK in SYN-RECEIVED completes the handshake (its SYN
    // is the one we already have; Linux accepts it the same way).
    if (!acceptable && c.state == State::kSynReceived && h.has(kSyn) && h.has(kAck) &&
        in.seq + 1 == c.rcv_nxt && in.ack == c.snd_nxt)
        acceptable = true;
    if (!acceptable) {
        if (!h.has(kRst)) {
            c.ack_now = true;
            ++counters_.bad_segment_drops;
            output(c, now);
        }
        return;
    }
    // Trim to the window: bytes before RCV.NXT and beyond RCV.NXT + RCV.WND go.
    ByteSpan payload = in.seg.payload;
    bool syn = h.has(kSyn);
    bool fin = h.has(kFin);
    SeqNum seq = in.seq;
    if (seq < c.rcv_nxt) {
        std::uint32_t cut = static_cast<std::uint32_t>(c.rcv_nxt - seq);
        if (syn) {
            syn = false;
            --cut;
            seq += 1;
        }
        const std::uint32_t n =
            std::min<std::uint32_t>(cut, static_cast<std::uint32_t>(payload.size()));
        payload = payload.subspan(n);
        seq += n;
    }
    const SeqNum right = c.rcv_nxt + wnd;
    if (seq + static_cast<std::uint32_t>(payload.size()) > right) {
        const auto keep = static_cast<std::uint32_t>(std::max<std::int32_t>(right - seq, 0));
        payload = payload.first(std::min<std::size_t>(keep, payload.size()));
        fin = false;
        c.ack_now = true;  // data beyond the window is dropped and acknowledged (3.10.7.4)
    }
    // --- second: RST (RFC 5961 3.2) -------------------------------------------------------------
    if (h.has(kRst)) {
        if (in.seq != c.rcv_nxt) {
            send_challenge_ack(c, now);
            return;
        }
        switch (c.state) {
            case State::kSynReceived:
                if (c.listener != 0 && !c.accepted) {
                    destroy(c);  // back to LISTEN: the listener simply forgets it
                } else {
                    ++counters_.attempt_fails;
                    reset_connection(c, std::errc::connection_refused, now);
                }
                return;
            case State::kTimeWait:
                // CLOSED, but what the application has not read yet stays readable.
                finish(c, now);
                return;
            default:
                // The error the application sees, as Linux's tcp_reset() picks it: after the
                // peer's FIN (CLOSE-WAIT) writing is what fails, so EPIPE; else ECONNRESET.
                reset_connection(c,
                                 c.state == State::kCloseWait ? std::errc::broken_pipe
                                                              : std::errc::connection_reset,
                                 now);
                return;
        }
    }
    // --- fourth: SYN in a synchronized state: challenge ACK (RFC 5961 4.2) ----------------------
    if (syn) {
        send_challenge_ack(c, now);
        return;
    }
    // --- fifth: ACK ------------------------------------------------------------------------------
    if (!h.has(kAck)) return;
    if (c.state == State::kSynReceived) {
        if (!(c.snd_una < in.ack && in.ack <= c.snd_max)) {
            send_rst(c.tuple, in.ack, std::nullopt, now);
            return;
        }
        c.snd_una = in.ack;
        c.syn_acked = true;
        c.snd_wnd = static_cast<std::uint32_t>(h.window) << c.snd_wscale;
        c.max_snd_wnd = std::max(c.max_snd_wnd, c.snd_wnd);
        c.snd_wl1 = in.seq;
        c.snd_wl2 = in.ack;
        handshake_complete(c, in, now);
    } else if (!process_ack(c, in, now)) {
        return;
    }
    if (c.state == State::kClosed) return;
    // --- seventh: segment text -------------------------------------------------------------------
    if (!payload.empty()) {
        switch (c.state) {
            case State::kEstablished:
            case State::kFinWait1:
            case State::kFinWait2: {
                if (c.orphan) {
                    // Linux: data for a socket the application closed resets the connection.
                    ++counters_.abort_on_data;
                    send_rst(c.tuple, c.snd_nxt, std::nullopt, now);
                    destroy(c);
                    return;
                }
                SegmentIn data = in;
                data.seq = seq;
                data.seg.payload = payload;
                process_data(c, data, now);
                break;
            }
            default:
                break;  // CLOSE-WAIT and later: the peer already sent FIN; ignore
        }
    }
    // --- eighth: FIN
    // ------------------------------------------------------------------------------
    if (fin) c.peer_fin = seq + static_cast<std::uint32_t>(payload.size());
    if (c.peer_fin && !c.fin_received && *c.peer_fin == c.rcv_nxt) process_fin(c, now);
    if (c.state != State::kClosed) output(c, now);
}

bool TcpLayer::process_ack(Connection& c, const SegmentIn& in, Instant now) {
    const auto& h = in.seg.header;
    // RFC 5961 5.2: an ACK for data never sent is answered and dropped; one far below SND.UNA
    // (older than the largest window) is a blind injection attempt: challenge ACK.
    if (in.ack > c.snd_max) {
        c.ack_now = true;
        output(c, now);
        return false;
    }
    if (in.ack < c.snd_una - std::max<std::uint32_t>(c.max_snd_wnd, 65535)) {
        send_challenge_ack(c, now);
        return false;
    }
    const std::uint32_t new_wnd = static_cast<std::uint32_t>(h.window) << c.snd_wscale;
    const std::int32_t acked_signed = in.ack - c.snd_una;
    const std::uint32_t acked = acked_signed > 0 ? static_cast<std::uint32_t>(acked_signed) : 0u;
    const std::uint32_t flight_before = static_cast<std::uint32_t>(c.snd_max - c.snd_una);
    // RFC 5681 2: a duplicate ACK acknowledges nothing new, carries no data, SYN or FIN, leaves
    // the window as it was, and arrives while data is outstanding.
    const bool dup = acked == 0 && in.seg.payload.empty() && !h.has(kSyn) && !h.has(kFin) &&
                     new_wnd == c.snd_wnd && flight_before > 0 && in.ack == c.snd_una;
    const SeqNum una_before = c.snd_una;
    RecoveryAction recovery_action = RecoveryAction::kNone;
    if (acked > 0) {
        std::uint32_t data_acked =
            std::min<std::uint32_t>(acked, static_cast<std::uint32_t>(c.sndbuf.size()));
        c.sndbuf.consume(data_acked);
        c.snd_una = in.ack;
        if (c.snd_nxt < c.snd_una) c.snd_nxt = c.snd_una;
        c.bytes_acked += data_acked;
        // RTT (RFC 6298): from the timed segment, in microseconds. When a retransmission
        // cancelled the timing (Karn), the echoed timestamp still gives an unambiguous,
        // millisecond-grained sample (RFC 7323 4.1).
        if (c.rtt_timing && in.ack > c.rtt_seq) {
            c.rtt.sample(now - c.rtt_start);
            c.rtt_timing = false;
        } else if (!c.rtt_timing && c.ts_ok && in.seg.options.timestamps &&
                   in.seg.options.timestamps->echo != 0) {
            const auto ms =
                static_cast<std::int32_t>(ts_now(c, now) - in.seg.options.timestamps->echo);
            if (ms >= 0) c.rtt.sample(std::chrono::milliseconds(std::max(ms, 1)));
        }
        c.retransmits = 0;
        c.first_retrans_at = kNever;
        c.rtt.reset_backoff();
        // Record ends now acknowledged are no longer needed to cut segments.
        while (!c.eor_marks.empty() && c.eor_marks.front() <= c.snd_una)
            c.eor_marks.erase(c.eor_marks.begin());
        if (c.sack_ok) {
            sack_ack(c, in, flight_before, data_acked, now);
        } else {
            recovery_action =
                c.recovery->on_ack(AckEvent{in.ack, una_before, c.snd_max, acked, data_acked,
                                            flight_before, c.bytes_in_flight(), false, c.mss},
                                   *c.cc, now);
        }
        // RFC 6298 5.2 / 5.3: stop the timer when all is acknowledged, else restart it.
        c.rto_at = (c.snd_una == c.snd_max) ? kNever : now + c.rtt.rto();
        c.persist = false;
        if (c.sndbuf.free_space() >= c.sndbuf.capacity() / 3 && data_acked > 0)
            notify(c, events::kWritable);
    } else if (c.sack_ok) {
        sack_ack(c, in, flight_before, 0, now);
    } else {
        recovery_action = c.recovery->on_ack(
            AckEvent{in.ack, una_before, c.snd_max, 0, 0, flight_before, flight_before, dup, c.mss},
            *c.cc, now);
    }
    if (recovery_action == RecoveryAction::kFastRetransmit) ++counters_.fast_retrans;
    if (recovery_action != RecoveryAction::kNone) retransmit_head(c, now);
    // RFC 9293 3.10.7.4: window update from a segment no older than the last one used.
    if (c.snd_wl1 < in.seq || (c.snd_wl1 == in.seq && c.snd_wl2 <= in.ack)) {
        c.snd_wnd = new_wnd;
        c.max_snd_wnd = std::max(c.max_snd_wnd, new_wnd);
        c.snd_wl1 = in.seq;
        c.snd_wl2 = in.ack;
        if (c.snd_wnd > 0 && c.persist) {
            c.persist = false;
            c.persist_backoff = 0;
            c.rto_at = kNever;
        }
    }
    // State changes when our FIN is acknowledged.
    if (c.fin_acked()) {
        switch (c.state) {
            case State::kFinWait1:
                set_state(c, State::kFinWait2, now);
                c.rto_at = kNever;
                if (c.orphan) c.close_at = now + tc_.fin_timeout;
                break;
            case State::kClosing:
                enter_time_wait(c, now);
                break;
            case State::kLastAck:
                finish(c, now);
                return false;
            default:
                break;
        }
    }
    return true;
}

void TcpLayer::process_data(Connection& c, SegmentIn& in, Instant now) {
    const auto offset = static_cast<std::size_t>(in.seq - c.rcv_nxt);
    ByteSpan payload = in.seg.payload;
    const bool had_ooo = !c.rcvbuf.out_of_order().empty();
    if (c.rcvbuf.free_space() == 0 && !payload.empty()) ++counters_.rcv_window_full_drops;
    const std::size_t ooo_before = c.rcvbuf.out_of_order_bytes();
    const std::size_t in_order = c.rcvbuf.write(offset, payload);
    ++c.data_segs_in;
    if (offset > 0) {
        // Out of order: keep it, say so at once (RFC 5681 4.2: immediate duplicate ACK).
        ++counters_.ofo_queue;
        c.last_ooo = in.seq;
        if (c.rcvbuf.out_of_order_bytes() == ooo_before) ++counters_.ofo_drop;
        c.ack_now = true;
        return;
    }
    if (in_order == 0) {
        c.ack_now = true;
        return;
    }
    c.rcv_nxt += static_cast<std::uint32_t>(in_order);
    c.bytes_received += in_order;
    // Linux's rcv_mss: the largest segment seen (in a coalesced one, the size of the segments
    // it was made of), capped by what we advertised.
    const std::size_t seg_len = in.rx->gso_size != 0
                                    ? std::min<std::size_t>(payload.size(), in.rx->gso_size)
                                    : payload.size();
    if (seg_len > c.rcv_mss)
        c.rcv_mss = static_cast<std::uint16_t>(std::min<std::size_t>(seg_len, c.adv_mss));
    notify(c, events::kReadable);
    // Delayed ACKs the Linux way: quick ACKs at the start, every second full segment at once,
    // gap-filling data at once, otherwise within the delayed-ACK timeout.
    c.unacked_bytes += static_cast<std::uint32_t>(in_order);
    if (had_ooo) {
        c.ack_now = true;
    } else if (c.quickacks > 0) {
        --c.quickacks;
        c.ack_now = true;
    } else if (c.unacked_bytes >= 2u * c.rcv_mss) {
        c.ack_now = true;
    } else if (c.delack_at == kNever) {
        c.delack_at = now + tc_.delack_min;
    }
}

void TcpLayer::process_fin(Connection& c, Instant now) {
    c.rcv_nxt += 1;
    c.fin_received = true;
    c.ack_now = true;
    switch (c.state) {
        case State::kSynReceived:
        case State::kEstablished:
            set_state(c, State::kCloseWait, now);
            break;
        case State::kFinWait1:
            if (c.fin_acked())
                enter_time_wait(c, now);
            else
                set_state(c, State::kClosing, now);
            break;
        case State::kFinWait2:
            enter_time_wait(c, now);
            break;
        case State::kTimeWait:
            c.close_at = now + tc_.time_wait;
            break;
        default:
            break;
    }
    notify(c, events::kReadable);
}

void TcpLayer::on_icmp_error(const net::IcmpErrorRx& e, Instant now) {
    flush_run(now);  // what arrived before the error is processed before it
    if (e.orig_l4.size() < 8) return;
    FourTuple t{e.orig_src, load_be16(e.orig_l4.data()), e.orig_dst,
                load_be16(e.orig_l4.data() + 2)};
    auto it = by_tuple_.find(t);
    if (it == by_tuple_.end()) return;
    Connection& c = *it->second;
    // RFC 5927 / RFC 5961 spirit: the quoted sequence number must be one we have outstanding.
    const SeqNum seq{load_be32(e.orig_l4.data() + 4)};
    if (!(c.snd_una <= seq && seq <= c.snd_max) && !(c.state == State::kSynSent && seq == c.iss))
        return;
    if (e.type == 3 && e.code == 4) {
        // RFC 1191: frag-needed: resegment at the new path MTU and resend at once.
        const std::uint32_t m = e.next_hop_mtu - 40u - (c.ts_ok ? 12u : 0u);
        if (m < c.mss && m >= 64) {
            c.mss = static_cast<std::uint16_t>(m);
            c.cc->set_mss(c.mss);
            retransmit_head(c, now);
        }
        return;
    }
    // RFC 1122 4.2.3.9: hard errors abort a connection that is being opened; otherwise they
    // are soft (reported only if the connection later times out).
    if (c.state == State::kSynSent && e.type == 3 &&
        (e.code == 2 || e.code == 3 || e.code == 9 || e.code == 10 || e.code == 13)) {
        ++counters_.attempt_fails;
        reset_connection(c,
                         e.code == 3 || e.code == 2 ? std::errc::connection_refused
                                                    : std::errc::host_unreachable,
                         now);
        flush_doomed();
    }
}

}  // namespace ustack::tcp
