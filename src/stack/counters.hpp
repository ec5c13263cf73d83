// Stack-wide counters, named after `netstat -s` / /proc/net/snmp where such a name exists.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace ustack {

struct LinkCounters {
    std::uint64_t rx_frames = 0;
    std::uint64_t rx_bytes = 0;
    std::uint64_t tx_frames = 0;
    std::uint64_t tx_bytes = 0;
    std::uint64_t rx_malformed = 0;   // shorter than a link header
    std::uint64_t rx_not_for_us = 0;  // Ethernet destination neither ours nor broadcast
    std::uint64_t rx_unknown_ethertype = 0;
    std::uint64_t tx_errors = 0;   // device refused a frame
    std::uint64_t tx_dropped = 0;  // device queue full
};

struct IpCounters {
    std::uint64_t in_receives = 0;
    std::uint64_t in_hdr_errors = 0;  // version, header length, total length, TTL
    std::uint64_t in_csum_errors = 0;
    std::uint64_t in_truncated_pkts = 0;
    std::uint64_t in_addr_errors = 0;  // not addressed to us
    std::uint64_t in_unknown_protos = 0;
    std::uint64_t in_discards = 0;
    std::uint64_t in_delivers = 0;
    std::uint64_t out_requests = 0;
    std::uint64_t out_no_routes = 0;
    std::uint64_t out_discards = 0;
    std::uint64_t reasm_reqds = 0;
    std::uint64_t reasm_oks = 0;
    std::uint64_t reasm_fails = 0;
    std::uint64_t reasm_timeout = 0;
    std::uint64_t reasm_overlaps = 0;
    std::uint64_t reasm_overflows = 0;  // memory cap or datagram count reached
    std::uint64_t frag_oks = 0;
    std::uint64_t frag_fails = 0;  // DF set and too big
    std::uint64_t frag_creates = 0;
};

struct IcmpCounters {
    std::uint64_t in_msgs = 0;
    std::uint64_t in_errors = 0;
    std::uint64_t in_csum_errors = 0;
    std::uint64_t in_echos = 0;
    std::uint64_t in_echo_reps = 0;
    std::uint64_t in_dest_unreachs = 0;
    std::uint64_t in_time_excds = 0;
    std::uint64_t out_msgs = 0;
    std::uint64_t out_echos = 0;
    std::uint64_t out_echo_reps = 0;
    std::uint64_t out_dest_unreachs = 0;
    std::uint64_t out_rate_limited = 0;
};

struct UdpCounters {
    std::uint64_t in_datagrams = 0;
    std::uint64_t no_ports = 0;
    std::uint64_t in_errors = 0;
    std::uint64_t in_csum_errors = 0;
    std::uint64_t rcvbuf_errors = 0;
    std::uint64_t out_datagrams = 0;
};

struct TcpCounters {
    // RFC 4022 / Linux "Tcp:" section
    std::uint64_t active_opens = 0;
    std::uint64_t passive_opens = 0;
    std::uint64_t attempt_fails = 0;
    std::uint64_t estab_resets = 0;
    std::uint64_t curr_estab = 0;  // a gauge
    std::uint64_t in_segs = 0;
    std::uint64_t out_segs = 0;
    std::uint64_t retrans_segs = 0;
    std::uint64_t in_errs = 0;
    std::uint64_t in_csum_errors = 0;
    std::uint64_t out_rsts = 0;
    // Linux "TcpExt:" names
    std::uint64_t delayed_acks = 0;
    std::uint64_t paws_estab_rejected = 0;
    std::uint64_t challenge_acks = 0;
    std::uint64_t listen_overflows = 0;
    std::uint64_t listen_drops = 0;
    std::uint64_t ofo_queue = 0;
    std::uint64_t ofo_drop = 0;
    std::uint64_t fast_retrans = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t syn_retrans = 0;
    std::uint64_t lost_retransmit = 0;
    std::uint64_t zero_window_probes = 0;
    std::uint64_t keepalive_probes = 0;
    std::uint64_t abort_on_data = 0;
    std::uint64_t abort_on_close = 0;
    std::uint64_t abort_on_timeout = 0;
    std::uint64_t abort_on_linger = 0;
    std::uint64_t time_wait_recycled = 0;
    std::uint64_t rcv_window_full_drops = 0;
    std::uint64_t bad_segment_drops = 0;     // segments the state rules discard
    std::uint64_t fastopen_active = 0;       // SYNs sent with data and a cookie
    std::uint64_t fastopen_active_fail = 0;  // ...whose data the SYN-ACK did not acknowledge
};

struct ArpCounters {
    std::uint64_t in_requests = 0;
    std::uint64_t in_replies = 0;
    std::uint64_t in_gratuitous = 0;
    std::uint64_t in_malformed = 0;
    std::uint64_t out_requests = 0;
    std::uint64_t out_replies = 0;
    std::uint64_t pending_drops = 0;        // queue full while resolving
    std::uint64_t resolution_failures = 0;  // no reply after arp_max_probes
    std::uint64_t cache_evictions = 0;
};

struct StackCounters {
    LinkCounters link;
    IpCounters ip;
    IcmpCounters icmp;
    UdpCounters udp;
    TcpCounters tcp;
    ArpCounters arp;

    // Calls fn(section, name, value) for every counter, in a stable order.
    void for_each(
        const std::function<void(std::string_view, std::string_view, std::uint64_t)>& fn) const;
};

}  // namespace ustack
