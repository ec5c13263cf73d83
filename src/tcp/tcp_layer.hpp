// TcpLayer: the TCP of one stack. Demultiplexes segments by 4-tuple (hash table) or to a
// listener, runs the RFC 9293 3.10.7 segment-arrival rules, decides output, runs timers, and
// offers the socket calls that Stack exposes.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"
#include "net/ip_layer.hpp"
#include "net/transport.hpp"
#include "stack/config.hpp"
#include "stack/counters.hpp"
#include "tcp/connection.hpp"
#include "tcp/isn.hpp"
#include "wire/tcp.hpp"

namespace ustack::tcp {

class TcpLayer : public net::Transport {
  public:
    using ReadyFn = void (*)(void* ctx, ConnId id, std::uint32_t events);

    TcpLayer(const StackConfig& cfg, TcpCounters& counters, net::IpLayer& ip, std::uint64_t seed,
             std::uint32_t* next_socket_id);
    ~TcpLayer() override;

    void set_ready_callback(ReadyFn fn, void* ctx) {
        ready_fn_ = fn;
        ready_ctx_ = ctx;
    }

    // --- socket calls (errors with Linux errno meanings) ---------------------------------------
    Result<ConnId, std::errc> listen(TcpEndpoint local, std::uint32_t backlog, bool reuse_address,
                                     Instant now);
    Result<ConnId, std::errc> accept(ConnId listener, TcpEndpoint* peer);
    // What bind() would say of `local` now: the port to use (an ephemeral one for port 0) or
    // EADDRNOTAVAIL / EADDRINUSE by the same rules as listen().
    Result<std::uint16_t, std::errc> check_bind(TcpEndpoint local, bool reuse_address) const;
    // fastopen: TCP_FASTOPEN_CONNECT / MSG_FASTOPEN (RFC 7413). With a cookie cached for the
    // peer nothing is sent yet: the SYN goes with the first send(), carrying the cookie and
    // data, and fastopen_deferred() says so; without one the SYN asks for a cookie.
    Result<ConnId, std::errc> connect(TcpEndpoint remote, TcpEndpoint local, Instant now,
                                      std::uint16_t user_mss = 0, bool fastopen = false);
    bool fastopen_deferred(ConnId id) const;
    // more: MSG_MORE (hold a partial tail); eor: MSG_EOR (later data never joins this write's
    // last segment).
    Result<std::size_t, std::errc> send(ConnId id, ByteSpan data, Instant now, bool more = false,
                                        bool eor = false);
    Result<void, std::errc> set_cork(ConnId id, bool on, Instant now);
    // TCP_SYNCNT (0: the config's), TCP_USER_TIMEOUT (0: retries2), TCP_NOTSENT_LOWAT (0: none).
    Result<void, std::errc> set_limits(ConnId id, std::uint32_t syn_retries, Duration user_timeout,
                                       std::uint32_t notsent_lowat);
    // TCP_MAXSEG on a connection or a listener (its connections inherit it).
    Result<void, std::errc> set_user_mss(ConnId id, std::uint16_t mss);
    Result<std::size_t, std::errc> recv(ConnId id, MutableByteSpan out, bool peek, Instant now);
    Result<void, std::errc> shutdown(ConnId id, Shutdown how, Instant now);
    void close(ConnId id, Instant now);
    void abort(ConnId id, Instant now);
    std::uint32_t poll(ConnId id) const;
    Result<TcpInfo, std::errc> info(ConnId id) const;
    Result<void, std::errc> set_nodelay(ConnId id, bool on, Instant now);
    Result<void, std::errc> set_keepalive(ConnId id, bool on, Duration idle, Duration interval,
                                          std::uint32_t probes, Instant now);
    Result<void, std::errc> set_linger(ConnId id, std::optional<Duration> linger);
    Result<void, std::errc> set_buffers(ConnId id, std::size_t send, std::size_t recv);
    Result<std::errc, std::errc> take_error(ConnId id);  // SO_ERROR
    bool exists(ConnId id) const;
    std::size_t connection_count() const { return conns_.size(); }

    // --- driving ---------------------------------------------------------------------------------
    void on_datagram(const net::IpRx& rx, ByteSpan l4, Instant now) override;
    void on_icmp_error(const net::IcmpErrorRx& err, Instant now) override;
    void on_timer(Instant now);
    Instant next_deadline() const;
    // A batch of received frames (one poll of the devices). Inside it, in-order data segments
    // of a connection that continue each other are coalesced and processed as one segment when
    // the run ends (Linux's GRO): one pass of the input rules and one ACK for the run.
    void begin_batch() { batching_ = true; }
    void end_batch(Instant now);

  private:
    struct Listener {
        ConnId id = 0;
        TcpEndpoint local;
        std::uint32_t backlog = 0;
        std::uint32_t syn_queue = 0;      // half-open connections from this listener
        std::uint16_t user_mss = 0;       // TCP_MAXSEG, for the connections it makes
        std::deque<ConnId> accept_queue;  // established, not yet accepted
    };
    struct SegmentIn {
        const net::IpRx* rx;
        wire::TcpSegment seg;
        SeqNum seq;
        SeqNum ack;
        std::uint32_t len;  // payload + SYN + FIN
    };

    // A run of coalesced segments: the first one's header and options, the payload of all of
    // them (back to back in the connection's receive buffer, where checksum verification
    // copied them).
    struct Run {
        ConnId id = 0;  // 0: none
        net::IpRx rx;
        wire::TcpSegment seg;
        std::uint32_t segs = 0;
        std::size_t seg_size = 0;  // the first segment's payload; the others are no longer
        std::size_t last_len = 0;  // the last segment's payload
    };

    // input (tcp_input.cpp)
    void process_segment(const net::IpRx& rx, const wire::TcpSegment& seg, Connection* c,
                         Instant now);
    bool continues_run(const Connection& c, const wire::TcpSegment& seg) const;
    void flush_run(Instant now);
    void on_listen_segment(Listener& l, const SegmentIn& in, Instant now);
    void on_syn_sent_segment(Connection& c, const SegmentIn& in, Instant now);
    void handshake_complete(Connection& c, const SegmentIn& in, Instant now);
    void on_segment(Connection& c, SegmentIn& in, Instant now);
    bool process_ack(Connection& c, const SegmentIn& in, Instant now);
    void process_data(Connection& c, SegmentIn& in, Instant now);
    void process_fin(Connection& c, Instant now);
    bool update_timestamps(Connection& c, const SegmentIn& in, Instant now);
    void negotiate_options(Connection& c, const wire::TcpOptions& o);
    void send_reset_for(const SegmentIn& in, Instant now);
    void send_challenge_ack(Connection& c, Instant now);

    // output (tcp_output.cpp)
    void output(Connection& c, Instant now);
    // `route`: the route to the peer if the caller has it at hand (output() does).
    void send_segment(Connection& c, SeqNum seq, std::size_t data_offset, std::size_t len,
                      std::uint8_t flags, Instant now, const net::RouteInfo* route = nullptr);
    void send_syn(Connection& c, Instant now);
    void send_ack(Connection& c, Instant now);
    void send_rst(const FourTuple& t, SeqNum seq, std::optional<SeqNum> ack, Instant now,
                  const Connection* conn = nullptr);
    void retransmit_head(Connection& c, Instant now);
    std::uint32_t receive_window(Connection& c) const;
    std::uint32_t send_window(const Connection& c) const;
    std::uint32_t segment_size(const Connection& c) const;
    // Largest TSO super-segment: whole segments in a 64 KiB IP datagram with full headers.
    static std::uint32_t tso_max_len(std::uint32_t seg_size) {
        return (65535u - 20u - 60u) / seg_size * seg_size;
    }
    bool corked(const Connection& c) const;
    bool may_send_short(const Connection& c, std::size_t len, bool last,
                        std::uint32_t in_flight) const;
    bool next_goes(const Connection& c, std::size_t len, std::size_t unsent, std::uint32_t usable,
                   std::uint32_t seg_size, std::uint32_t in_flight) const;
    std::uint32_t ts_now(const Connection& c, Instant now) const;
    std::uint32_t syn_data_max(const Connection& c) const;

    // SACK scoreboard, RACK and PRR (tcp_sack.cpp)
    void txq_sent(Connection& c, SeqNum start, std::uint32_t len, std::uint8_t flags, bool retrans,
                  Instant now);
    void txq_split(Connection& c, SeqNum at);
    void txq_resent(Connection& c, SeqNum start, SeqNum end, Instant now);
    std::uint32_t scoreboard_ack(Connection& c, const wire::TcpOptions& o, Instant now);
    void rack_delivered(Connection& c, const TxSeg& s, Instant now);
    bool rack_detect_loss(Connection& c, Instant now);
    Duration rack_reo_wnd(const Connection& c) const;
    std::uint32_t sack_pipe(const Connection& c) const;
    void sack_enter_recovery(Connection& c, std::uint32_t flight, Instant now);
    void prr_update(Connection& c, std::uint32_t delivered);
    void sack_ack(Connection& c, const SegmentIn& in, std::uint32_t flight_before,
                  std::uint32_t data_acked, Instant now);
    void sack_charge(Connection& c, std::uint32_t& budget, std::uint32_t len);
    template <typename Fn>
    void txq_each_in(Connection& c, SeqNum start, SeqNum end, Fn fn);
    void retransmit_lost(Connection& c, std::uint32_t& budget, const net::RouteInfo* route,
                         Instant now);
    void on_reo_timeout(Connection& c, Instant now);

    // timers (tcp_timers.cpp)
    void on_conn_timer(Connection& c, Instant now);
    void on_rto(Connection& c, Instant now);
    void on_persist(Connection& c, Instant now);
    void on_keepalive(Connection& c, Instant now);
    void arm_rto(Connection& c, Instant now);
    void reindex(Connection& c);

    // lifecycle (tcp_layer.cpp)
    Connection* find(ConnId id);
    const Connection* find(ConnId id) const;
    Connection& create(const FourTuple& t, Instant now);
    void set_state(Connection& c, State s, Instant now);
    void enter_time_wait(Connection& c, Instant now);
    void finish(Connection& c, Instant now, std::uint32_t extra_events = 0);
    void reset_connection(Connection& c, std::errc err, Instant now);  // peer reset / timeout
    void destroy(Connection& c);
    void established(Connection& c, Instant now);
    void notify(Connection& c, std::uint32_t events);
    void flush_doomed();
    void unlink_tuple(Connection& c);
    bool port_in_use(wire::Ipv4Addr addr, std::uint16_t port) const;
    Result<std::uint16_t, std::errc> pick_port(const FourTuple& t);
    Listener* find_listener(wire::Ipv4Addr addr, std::uint16_t port);
    // A Fast Open connection's SYN-ACK: keep its cookie (nullptr: none came) and MSS.
    void fastopen_remember(const Connection& c, const wire::FastOpenCookie* cookie);

    // Fast Open cookies the peers gave us, by peer address (Linux keeps them in tcp_metrics),
    // with the MSS each offered; bounded by TcpConfig::fastopen_cache_entries.
    struct FastOpenEntry {
        wire::FastOpenCookie cookie;
        std::uint16_t mss = 0;
    };
    std::unordered_map<std::uint32_t, FastOpenEntry> fastopen_cache_;

    const StackConfig& cfg_;
    const TcpConfig& tc_;
    TcpCounters& counters_;
    net::IpLayer& ip_;
    IsnGenerator isn_;
    std::uint32_t* next_id_;
    std::unordered_map<ConnId, std::unique_ptr<Connection>> conns_;
    std::unordered_map<FourTuple, Connection*, FourTupleHash> by_tuple_;
    std::unordered_map<ConnId, Listener> listeners_;
    std::set<std::pair<Instant, ConnId>> timers_;
    std::set<std::pair<Instant, ConnId>>::node_type spare_timer_;  // see reindex()
    std::vector<ConnId> doomed_;  // destroyed at the end of the current call
    std::uint64_t port_seed_;
    std::uint32_t port_counter_ = 0;
    Instant last_challenge_{};
    bool batching_ = false;
    Run run_;
    ReadyFn ready_fn_ = nullptr;
    void* ready_ctx_ = nullptr;
};

}  // namespace ustack::tcp
