// Every tunable of a stack instance. Defaults follow Linux where Linux has a value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/time.hpp"

namespace ustack {

// TCP defaults are Linux's (net.ipv4.tcp_* sysctls named in comments).
struct TcpConfig {
    Duration initial_rto = std::chrono::seconds(1);        // TCP_TIMEOUT_INIT
    Duration min_rto = std::chrono::milliseconds(200);     // TCP_RTO_MIN
    Duration max_rto = std::chrono::seconds(120);          // TCP_RTO_MAX
    std::uint32_t syn_retries = 6;                         // tcp_syn_retries
    std::uint32_t synack_retries = 5;                      // tcp_synack_retries
    std::uint32_t retries2 = 15;                           // tcp_retries2 (time-based, as Linux)
    Duration time_wait = std::chrono::seconds(60);         // TCP_TIMEWAIT_LEN
    Duration fin_timeout = std::chrono::seconds(60);       // tcp_fin_timeout (orphans only)
    Duration delack_min = std::chrono::milliseconds(40);   // TCP_DELACK_MIN
    Duration delack_max = std::chrono::milliseconds(200);  // TCP_DELACK_MAX
    std::uint32_t quickack_segments = 16;                  // TCP_MAX_QUICKACKS
    std::uint32_t initial_cwnd = 10;                       // RFC 6928
    // The most one ACK grows cwnd in slow start, in segments (RFC 3465 L); 0: no limit, as
    // Linux (tcp_slow_start adds every packet acknowledged).
    std::uint32_t slow_start_ack_limit = 0;
    // tcp_congestion_control: CUBIC (RFC 9438), Linux's default, or NewReno (RFC 5681/6582).
    enum class Congestion : std::uint8_t { kCubic, kNewReno };
    Congestion congestion = Congestion::kCubic;
    std::size_t send_buffer = 1 << 20;
    std::size_t recv_buffer = 1 << 20;
    std::size_t max_recv_buffer = 6 << 20;  // tcp_rmem[2]: sets window scale
    bool window_scaling = true;             // tcp_window_scaling
    bool timestamps = true;                 // tcp_timestamps
    bool sack = true;                       // tcp_sack
    // tcp_fastopen (RFC 7413), Linux's bits: 1 lets clients use Fast Open (the default there
    // too), 2 lets listeners that ask for it (TCP_FASTOPEN) take data in a SYN.
    std::uint32_t fastopen = 1;
    bool fastopen_client() const { return (fastopen & 1u) != 0; }
    std::size_t fastopen_cache_entries = 1024;  // cookies remembered, one per peer address
    // tcp_reordering: SACKed segments above a hole that make it lost at once (DupThresh,
    // RFC 6675; RACK's reordering window is 0 from there until reordering is seen).
    std::uint32_t reordering = 3;
    // Added to RACK's reordering timer (RFC 8985 6.3), as Linux's TCP_TIMEOUT_MIN (two jiffies;
    // 2 ms at HZ=1000): a reordering window of microseconds still waits this long.
    Duration rack_timer_min = std::chrono::milliseconds(2);
    std::uint16_t default_mss = 536;                       // RFC 9293 3.7.1, when none is offered
    std::uint32_t max_backlog = 4096;                      // somaxconn
    Duration keepalive_idle = std::chrono::seconds(7200);  // tcp_keepalive_time
    Duration keepalive_interval = std::chrono::seconds(75);
    std::uint32_t keepalive_probes = 9;
    Duration persist_min = std::chrono::milliseconds(200);
    Duration challenge_ack_interval = std::chrono::milliseconds(1);  // RFC 5961 7 rate limit
    // Replaces the RFC 6528 ISN with a fixed value (plus the connection's count), to reproduce a
    // run or to test sequence-number wraparound. Never set in production.
    std::optional<std::uint32_t> fixed_iss;
};

struct StackConfig {
    TcpConfig tcp;

    // For IP ids, ephemeral ports, echo identifiers and default MACs. The core never reads the
    // OS: runtime/ fills this from getrandom(); tests pass fixed seeds to repeat runs exactly.
    std::uint64_t seed = 0x757374616b31ull;

    // IPv4 (net.ipv4.ip_default_ttl = 64; ipfrag_time = 30 s; ipfrag_high_thresh = 4 MiB)
    std::uint8_t default_ttl = 64;
    Duration reassembly_timeout = std::chrono::seconds(30);
    std::size_t reassembly_max_bytes = 4 * 1024 * 1024;
    std::size_t reassembly_max_datagrams = 256;
    std::size_t rx_batch = 64;  // frames taken from one device per poll before moving on
    // Within one poll, in-order TCP data segments of a connection that continue each other are
    // processed as one (Linux's GRO, on by default there too): fewer passes, one ACK per run.
    bool rx_coalesce = true;
    Duration pmtu_expiry = std::chrono::minutes(10);  // route.mtu_expires: learned PMTU ages out

    // ARP (base_reachable_time 30 s; retrans_time 1 s; mcast_solicit 3; unres_qlen 101)
    Duration arp_reachable_time = std::chrono::seconds(30);
    Duration arp_retry_interval = std::chrono::seconds(1);
    std::uint32_t arp_max_probes = 3;
    std::size_t arp_cache_max_entries = 1024;
    std::size_t arp_pending_per_neighbor = 101;
    std::size_t arp_pending_max_bytes = 256 * 1024;  // across all neighbours

    // ICMP (icmp_echo_ignore_all = 0; icmp_ratelimit = 1000 ms per token, burst 50)
    bool icmp_echo_reply = true;
    Duration icmp_error_interval = std::chrono::milliseconds(1);
    std::uint32_t icmp_error_burst = 50;

    // UDP (rmem_default = 212992)
    std::size_t udp_recv_queue_bytes = 212992;
    std::size_t ping_recv_queue_packets = 64;

    // Ephemeral ports (ip_local_port_range = 32768 60999)
    std::uint16_t ephemeral_port_min = 32768;
    std::uint16_t ephemeral_port_max = 60999;
};

}  // namespace ustack
