// TcpLayer lifecycle and socket calls.
#include "tcp/tcp_layer.hpp"

#include <algorithm>

#include "stack/stack.hpp"

namespace ustack::tcp {

std::string_view to_string(State s) {
    switch (s) {
        case State::kClosed:
            return "CLOSED";
        case State::kListen:
            return "LISTEN";
        case State::kSynSent:
            return "SYN-SENT";
        case State::kSynReceived:
            return "SYN-RECEIVED";
        case State::kEstablished:
            return "ESTABLISHED";
        case State::kFinWait1:
            return "FIN-WAIT-1";
        case State::kFinWait2:
            return "FIN-WAIT-2";
        case State::kCloseWait:
            return "CLOSE-WAIT";
        case State::kClosing:
            return "CLOSING";
        case State::kLastAck:
            return "LAST-ACK";
        case State::kTimeWait:
            return "TIME-WAIT";
    }
    return "?";
}

namespace {
// RFC 7323 2.3: the smallest shift that lets the window cover the largest receive buffer.
std::uint8_t wscale_for(std::size_t buffer) {
    std::uint8_t ws = 0;
    while (ws < 14 && (std::size_t{65535} << ws) < buffer)
        ++ws;
    return ws;
}

std::array<std::uint8_t, 16> key_from_seed(std::uint64_t seed) {
    std::array<std::uint8_t, 16> k{};
    std::uint64_t x = seed ^ 0x6a09e667f3bcc908ull;
    for (int i = 0; i < 16; ++i) {
        x += 0x9e3779b97f4a7c15ull;
        std::uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        k[i] = static_cast<std::uint8_t>(z ^ (z >> 31));
    }
    return k;
}
}  // namespace

TcpLayer::TcpLayer(const StackConfig& cfg, TcpCounters& counters, net::IpLayer& ip,
                   std::uint64_t seed, std::uint32_t* next_socket_id)
    : cfg_(cfg),
      tc_(cfg.tcp),
      counters_(counters),
      ip_(ip),
      isn_(key_from_seed(seed)),
      next_id_(next_socket_id),
      port_seed_(seed * 0x2545f4914f6cdd1dull) {}

TcpLayer::~TcpLayer() = default;

Connection* TcpLayer::find(ConnId id) {
    auto it = conns_.find(id);
    return it == conns_.end() ? nullptr : it->second.get();
}
const Connection* TcpLayer::find(ConnId id) const {
    auto it = conns_.find(id);
    return it == conns_.end() ? nullptr : it->second.get();
}
bool TcpLayer::exists(ConnId id) const {
    return conns_.count(id) || listeners_.count(id);
}

void TcpLayer::notify(Connection& c, std::uint32_t events) {
    if (ready_fn_ && !c.orphan && (c.accepted || c.listener == 0))
        ready_fn_(ready_ctx_, c.id, events);
}

Connection& TcpLayer::create(const FourTuple& t, Instant now) {
    auto c = std::make_unique<Connection>(tc_.initial_rto, tc_.min_rto, tc_.max_rto);
    c->id = (*next_id_)++;
    c->tuple = t;
    c->sndbuf.set_capacity(tc_.send_buffer);
    c->rcvbuf.set_capacity(tc_.recv_buffer);
    c->cc = tc_.congestion == TcpConfig::Congestion::kCubic
                ? make_cubic(tc_.slow_start_ack_limit)
                : make_newreno(tc_.slow_start_ack_limit);
    c->recovery = make_newreno_recovery();
    c->quickacks = tc_.quickack_segments;
    c->rcv_wscale =
        tc_.window_scaling ? wscale_for(std::max(tc_.max_recv_buffer, tc_.recv_buffer)) : 0;
    c->keepalive_idle = tc_.keepalive_idle;
    c->keepalive_interval = tc_.keepalive_interval;
    c->keepalive_probes = tc_.keepalive_probes;
    c->iss = tc_.fixed_iss
                 ? SeqNum{*tc_.fixed_iss + c->id}
                 : SeqNum{isn_.isn(t.local_addr, t.local_port, t.remote_addr, t.remote_port, now)};
    c->snd_una = c->snd_nxt = c->snd_max = c->iss;
    c->write_seq = c->iss + 1;
    c->ts_offset = static_cast<std::uint32_t>(
        isn_.hash(t.local_addr, t.local_port, t.remote_addr, t.remote_port, 0x7473u));
    c->last_recv_at = now;
    Connection& ref = *c;
    by_tuple_[t] = &ref;
    conns_.emplace(ref.id, std::move(c));
    return ref;
}

void TcpLayer::set_state(Connection& c, State s, Instant /*now*/) {
    const bool was_estab = c.state == State::kEstablished || c.state == State::kCloseWait;
    const bool is_estab = s == State::kEstablished || s == State::kCloseWait;
    if (was_estab && !is_estab && counters_.curr_estab) --counters_.curr_estab;
    if (!was_estab && is_estab) ++counters_.curr_estab;
    c.state = s;
}

void TcpLayer::destroy(Connection& c) {
    if (c.state == State::kEstablished || c.state == State::kCloseWait) {
        if (counters_.curr_estab) --counters_.curr_estab;
    }
    if (c.listener != 0) {
        if (auto it = listeners_.find(c.listener); it != listeners_.end()) {
            Listener& l = it->second;
            if (c.state == State::kSynReceived && l.syn_queue) --l.syn_queue;
            std::erase(l.accept_queue, c.id);
        }
    }
    c.state = State::kClosed;
    if (c.timer_key != kNever) timers_.erase({c.timer_key, c.id});
    c.timer_key = kNever;
    unlink_tuple(c);
    doomed_.push_back(c.id);
}

void TcpLayer::reset_connection(Connection& c, std::errc err, Instant now) {
    if (c.state == State::kEstablished || c.state == State::kCloseWait) ++counters_.estab_resets;
    c.error = err;  // the application learns of it, then closes
    finish(c, now, events::kError | events::kWritable);
}

// The end of a connection (LAST-ACK acknowledged, TIME-WAIT over, reset, timeout): an orphan
// goes at once; one the application still holds becomes CLOSED but keeps its unread data, and
// the application learns of it through kHangup.
void TcpLayer::finish(Connection& c, Instant now, std::uint32_t extra_events) {
    if (c.orphan || (c.listener != 0 && !c.accepted)) {
        destroy(c);
        return;
    }
    set_state(c, State::kClosed, now);
    c.rto_at = c.delack_at = c.keepalive_at = c.close_at = kNever;
    c.persist = false;
    if (c.timer_key != kNever) timers_.erase({c.timer_key, c.id});
    c.timer_key = kNever;
    unlink_tuple(c);
    notify(c, events::kHangup | events::kReadable | extra_events);
}

void TcpLayer::enter_time_wait(Connection& c, Instant now) {
    set_state(c, State::kTimeWait, now);
    c.rto_at = c.delack_at = c.keepalive_at = kNever;
    c.persist = false;
    c.close_at = now + tc_.time_wait;
    reindex(c);
}

void TcpLayer::established(Connection& c, Instant now) {
    set_state(c, c.fin_queued ? State::kFinWait1 : State::kEstablished, now);
    c.cc->init(c.mss, tc_.initial_cwnd);
    if (c.keepalive) c.keepalive_at = now + c.keepalive_idle;
    if (c.listener != 0) {
        ++counters_.passive_opens;
        auto it = listeners_.find(c.listener);
        if (it == listeners_.end()) return;
        Listener& l = it->second;
        if (l.syn_queue) --l.syn_queue;
        l.accept_queue.push_back(c.id);
        if (ready_fn_) ready_fn_(ready_ctx_, l.id, events::kReadable);
    } else {
        notify(c, events::kWritable);
    }
}

TcpLayer::Listener* TcpLayer::find_listener(wire::Ipv4Addr addr, std::uint16_t port) {
    Listener* wildcard = nullptr;
    for (auto& [id, l] : listeners_) {
        if (l.local.port != port) continue;
        if (l.local.addr == addr) return &l;
        if (l.local.addr.is_unspecified()) wildcard = &l;
    }
    return wildcard;
}

bool TcpLayer::port_in_use(wire::Ipv4Addr addr, std::uint16_t port) const {
    for (const auto& [id, l] : listeners_) {
        if (l.local.port == port &&
            (l.local.addr == addr || l.local.addr.is_unspecified() || addr.is_unspecified()))
            return true;
    }
    return false;
}

// RFC 6056 3.3.3 (Algorithm 3): offset = F(local, remote, secret); try ports from there, a
// per-destination sequence, skipping tuples in use. The same local port serves many peers.
Result<std::uint16_t, std::errc> TcpLayer::pick_port(const FourTuple& t) {
    const std::uint32_t lo = cfg_.ephemeral_port_min;
    const std::uint32_t hi = std::max<std::uint32_t>(cfg_.ephemeral_port_max, lo);
    const std::uint32_t n = hi - lo + 1;
    const auto offset = static_cast<std::uint32_t>(
        isn_.hash(t.local_addr, 0, t.remote_addr, t.remote_port, 0x706fu));
    for (std::uint32_t i = 0; i < n; ++i) {
        auto port = static_cast<std::uint16_t>(lo + (offset + port_counter_ + i) % n);
        FourTuple cand = t;
        cand.local_port = port;
        if (by_tuple_.count(cand) || port_in_use(t.local_addr, port)) continue;
        port_counter_ += i + 1;
        return port;
    }
    return unexpected(std::errc::address_not_available);
}

// --- socket calls ------------------------------------------------------------------------------

Result<std::uint16_t, std::errc> TcpLayer::check_bind(TcpEndpoint local, bool reuse_address) const {
    if (!local.addr.is_unspecified() && !ip_.is_local_address(local.addr))
        return unexpected(std::errc::address_not_available);
    auto held = [&](std::uint16_t port) {
        if (port_in_use(local.addr, port)) return true;
        for (const auto& [id, c] : conns_) {
            const auto& t = c->tuple;
            if (c->state == State::kClosed || t.local_port != port) continue;
            if (!local.addr.is_unspecified() && t.local_addr != local.addr) continue;
            // Without SO_REUSEADDR, Linux refuses a port that any connection still holds (a
            // TIME-WAIT left by an earlier server included).
            if (!reuse_address) return true;
        }
        return false;
    };
    if (local.port != 0) {
        if (held(local.port)) return unexpected(std::errc::address_in_use);
        return local.port;
    }
    const std::uint32_t lo = cfg_.ephemeral_port_min;
    const std::uint32_t hi = std::max<std::uint32_t>(cfg_.ephemeral_port_max, lo);
    const std::uint32_t n = hi - lo + 1;
    const auto offset = static_cast<std::uint32_t>(
        isn_.hash(local.addr, 0, wire::Ipv4Addr{}, 0, 0x626eu) + port_counter_);
    for (std::uint32_t i = 0; i < n; ++i) {
        auto port = static_cast<std::uint16_t>(lo + (offset + i) % n);
        bool busy = held(port);
        for (const auto& [t, c] : by_tuple_)
            busy = busy || t.local_port == port;
        if (!busy) return port;
    }
    return unexpected(std::errc::address_in_use);
}

Result<ConnId, std::errc> TcpLayer::listen(TcpEndpoint local, std::uint32_t backlog,
                                           bool reuse_address, Instant) {
    if (local.port == 0) return unexpected(std::errc::invalid_argument);
    auto ok = check_bind(local, reuse_address);
    if (!ok) return unexpected(ok.error());
    Listener l;
    l.id = (*next_id_)++;
    l.local = local;
    l.backlog = std::clamp<std::uint32_t>(backlog, 1, tc_.max_backlog);
    ConnId id = l.id;
    listeners_.emplace(id, std::move(l));
    return id;
}

Result<ConnId, std::errc> TcpLayer::accept(ConnId listener, TcpEndpoint* peer) {
    auto it = listeners_.find(listener);
    if (it == listeners_.end()) return unexpected(std::errc::invalid_argument);
    Listener& l = it->second;
    while (!l.accept_queue.empty()) {
        ConnId id = l.accept_queue.front();
        l.accept_queue.pop_front();
        Connection* c = find(id);
        if (!c) continue;
        c->accepted = true;
        c->listener = 0;
        if (peer) *peer = TcpEndpoint{c->tuple.remote_addr, c->tuple.remote_port};
        // Whatever happened before accept (data, FIN, reset) is visible through poll().
        return id;
    }
    return unexpected(std::errc::resource_unavailable_try_again);
}

Result<ConnId, std::errc> TcpLayer::connect(TcpEndpoint remote, TcpEndpoint local, Instant now,
                                            std::uint16_t user_mss, bool fastopen) {
    if (remote.port == 0 || remote.addr.is_unspecified())
        return unexpected(std::errc::invalid_argument);
    auto r = ip_.route(remote.addr);
    if (!r) return unexpected(std::errc::network_unreachable);
    FourTuple t;
    t.local_addr = local.addr.is_unspecified() ? r->src : local.addr;
    if (!ip_.is_local_address(t.local_addr)) return unexpected(std::errc::address_not_available);
    t.remote_addr = remote.addr;
    t.remote_port = remote.port;
    if (local.port != 0) {
        t.local_port = local.port;
        if (by_tuple_.count(t)) return unexpected(std::errc::address_in_use);
    } else {
        auto p = pick_port(t);
        if (!p) return unexpected(p.error());
        t.local_port = *p;
    }
    Connection& c = create(t, now);
    c.accepted = true;
    const std::uint32_t mtu_mss = r->mtu - 40;
    c.mss = static_cast<std::uint16_t>(std::min<std::uint32_t>(mtu_mss, 65535));
    c.user_mss = user_mss;
    if (user_mss != 0) c.mss = std::min(c.mss, user_mss);
    set_state(c, State::kSynSent, now);
    ++counters_.active_opens;
    if (fastopen && tc_.fastopen_client()) {
        if (auto it = fastopen_cache_.find(remote.addr.value); it != fastopen_cache_.end()) {
            // RFC 7413 3: with a cookie, the SYN waits for data to carry.
            c.fastopen_syn = it->second.cookie;
            c.fastopen_mss = it->second.mss;
            c.fastopen_deferred = true;
            return c.id;
        }
        c.fastopen_syn = wire::FastOpenCookie{};  // ask for one
    }
    send_syn(c, now);
    arm_rto(c, now);
    reindex(c);
    return c.id;
}

bool TcpLayer::fastopen_deferred(ConnId id) const {
    const Connection* c = find(id);
    return c && c->fastopen_deferred;
}

void TcpLayer::fastopen_remember(const Connection& c, const wire::FastOpenCookie* cookie) {
    const std::uint32_t key = c.tuple.remote_addr.value;
    if (auto it = fastopen_cache_.find(key); it != fastopen_cache_.end()) {
        if (cookie) it->second.cookie = *cookie;
        it->second.mss = c.peer_mss;
        return;
    }
    if (!cookie) return;
    if (fastopen_cache_.size() >= tc_.fastopen_cache_entries) {
        if (fastopen_cache_.empty()) return;
        fastopen_cache_.erase(fastopen_cache_.begin());  // bounded: one goes to make room
    }
    fastopen_cache_[key] = FastOpenEntry{*cookie, c.peer_mss};
}

Result<std::size_t, std::errc> TcpLayer::send(ConnId id, ByteSpan data, Instant now, bool more,
                                              bool eor) {
    Connection* c = find(id);
    if (!c) return unexpected(std::errc::bad_file_descriptor);
    // A pending error is reported once (Linux's sock_error() clears sk_err); after that a
    // closed connection is a broken pipe.
    if (c->error != std::errc{} && !c->error_reported) {
        c->error_reported = true;
        return unexpected(c->error);
    }
    if (c->fastopen_deferred) {
        // The deferred Fast Open SYN goes now with the cookie and what fits of the data
        // (Linux returns that much from this call; the rest waits for the handshake). Empty
        // data sends the SYN with the cookie alone.
        const std::size_t n =
            c->sndbuf.append(data.first(std::min<std::size_t>(data.size(), syn_data_max(*c))));
        c->write_seq += static_cast<std::uint32_t>(n);
        c->fastopen_deferred = false;
        send_syn(*c, now);
        arm_rto(*c, now);
        reindex(*c);
        return n;
    }
    switch (c->state) {
        case State::kSynSent:
        case State::kSynReceived:
            return unexpected(std::errc::resource_unavailable_try_again);
        case State::kEstablished:
        case State::kCloseWait:
            break;
        default:
            return unexpected(std::errc::broken_pipe);
    }
    if (c->fin_queued) return unexpected(std::errc::broken_pipe);
    if (data.empty()) return std::size_t{0};
    std::size_t n = c->sndbuf.append(data);
    if (n == 0) return unexpected(std::errc::resource_unavailable_try_again);
    c->write_seq += static_cast<std::uint32_t>(n);
    c->more = more;
    // A record that did not fit whole is not ended here: its end comes with the next write.
    constexpr std::size_t kMaxRecords = 256;  // bounded; beyond it records simply merge
    if (eor && n == data.size() && c->eor_marks.size() < kMaxRecords)
        c->eor_marks.push_back(c->write_seq);
    c->more_hold = more;
    output(*c, now);
    c->more_hold = false;
    reindex(*c);
    flush_doomed();
    return n;
}

Result<std::size_t, std::errc> TcpLayer::recv(ConnId id, MutableByteSpan out, bool peek,
                                              Instant now) {
    Connection* c = find(id);
    if (!c) return unexpected(std::errc::bad_file_descriptor);
    if (c->rcvbuf.readable() == 0) {
        if (c->error != std::errc{} && !c->error_reported) {
            c->error_reported = true;
            return unexpected(c->error);
        }
        if (c->fin_received || c->read_shutdown || c->state == State::kClosed)
            return std::size_t{0};
        return unexpected(std::errc::resource_unavailable_try_again);
    }
    if (peek) return c->rcvbuf.peek(out);
    std::size_t n = c->rcvbuf.read(out);
    // Window update (RFC 9293 3.8.6.2.2), as Linux decides it: only when the advertised window
    // has fallen to half the buffer or less and reading at least doubles it.
    if (is_synchronized(c->state) && c->state != State::kTimeWait && !c->fin_received) {
        const std::int32_t adv_signed = c->rcv_adv - c->rcv_nxt;
        const std::uint64_t adv = adv_signed > 0 ? static_cast<std::uint32_t>(adv_signed) : 0u;
        const std::uint64_t now_wnd = receive_window(*c);
        if (2 * adv <= c->rcvbuf.capacity() && now_wnd > 0 && now_wnd >= 2 * adv) {
            c->ack_now = true;
            output(*c, now);
            reindex(*c);
        }
    }
    return n;
}

Result<void, std::errc> TcpLayer::shutdown(ConnId id, Shutdown how, Instant now) {
    Connection* c = find(id);
    if (!c) return unexpected(std::errc::bad_file_descriptor);
    if (c->state == State::kClosed || c->state == State::kSynSent || c->state == State::kListen)
        return unexpected(std::errc::not_connected);
    if (how != Shutdown::kWrite) c->read_shutdown = true;
    if (how != Shutdown::kRead && !c->fin_queued) {
        c->fin_queued = true;
        // RFC 9293 3.10.4 CLOSE: ESTABLISHED -> FIN-WAIT-1, CLOSE-WAIT -> LAST-ACK once the FIN
        // is queued behind the data.
        // In SYN-RECEIVED the FIN waits for ESTABLISHED (RFC 9293 3.10.4); established()
        // moves on to FIN-WAIT-1 then.
        if (c->state == State::kEstablished)
            set_state(*c, State::kFinWait1, now);
        else if (c->state == State::kCloseWait)
            set_state(*c, State::kLastAck, now);
        output(*c, now);
        reindex(*c);
    }
    return {};
}

void TcpLayer::close(ConnId id, Instant now) {
    if (auto lit = listeners_.find(id); lit != listeners_.end()) {
        // Connections never accepted are reset (Linux: inet_csk_listen_stop).
        std::vector<ConnId> kids;
        for (auto& [cid, c] : conns_)
            if (c->listener == id && !c->accepted) kids.push_back(cid);
        for (ConnId cid : kids)
            if (Connection* c = find(cid)) abort(c->id, now);
        listeners_.erase(lit);
        flush_doomed();
        return;
    }
    Connection* c = find(id);
    if (!c) return;
    c->orphan = true;
    if (c->state == State::kClosed) {
        destroy(*c);
        flush_doomed();
        return;
    }
    // RFC 1122 4.2.2.13 / Linux: closing with unread data resets; so does SO_LINGER 0.
    if (c->rcvbuf.readable() > 0 || (c->linger && c->linger->count() == 0)) {
        if (c->rcvbuf.readable() > 0)
            ++counters_.abort_on_close;
        else
            ++counters_.abort_on_linger;
        abort(id, now);
        return;
    }
    if (c->state == State::kSynSent) {
        destroy(*c);
        flush_doomed();
        return;
    }
    (void)shutdown(id, Shutdown::kBoth, now);
    if (c->state == State::kFinWait2 && c->close_at == kNever) {
        c->close_at = now + tc_.fin_timeout;
        reindex(*c);
    }
    flush_doomed();
}

void TcpLayer::abort(ConnId id, Instant now) {
    Connection* c = find(id);
    if (!c) return;
    // RFC 9293 3.10.5 ABORT: a reset in the synchronized states (and SYN-RECEIVED).
    if (c->state != State::kClosed && c->state != State::kSynSent && c->state != State::kTimeWait &&
        c->state != State::kListen) {
        send_rst(c->tuple, c->snd_nxt, c->rcv_nxt, now, c);
    }
    c->orphan = true;
    destroy(*c);
    flush_doomed();
}

std::uint32_t TcpLayer::poll(ConnId id) const {
    if (auto lit = listeners_.find(id); lit != listeners_.end())
        return lit->second.accept_queue.empty() ? 0 : events::kReadable;
    const Connection* c = find(id);
    if (!c) return events::kError | events::kHangup;
    std::uint32_t ev = 0;
    // A closed connection reads end of stream, so it is readable.
    if (c->rcvbuf.readable() > 0 || c->fin_received || c->read_shutdown ||
        c->state == State::kClosed)
        ev |= events::kReadable;
    // An error shows until it is reported (Linux clears sk_err as sock_error() returns it).
    if (c->error != std::errc{} && !c->error_reported)
        ev |= events::kError | events::kReadable | events::kWritable;
    if (c->state == State::kClosed) ev |= events::kHangup;
    if (c->fin_received && c->fin_queued) ev |= events::kHangup;
    if (c->fin_received) ev |= events::kReadHangup;
    // A deferred Fast Open connect waits for data: writable (Linux: tcp_poll, defer_connect).
    const bool can_write =
        c->state == State::kEstablished || c->state == State::kCloseWait || c->fastopen_deferred;
    // Writable when a third of the buffer is free (Linux: sk_stream_wspace >= min_wspace), and,
    // with TCP_NOTSENT_LOWAT, while fewer bytes than that wait unsent.
    if (can_write && !c->fin_queued && c->sndbuf.free_space() >= c->sndbuf.capacity() / 3 &&
        (c->notsent_lowat == 0 || c->unsent() < c->notsent_lowat))
        ev |= events::kWritable;
    return ev;
}

Result<TcpInfo, std::errc> TcpLayer::info(ConnId id) const {
    const Connection* c = find(id);
    if (!c) {
        if (auto lit = listeners_.find(id); lit != listeners_.end()) {
            TcpInfo i;
            i.state = State::kListen;
            i.local = lit->second.local;
            i.unread = static_cast<std::uint32_t>(lit->second.accept_queue.size());
            return i;
        }
        return unexpected(std::errc::bad_file_descriptor);
    }
    TcpInfo i;
    i.state = c->state;
    auto cs = c->cc->state();
    i.cwnd = cs.cwnd;
    i.ssthresh = cs.ssthresh;
    i.srtt = c->rtt.srtt();
    i.rttvar = c->rtt.rttvar();
    i.rto = c->rtt.rto();
    i.min_rtt = c->rtt.min_rtt();
    i.snd_mss = c->mss;
    i.rcv_mss = c->rcv_mss;
    i.adv_mss = c->adv_mss;
    i.rcv_buffer = static_cast<std::uint32_t>(c->rcvbuf.capacity());
    i.snd_buffer = static_cast<std::uint32_t>(c->sndbuf.capacity());
    i.snd_wnd = c->snd_wnd;
    i.rcv_wnd = static_cast<std::uint32_t>(c->rcv_adv - c->rcv_nxt);
    i.bytes_in_flight = c->bytes_in_flight();
    i.retransmits = c->retransmits;
    i.total_retrans = c->total_retrans;
    i.unread = static_cast<std::uint32_t>(c->rcvbuf.readable());
    i.unsent = static_cast<std::uint32_t>(c->unsent());
    i.ooo_bytes = static_cast<std::uint32_t>(c->rcvbuf.out_of_order_bytes());
    i.snd_wscale = c->snd_wscale;
    i.rcv_wscale = c->rcv_wscale;
    i.timestamps = c->ts_ok;
    i.sack = c->sack_ok;
    i.window_scale = c->ws_ok;
    i.in_recovery = c->recovery->in_recovery() || c->sack_recovery;
    i.syn_data_acked = c->syn_data_acked;
    i.segs_in = c->segs_in;
    i.segs_out = c->segs_out;
    i.bytes_acked = c->bytes_acked;
    i.bytes_received = c->bytes_received;
    i.bytes_sent = c->bytes_sent;
    i.bytes_retrans = c->bytes_retrans;
    i.local = TcpEndpoint{c->tuple.local_addr, c->tuple.local_port};
    i.remote = TcpEndpoint{c->tuple.remote_addr, c->tuple.remote_port};
    return i;
}

Result<void, std::errc> TcpLayer::set_user_mss(ConnId id, std::uint16_t mss) {
    if (auto lit = listeners_.find(id); lit != listeners_.end()) {
        lit->second.user_mss = mss;
        return {};
    }
    Connection* c = find(id);
    if (!c) return unexpected(std::errc::bad_file_descriptor);
    c->user_mss = mss;
    // Linux applies it to a connection that has not sent its SYN; later it only lowers.
    if (mss != 0 && is_synchronized(c->state) && mss < c->mss) {
        c->mss = mss;
        if (c->cc) c->cc->set_mss(c->mss);
    }
    return {};
}

Result<void, std::errc> TcpLayer::set_limits(ConnId id, std::uint32_t syn_retries,
                                             Duration user_timeout, std::uint32_t notsent_lowat) {
    Connection* c = find(id);
    if (!c) return unexpected(std::errc::bad_file_descriptor);
    c->syn_retries = syn_retries;
    c->user_timeout = user_timeout;
    c->notsent_lowat = notsent_lowat;
    return {};
}

Result<void, std::errc> TcpLayer::set_cork(ConnId id, bool on, Instant now) {
    Connection* c = find(id);
    if (!c) return unexpected(std::errc::bad_file_descriptor);
    c->cork = on;
    if (!on) {
        c->more = false;
        c->flush = Connection::Flush::kPush;  // uncorking pushes what was held (Linux)
        if (is_synchronized(c->state)) {
            output(*c, now);
            reindex(*c);
        }
    }
    return {};
}

Result<void, std::errc> TcpLayer::set_nodelay(ConnId id, bool on, Instant now) {
    Connection* c = find(id);
    if (!c) return unexpected(std::errc::bad_file_descriptor);
    c->nodelay = on;
    // Setting TCP_NODELAY pushes held data out, corked or not (Linux).
    if (on) c->flush = Connection::Flush::kPush;
    if (on && is_synchronized(c->state)) {
        output(*c, now);
        reindex(*c);
    }
    return {};
}

Result<void, std::errc> TcpLayer::set_keepalive(ConnId id, bool on, Duration idle,
                                                Duration interval, std::uint32_t probes,
                                                Instant now) {
    Connection* c = find(id);
    if (!c) return unexpected(std::errc::bad_file_descriptor);
    if (idle.count() <= 0 || interval.count() <= 0 || probes == 0)
        return unexpected(std::errc::invalid_argument);
    c->keepalive = on;
    c->keepalive_idle = idle;
    c->keepalive_interval = interval;
    c->keepalive_probes = probes;
    c->keepalive_sent = 0;
    c->keepalive_at = (on && is_synchronized(c->state)) ? c->last_recv_at + idle : kNever;
    if (c->keepalive_at != kNever && c->keepalive_at < now) c->keepalive_at = now;
    reindex(*c);
    return {};
}

Result<void, std::errc> TcpLayer::set_linger(ConnId id, std::optional<Duration> linger) {
    Connection* c = find(id);
    if (!c) return unexpected(std::errc::bad_file_descriptor);
    c->linger = linger;
    return {};
}

Result<void, std::errc> TcpLayer::set_buffers(ConnId id, std::size_t send, std::size_t recv) {
    Connection* c = find(id);
    if (!c) return unexpected(std::errc::bad_file_descriptor);
    if (send && !c->sndbuf.set_capacity(send)) return unexpected(std::errc::invalid_argument);
    if (recv && !c->rcvbuf.set_capacity(recv)) return unexpected(std::errc::invalid_argument);
    return {};
}

Result<std::errc, std::errc> TcpLayer::take_error(ConnId id) {
    Connection* c = find(id);
    if (!c) return unexpected(std::errc::bad_file_descriptor);
    auto e = c->error_reported ? std::errc{} : c->error;
    c->error_reported = true;
    return e;
}

void TcpLayer::unlink_tuple(Connection& c) {
    auto it = by_tuple_.find(c.tuple);
    if (it != by_tuple_.end() && it->second == &c) by_tuple_.erase(it);
}

void TcpLayer::flush_doomed() {
    for (ConnId id : doomed_)
        conns_.erase(id);
    doomed_.clear();
}

}  // namespace ustack::tcp
