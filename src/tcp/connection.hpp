// The connection block (RFC 9293 3.3.1 "Transmission Control Block"): everything one TCP
// connection knows. Behaviour lives in tcp_input.cpp, tcp_output.cpp and tcp_timers.cpp.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/time.hpp"
#include "tcp/congestion.hpp"
#include "tcp/recovery.hpp"
#include "tcp/recv_buffer.hpp"
#include "tcp/rtt.hpp"
#include "tcp/send_buffer.hpp"
#include "tcp/seq.hpp"
#include "tcp/tcp_info.hpp"
#include "wire/addr.hpp"
#include "wire/tcp.hpp"

namespace ustack::tcp {

// States in which the connection is synchronized (RFC 9293 3.10.7.4).
inline bool is_synchronized(State s) {
    return s != State::kClosed && s != State::kListen && s != State::kSynSent &&
           s != State::kSynReceived;
}

struct FourTuple {
    wire::Ipv4Addr local_addr;
    std::uint16_t local_port = 0;
    wire::Ipv4Addr remote_addr;
    std::uint16_t remote_port = 0;
    friend bool operator==(const FourTuple&, const FourTuple&) = default;
};

struct FourTupleHash {
    std::size_t operator()(const FourTuple& t) const noexcept {
        std::uint64_t a = (std::uint64_t{t.local_addr.value} << 32) | t.remote_addr.value;
        std::uint64_t b = (std::uint64_t{t.local_port} << 16) | t.remote_port;
        std::uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull);
        h ^= h >> 32;
        h *= 0xd6e8feb86659fd93ull;
        return static_cast<std::size_t>(h ^ (h >> 32));
    }
};

using ConnId = std::uint32_t;

// One data segment sent and not yet cumulatively acknowledged: the sender's scoreboard entry
// (RFC 6675 2), with its send time for RACK (RFC 8985). Kept for connections with SACK.
struct TxSeg {
    SeqNum start, end;     // sequence space covered (a FIN counts one)
    Instant xmit{};        // when it (or its latest retransmission) was sent
    bool sacked = false;   // a SACK block covered it
    bool lost = false;     // RACK declared it lost, not yet retransmitted
    bool retrans = false;  // it has been retransmitted (RACK: its RTT is ambiguous)
    bool psh = false, fin = false;
    bool partly_acked = false;  // a cumulative ACK ended inside it
    std::uint32_t len() const { return static_cast<std::uint32_t>(end - start); }
};

struct Connection {
    ConnId id = 0;
    ConnId listener = 0;  // the listener this came from, until accepted (0: none)
    State state = State::kClosed;
    FourTuple tuple;

    // --- send sequence space (RFC 9293 3.3.1) ------------------------------------------------
    SeqNum iss, snd_una, snd_nxt, snd_max;  // snd_max: highest sequence sent + 1
    SeqNum snd_wl1, snd_wl2;
    SeqNum write_seq;               // sequence number after the last byte the application wrote
    std::uint32_t snd_wnd = 0;      // peer's window, scaled, in bytes
    std::uint32_t max_snd_wnd = 0;  // largest window the peer offered
    SendBuffer sndbuf;
    bool fin_queued = false;  // the application is done sending: FIN follows the data
    bool syn_acked = false;

    // --- receive sequence space --------------------------------------------------------------
    SeqNum irs, rcv_nxt;
    SeqNum rcv_adv;  // right edge of the window we advertised
    RecvBuffer rcvbuf;
    std::optional<SeqNum> peer_fin;  // sequence number of a FIN seen (maybe out of order)
    SeqNum last_ooo;                 // start of the newest out-of-order segment (SACK order)
    bool fin_received = false;       // the FIN was reached in order: EOF for the application

    // --- options -------------------------------------------------------------------------------
    std::uint16_t peer_mss = 536;  // MSS option the peer sent
    std::uint16_t mss = 536;       // data bytes per segment we send (options excluded)
    std::uint16_t rcv_mss = 536;   // estimate of the peer's segment size (for delayed ACKs)
    std::uint16_t adv_mss = 536;   // the MSS we advertised
    std::uint8_t snd_wscale = 0;   // shift applied to the peer's windows
    std::uint8_t rcv_wscale = 0;   // shift the peer applies to ours
    bool ws_ok = false, ts_ok = false, sack_ok = false;
    std::uint32_t ts_recent = 0;  // RFC 7323 TS.Recent
    Instant ts_recent_at{};
    std::uint32_t ts_offset = 0;  // per-connection offset of our TSval clock

    // --- timers (kNever when stopped) -------------------------------------------------------
    Instant rto_at = kNever;  // retransmission (also SYN, SYN-ACK, persist)
    Instant delack_at = kNever;
    Instant keepalive_at = kNever;
    Instant close_at = kNever;  // TIME_WAIT, FIN_WAIT_2 timeout
    bool persist = false;       // rto_at is the persist timer (zero window)
    std::uint32_t persist_backoff = 0;
    std::uint32_t keepalive_sent = 0;
    Instant timer_key = kNever;  // where the layer's timer index holds this connection

    // --- RTT, retransmission -------------------------------------------------------------------
    RttEstimator rtt;
    bool rtt_timing = false;  // timing one segment (no timestamps): Karn's algorithm
    SeqNum rtt_seq;
    Instant rtt_start{};
    std::uint32_t retransmits = 0;  // consecutive timeouts (tcpi_retransmits)
    std::uint32_t total_retrans = 0;
    Instant first_retrans_at = kNever;  // for the retries2 time limit
    Instant last_recv_at{};

    // --- congestion control and recovery --------------------------------------------------------
    std::unique_ptr<CongestionControl> cc;
    std::unique_ptr<LossRecovery> recovery;  // NewReno, for peers without SACK
    // With SACK: the scoreboard, RACK loss detection (RFC 8985) and recovery paced by PRR
    // (RFC 6937) replace duplicate-ACK counting.
    std::deque<TxSeg> txq;            // by sequence, from SND.UNA
    bool sack_recovery = false;       // in SACK-based loss recovery
    SeqNum recovery_point;            // recovery ends when SND.UNA reaches it (RFC 6675)
    std::uint32_t prr_delivered = 0;  // bytes delivered to the peer during recovery
    std::uint32_t prr_out = 0;        // bytes sent during recovery
    std::uint32_t recover_fs = 0;     // flight size when recovery began
    std::uint32_t prr_allow = 0;      // bytes the current ACK lets out (PRR sndcnt)
    Instant rack_xmit{};              // RACK.xmit_ts: send time of the newest delivered segment
    SeqNum rack_end;                  // RACK.end_seq
    Duration rack_rtt{};              // RACK.rtt
    SeqNum rack_fack;                 // highest sequence delivered (RACK.fack)
    bool rack_reord = false;          // reordering seen (RACK.reord)
    Instant reo_at = kNever;          // RACK reordering timer

    // --- ACK generation -------------------------------------------------------------------------
    bool ack_now = false;             // an ACK must go out on the next output
    std::uint32_t quickacks = 0;      // segments left to ACK at once
    std::uint32_t unacked_bytes = 0;  // received in order since our last ACK

    // --- socket state ---------------------------------------------------------------------------
    bool nodelay = false;
    bool cork = false;  // TCP_CORK: hold partial segments
    // The last write said MSG_MORE: its end carries no PSH. Its partial tail is held only by the
    // output that write itself makes (more_hold); later output (an ACK, a timer) sends it by the
    // socket's own rules, as Linux's per-call cork does.
    bool more = false;
    bool more_hold = false;
    // Held partial data goes out once anyway: kPush on TCP_NODELAY or uncork, kProbe when the
    // cork timer (Linux's probe timer, one RTO) fires.
    enum class Flush : std::uint8_t { kNone, kPush, kProbe } flush = Flush::kNone;
    std::uint16_t user_mss = 0;       // TCP_MAXSEG (0: none)
    std::uint32_t syn_retries = 0;    // TCP_SYNCNT (0: the config's)
    Duration user_timeout{0};         // TCP_USER_TIMEOUT (0: retries2 decides)
    std::uint32_t notsent_lowat = 0;  // TCP_NOTSENT_LOWAT (0: none)
    // MSG_EOR record ends not yet acknowledged: no segment, first sent or resent, crosses one.
    std::vector<SeqNum> eor_marks;
    // TCP Fast Open (RFC 7413), active side. The first SYN carries fastopen_syn: an empty
    // option asks for a cookie; with a cookie cached for the peer, connect() sends nothing
    // (deferred) and the SYN goes with the first data, up to syn_data_max() bytes of it.
    bool fastopen_deferred = false;
    std::optional<wire::FastOpenCookie> fastopen_syn;
    std::uint16_t fastopen_mss = 0;  // the peer's MSS remembered with its cookie
    std::uint32_t syn_data = 0;      // data bytes the SYN carried
    bool syn_data_acked = false;     // ... and the SYN-ACK acknowledged them
    bool read_shutdown = false;      // shutdown(SHUT_RD)
    bool orphan = false;             // the application closed it; it lives on to finish
    bool accepted = false;
    bool keepalive = false;
    std::optional<Duration> linger;  // SO_LINGER with this timeout (0: abort on close)
    Duration keepalive_idle{}, keepalive_interval{};
    std::uint32_t keepalive_probes = 0;
    std::errc error{};  // pending error for the application (SO_ERROR)
    bool error_reported = false;

    // --- statistics -----------------------------------------------------------------------------
    std::uint64_t segs_in = 0, segs_out = 0, data_segs_in = 0, data_segs_out = 0;
    std::uint64_t bytes_acked = 0, bytes_received = 0, bytes_sent = 0, bytes_retrans = 0;

    Connection(Duration initial_rto, Duration min_rto, Duration max_rto)
        : rtt(initial_rto, min_rto, max_rto) {}

    std::uint32_t bytes_in_flight() const { return static_cast<std::uint32_t>(snd_nxt - snd_una); }
    // Bytes of the send buffer not yet sent (FIN excluded).
    std::size_t unsent() const {
        const std::int32_t d = write_seq - snd_nxt;
        return d > 0 ? static_cast<std::size_t>(d) : 0u;
    }
    // Sequence number of our FIN (valid when fin_queued): right after the last byte written.
    SeqNum fin_seq() const { return write_seq; }
    bool fin_sent() const { return fin_queued && snd_max > write_seq; }
    bool fin_acked() const { return fin_queued && snd_una > write_seq; }
    Instant next_deadline() const {
        Instant d = rto_at;
        if (delack_at < d) d = delack_at;
        if (keepalive_at < d) d = keepalive_at;
        if (close_at < d) d = close_at;
        if (reo_at < d) d = reo_at;
        return d;
    }
};

}  // namespace ustack::tcp
