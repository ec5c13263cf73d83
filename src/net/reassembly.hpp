// IPv4 reassembly (RFC 791 3.2, RFC 815 hole tracking), bounded in memory and in datagrams.
//
// Like Linux since 2018, a fragment that overlaps data already held discards the whole
// datagram: overlapping fragments are an attack or a broken sender, never a need.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "common/bytes.hpp"
#include "common/time.hpp"
#include "stack/config.hpp"
#include "stack/counters.hpp"
#include "wire/ipv4.hpp"

namespace ustack::net {

class Reassembler {
  public:
    Reassembler(const StackConfig& cfg, IpCounters& counters) : cfg_(cfg), counters_(counters) {}

    struct Complete {
        std::vector<std::byte> packet;  // whole datagram: first fragment's header, then payload
    };

    // Adds a fragment (packet = header + payload, already validated). Returns true and fills
    // `out` when this fragment completes its datagram.
    bool add(const wire::Ipv4Packet& fragment, ByteSpan raw_header, Instant now, Complete& out);

    // Expired datagrams: counted; for each one whose first fragment arrived, `expired_first`
    // receives that fragment's header + first payload bytes (for ICMP time exceeded, RFC 792).
    void on_timer(Instant now, std::vector<std::vector<std::byte>>& expired_first);
    Instant next_deadline() const;

    std::size_t datagrams() const { return table_.size(); }
    std::size_t bytes_held() const { return bytes_held_; }

  private:
    struct Key {
        std::uint32_t src, dst;
        std::uint16_t id;
        std::uint8_t proto;
        friend bool operator==(const Key&, const Key&) = default;
    };
    struct KeyHash {
        std::size_t operator()(const Key& k) const {
            std::uint64_t h = (std::uint64_t{k.src} << 32) ^ k.dst;
            h ^= (std::uint64_t{k.id} << 8 | k.proto) * 0x9e3779b97f4a7c15ull;
            return static_cast<std::size_t>(h ^ (h >> 29));
        }
    };
    struct Range {
        std::uint32_t begin, end;  // payload byte offsets
    };
    struct Datagram {
        Instant deadline{};
        std::vector<std::byte> header;   // first fragment's IP header (once seen)
        std::vector<std::byte> payload;  // grows to the highest end seen
        std::vector<Range> ranges;       // received, sorted, non-overlapping
        std::uint32_t total = 0;         // payload length once the last fragment is seen
        bool have_last = false;
        std::size_t charged = 0;  // bytes counted against the memory cap
    };

    void discard(std::unordered_map<Key, Datagram, KeyHash>::iterator it);

    const StackConfig& cfg_;
    IpCounters& counters_;
    std::unordered_map<Key, Datagram, KeyHash> table_;
    std::size_t bytes_held_ = 0;
};

}  // namespace ustack::net
