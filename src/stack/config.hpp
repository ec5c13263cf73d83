// Every tunable of a stack instance. Defaults follow Linux where Linux has a value.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/time.hpp"

namespace ustack {

struct StackConfig {
    // For IP ids, ephemeral ports, echo identifiers and default MACs. The core never reads the
    // OS: runtime/ fills this from getrandom(); tests pass fixed seeds to repeat runs exactly.
    std::uint64_t seed = 0x757374616b31ull;

    // IPv4 (net.ipv4.ip_default_ttl = 64; ipfrag_time = 30 s; ipfrag_high_thresh = 4 MiB)
    std::uint8_t default_ttl = 64;
    Duration reassembly_timeout = std::chrono::seconds(30);
    std::size_t reassembly_max_bytes = 4 * 1024 * 1024;
    std::size_t reassembly_max_datagrams = 256;
    std::size_t rx_batch = 64;  // frames taken from one device per poll before moving on

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
