#include "net/arp_cache.hpp"

#include <algorithm>

namespace ustack::net {

std::optional<wire::MacAddr> ArpCache::lookup(std::uint32_t ifc, wire::Ipv4Addr ip, Instant now) {
    auto it = entries_.find(key(ifc, ip));
    if (it == entries_.end()) return std::nullopt;
    Entry& e = it->second;
    if (e.state == State::kIncomplete) return std::nullopt;
    if (e.state == State::kReachable && now - e.confirmed >= cfg_.arp_reachable_time) {
        e.state = State::kStale;
        e.probes = 0;
        e.next_probe = now;  // a refresh request goes out on the next timer run
    }
    return e.mac;
}

bool ArpCache::make_room() {
    if (entries_.size() < cfg_.arp_cache_max_entries) return true;
    // Evict the least recently confirmed entry that holds no packets.
    auto victim = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (!it->second.pending.empty()) continue;
        if (victim == entries_.end() || it->second.confirmed < victim->second.confirmed)
            victim = it;
    }
    if (victim == entries_.end()) return false;
    entries_.erase(victim);
    ++counters_.cache_evictions;
    return true;
}

void ArpCache::drop_pending(Entry& e) {
    counters_.pending_drops += e.pending.size();
    pending_bytes_ -= e.pending_bytes;
    e.pending.clear();
    e.pending_bytes = 0;
}

bool ArpCache::resolve(std::uint32_t ifc, wire::Ipv4Addr ip, Instant now) {
    auto k = key(ifc, ip);
    if (entries_.count(k)) return false;
    if (!make_room()) return false;
    Entry& e = entries_.emplace(k, Entry{}).first->second;
    e.next_probe = now + cfg_.arp_retry_interval;
    e.probes = 1;  // the request the caller sends now
    return true;
}

bool ArpCache::enqueue(std::uint32_t ifc, wire::Ipv4Addr ip, ByteSpan packet, Instant now) {
    const bool is_new = resolve(ifc, ip, now);
    auto it = entries_.find(key(ifc, ip));
    if (it == entries_.end()) {
        ++counters_.pending_drops;
        return false;
    }
    Entry& e = it->second;
    if (e.pending.size() >= cfg_.arp_pending_per_neighbor ||
        pending_bytes_ + packet.size() > cfg_.arp_pending_max_bytes) {
        ++counters_.pending_drops;
        return is_new;
    }
    e.pending.emplace_back(packet.begin(), packet.end());
    e.pending_bytes += packet.size();
    pending_bytes_ += packet.size();
    return is_new;
}

void ArpCache::update(std::uint32_t ifc, wire::Ipv4Addr ip, wire::MacAddr mac, bool create,
                      Instant now, std::vector<Packet>& ready) {
    auto k = key(ifc, ip);
    auto it = entries_.find(k);
    if (it == entries_.end()) {
        if (!create || !make_room()) return;
        it = entries_.emplace(k, Entry{}).first;
    }
    Entry& e = it->second;
    e.state = State::kReachable;
    e.mac = mac;
    e.confirmed = now;
    e.probes = 0;
    for (auto& p : e.pending)
        ready.push_back(std::move(p));
    pending_bytes_ -= e.pending_bytes;
    e.pending.clear();
    e.pending_bytes = 0;
}

void ArpCache::on_timer(Instant now,
                        const std::function<void(std::uint32_t, wire::Ipv4Addr)>& send_request) {
    for (auto it = entries_.begin(); it != entries_.end();) {
        Entry& e = it->second;
        auto ifc = static_cast<std::uint32_t>(it->first >> 32);
        wire::Ipv4Addr ip{static_cast<std::uint32_t>(it->first & 0xffffffffu)};
        if (e.state == State::kReachable || now < e.next_probe) {
            ++it;
            continue;
        }
        if (e.probes >= cfg_.arp_max_probes) {
            // RFC 1122 2.3.2.1: give up; packets that waited are dropped.
            if (e.state == State::kIncomplete) ++counters_.resolution_failures;
            drop_pending(e);
            it = entries_.erase(it);
            continue;
        }
        ++e.probes;
        e.next_probe = now + cfg_.arp_retry_interval;
        send_request(ifc, ip);
        ++it;
    }
}

Instant ArpCache::next_deadline() const {
    Instant d = kNever;
    for (const auto& [k, e] : entries_) {
        if (e.state != State::kReachable) d = std::min(d, e.next_probe);
    }
    return d;
}

const ArpCache::Entry* ArpCache::find(std::uint32_t ifc, wire::Ipv4Addr ip) const {
    auto it = entries_.find(key(ifc, ip));
    return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace ustack::net
