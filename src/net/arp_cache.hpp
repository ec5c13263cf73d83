// ARP cache (RFC 826, RFC 1122 2.3.2) with a bounded queue of packets waiting for resolution.
//
// States, simplified from Linux's neighbour table: kIncomplete (request sent, no address yet,
// packets queue), kReachable (confirmed within reachable_time), kStale (older than that: still
// used, but one refresh request goes out; no answer after max_probes and the entry is removed).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/bytes.hpp"
#include "common/time.hpp"
#include "stack/config.hpp"
#include "stack/counters.hpp"
#include "wire/addr.hpp"

namespace ustack::net {

class ArpCache {
  public:
    using Packet = std::vector<std::byte>;
    enum class State : std::uint8_t { kIncomplete, kReachable, kStale };

    struct Entry {
        State state = State::kIncomplete;
        wire::MacAddr mac;
        Instant confirmed{};   // last time a reply/request from the neighbour confirmed it
        Instant next_probe{};  // when the next request is due (incomplete/stale)
        std::uint32_t probes = 0;
        std::deque<Packet> pending;
        std::size_t pending_bytes = 0;
    };

    ArpCache(const StackConfig& cfg, ArpCounters& counters) : cfg_(cfg), counters_(counters) {}

    // The neighbour's address if known. Marks an old entry stale (a refresh request becomes due).
    std::optional<wire::MacAddr> lookup(std::uint32_t ifc, wire::Ipv4Addr ip, Instant now);

    // Queues an IP packet for a neighbour being resolved. Returns true when the caller must send
    // a request now (a new entry). A packet over the limits is dropped and counted.
    bool enqueue(std::uint32_t ifc, wire::Ipv4Addr ip, ByteSpan packet, Instant now);
    // Starts resolving without queueing anything. Returns true when a request must go out now.
    bool resolve(std::uint32_t ifc, wire::Ipv4Addr ip, Instant now);

    // Records ip -> mac. `create` says whether a missing entry may be added (RFC 826: only when
    // we are the target). Packets that were waiting are moved to `ready`.
    void update(std::uint32_t ifc, wire::Ipv4Addr ip, wire::MacAddr mac, bool create, Instant now,
                std::vector<Packet>& ready);

    // Runs due probes and expiries; send_request(ifc, ip) is called for each request to send.
    void on_timer(Instant now,
                  const std::function<void(std::uint32_t, wire::Ipv4Addr)>& send_request);
    Instant next_deadline() const;

    const Entry* find(std::uint32_t ifc, wire::Ipv4Addr ip) const;
    std::size_t size() const { return entries_.size(); }
    std::size_t pending_bytes() const { return pending_bytes_; }

  private:
    static std::uint64_t key(std::uint32_t ifc, wire::Ipv4Addr ip) {
        return (std::uint64_t{ifc} << 32) | ip.value;
    }
    bool make_room();
    void drop_pending(Entry& e);

    const StackConfig& cfg_;
    ArpCounters& counters_;
    std::unordered_map<std::uint64_t, Entry> entries_;
    std::size_t pending_bytes_ = 0;
};

}  // namespace ustack::net
