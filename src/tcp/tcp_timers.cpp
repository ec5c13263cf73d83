// TCP timers: retransmission (RFC 6298), SYN and SYN-ACK retries, persist (RFC 9293 3.8.6.1),
// delayed ACK, keepalive (RFC 1122 4.2.3.6), TIME-WAIT and FIN-WAIT-2.
#include <algorithm>

#include "stack/stack.hpp"
#include "tcp/tcp_layer.hpp"

namespace ustack::tcp {

namespace {
// Linux's retransmits_timed_out(): the time tcp_retries2 backoffs take from a 200 ms base.
Duration retries_timeout(std::uint32_t boundary, Duration rto_base, Duration rto_max) {
    std::uint32_t thresh = 0;
    while ((rto_base * (std::int64_t{2} << thresh)) <= rto_max)
        ++thresh;
    if (thresh > 0) --thresh;
    if (boundary <= thresh) return rto_base * ((std::int64_t{2} << boundary) - 1);
    return rto_base * ((std::int64_t{2} << thresh) - 1) + rto_max * (boundary - thresh);
}
}  // namespace

// The timer index holds each connection once, at its earliest deadline. A deadline that moves
// later (the retransmission timer restarted by every ACK) leaves the entry where it is: when
// it fires early, nothing is due and the connection is filed again at its real deadline. So
// the data path touches the index about once per timeout, not once per segment.
// Entries move by their nodes (extract, change, insert), and the node of the last entry
// that fired is kept for the next one filed: filing allocates nothing once a node exists.
void TcpLayer::reindex(Connection& c) {
    const Instant key = c.state == State::kClosed ? kNever : c.next_deadline();
    if (key == c.timer_key) return;
    if (c.timer_key != kNever && c.state != State::kClosed && key > c.timer_key) return;
    auto node =
        c.timer_key != kNever ? timers_.extract({c.timer_key, c.id}) : std::move(spare_timer_);
    if (key != kNever) {
        if (node.empty()) {
            timers_.insert({key, c.id});
        } else {
            node.value() = {key, c.id};
            timers_.insert(std::move(node));
        }
    } else if (!node.empty()) {
        spare_timer_ = std::move(node);
    }
    c.timer_key = key;
}

void TcpLayer::arm_rto(Connection& c, Instant now) {
    if (c.rto_at == kNever || c.persist) {
        c.rto_at = now + c.rtt.rto();
        c.persist = false;
    }
}

Instant TcpLayer::next_deadline() const {
    return timers_.empty() ? kNever : timers_.begin()->first;
}

void TcpLayer::on_timer(Instant now) {
    while (!timers_.empty() && timers_.begin()->first <= now) {
        const ConnId id = timers_.begin()->second;
        spare_timer_ = timers_.extract(timers_.begin());
        Connection* c = find(id);
        if (!c) continue;
        c->timer_key = kNever;
        on_conn_timer(*c, now);
        if (Connection* still = find(id); still && still->state != State::kClosed) reindex(*still);
        flush_doomed();
    }
}

void TcpLayer::on_conn_timer(Connection& c, Instant now) {
    if (c.close_at <= now) {
        // TIME-WAIT over (2 MSL), or an orphan's FIN-WAIT-2 timed out.
        c.close_at = kNever;
        finish(c, now);
        return;
    }
    if (c.delack_at <= now) {
        c.delack_at = kNever;
        if (c.unacked_bytes > 0 || c.ack_now) {
            ++counters_.delayed_acks;
            c.ack_now = true;
            // A delayed ACK that had to wait means the peer sends slowly: ACK quickly again.
            output(c, now);
        }
    }
    if (c.reo_at <= now) {
        c.reo_at = kNever;
        on_reo_timeout(c, now);
        if (c.state == State::kClosed) return;
    }
    if (c.rto_at <= now) {
        c.rto_at = kNever;
        if (c.persist) {
            c.persist = false;
            on_persist(c, now);
        } else {
            on_rto(c, now);
        }
        if (c.state == State::kClosed) return;
    }
    if (c.keepalive_at <= now) on_keepalive(c, now);
}

void TcpLayer::on_rto(Connection& c, Instant now) {
    if (c.state == State::kSynSent || c.state == State::kSynReceived) {
        const std::uint32_t limit = c.state == State::kSynSent
                                        ? (c.syn_retries ? c.syn_retries : tc_.syn_retries)
                                        : tc_.synack_retries;
        if (c.retransmits >= limit) {
            if (c.state == State::kSynSent) {
                ++counters_.attempt_fails;
                reset_connection(c, std::errc::timed_out, now);
            } else if (c.listener != 0 && !c.accepted) {
                destroy(c);  // the half-open connection is dropped from the SYN queue
            } else {
                reset_connection(c, std::errc::timed_out, now);  // a simultaneous open
            }
            return;
        }
        ++c.retransmits;
        ++c.total_retrans;
        ++counters_.syn_retrans;
        ++counters_.retrans_segs;
        c.rtt.backoff();
        send_syn(c, now);
        c.rto_at = now + c.rtt.rto();
        return;
    }
    if (c.snd_una == c.snd_max) return;  // nothing outstanding
    if (c.first_retrans_at == kNever) c.first_retrans_at = now - c.rtt.rto();
    // TCP_USER_TIMEOUT replaces the retries2 limit: data unacknowledged that long ends it.
    const Duration give_up = c.user_timeout > Duration{0}
                                 ? c.user_timeout
                                 : retries_timeout(tc_.retries2, tc_.min_rto, tc_.max_rto);
    if (now - c.first_retrans_at >= give_up) {
        ++counters_.abort_on_timeout;
        reset_connection(c, std::errc::timed_out, now);
        return;
    }
    // RFC 6298 5.4-5.6, RFC 5681 3.1: back off, collapse cwnd, resend from SND.UNA.
    ++counters_.timeouts;
    ++c.retransmits;
    c.cc->on_rto(static_cast<std::uint32_t>(c.snd_max - c.snd_una));
    c.recovery->on_timeout(c.snd_max);
    // With SACK, the scoreboard starts afresh: everything from SND.UNA is resent and entered
    // again as it goes.
    c.txq.clear();
    c.sack_recovery = false;
    c.prr_allow = 0;
    c.reo_at = kNever;
    c.rtt.backoff();
    c.rtt_timing = false;
    c.snd_nxt = c.snd_una;
    output(c, now);
    if (c.rto_at == kNever) c.rto_at = now + c.rtt.rto();
}

void TcpLayer::on_persist(Connection& c, Instant now) {
    if (c.unsent() == 0 || c.snd_wnd > 0) {
        if (c.unsent() > 0) c.flush = Connection::Flush::kProbe;  // corked data waited an RTO
        output(c, now);
        return;
    }
    if (c.persist_backoff >= tc_.retries2) {
        ++counters_.abort_on_timeout;
        reset_connection(c, std::errc::timed_out, now);
        return;
    }
    // Linux's probe: an ACK one below SND.UNA, which the peer must answer with its window.
    send_segment(c, c.snd_una - 1, 0, 0, wire::tcp_flags::kAck, now);
    ++counters_.zero_window_probes;
    ++c.persist_backoff;
    Duration next = std::max(c.rtt.rto(), tc_.persist_min);
    for (std::uint32_t i = 0; i < c.persist_backoff && next < tc_.max_rto; ++i)
        next *= 2;
    c.rto_at = now + std::min(next, tc_.max_rto);
    c.persist = true;
}

void TcpLayer::on_keepalive(Connection& c, Instant now) {
    c.keepalive_at = kNever;
    if (!c.keepalive || !is_synchronized(c.state) || c.state == State::kTimeWait) return;
    if (now - c.last_recv_at < c.keepalive_idle && c.keepalive_sent == 0) {
        c.keepalive_at = c.last_recv_at + c.keepalive_idle;
        return;
    }
    if (c.keepalive_sent >= c.keepalive_probes) {
        ++counters_.abort_on_timeout;
        send_rst(c.tuple, c.snd_nxt, c.rcv_nxt, now, &c);
        reset_connection(c, std::errc::timed_out, now);
        return;
    }
    send_segment(c, c.snd_una - 1, 0, 0, wire::tcp_flags::kAck, now);
    ++c.keepalive_sent;
    ++counters_.keepalive_probes;
    c.keepalive_at = now + c.keepalive_interval;
}

}  // namespace ustack::tcp
