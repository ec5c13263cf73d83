#include "udp/udp_layer.hpp"

#include <algorithm>
#include <cstring>

#include "stack/stack.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/udp.hpp"

namespace ustack::udp {

namespace {
constexpr std::size_t kMaxUdpPayload = 65535 - wire::kIpv4MinHeaderLen - wire::kUdpHeaderLen;
}

UdpLayer::UdpLayer(const StackConfig& cfg, UdpCounters& counters, net::IpLayer& ip,
                   std::uint64_t seed)
    : cfg_(cfg), counters_(counters), ip_(ip), rng_(seed ^ 0x75647030ull) {}

UdpLayer::Socket* UdpLayer::find(Id id) {
    auto it = sockets_.find(id);
    return it == sockets_.end() ? nullptr : &it->second;
}
const UdpLayer::Socket* UdpLayer::find(Id id) const {
    auto it = sockets_.find(id);
    return it == sockets_.end() ? nullptr : &it->second;
}

Result<void, std::errc> UdpLayer::open(Id id) {
    Socket s;
    s.id = id;
    sockets_.emplace(id, std::move(s));
    return {};
}

bool UdpLayer::port_conflict(const UdpEndpoint& local, Id except) const {
    auto it = by_port_.find(local.port);
    if (it == by_port_.end()) return false;
    return std::any_of(it->second.begin(), it->second.end(), [&](Id other) {
        if (other == except) return false;
        const Socket& s = sockets_.at(other);
        return s.local.addr.is_unspecified() || local.addr.is_unspecified() ||
               s.local.addr == local.addr;
    });
}

// RFC 6056 3.3.1 (Algorithm 1): a random starting point, then the next free port.
Result<std::uint16_t, std::errc> UdpLayer::pick_ephemeral(wire::Ipv4Addr addr) {
    const std::uint32_t lo = cfg_.ephemeral_port_min;
    const std::uint32_t hi = std::max<std::uint32_t>(cfg_.ephemeral_port_max, lo);
    const std::uint32_t n = hi - lo + 1;
    std::uint32_t start = static_cast<std::uint32_t>(rng_() % n);
    for (std::uint32_t i = 0; i < n; ++i) {
        auto port = static_cast<std::uint16_t>(lo + (start + i) % n);
        if (!port_conflict(UdpEndpoint{addr, port}, 0)) return port;
    }
    return unexpected(std::errc::address_in_use);
}

Result<void, std::errc> UdpLayer::bind(Id id, UdpEndpoint local) {
    Socket* s = find(id);
    if (!s) return unexpected(std::errc::bad_file_descriptor);
    if (s->bound) return unexpected(std::errc::invalid_argument);
    if (!local.addr.is_unspecified() && !ip_.is_local_address(local.addr))
        return unexpected(std::errc::address_not_available);
    const bool named_port = local.port != 0;
    if (local.port == 0) {
        auto p = pick_ephemeral(local.addr);
        if (!p) return unexpected(p.error());
        local.port = *p;
    } else if (port_conflict(local, id)) {
        return unexpected(std::errc::address_in_use);
    }
    s->port_locked = named_port;  // autobinds (connect, send) pass port 0
    s->local = local;
    s->bound = true;
    by_port_[local.port].push_back(id);
    return {};
}

Result<void, std::errc> UdpLayer::connect(Id id, UdpEndpoint remote) {
    Socket* s = find(id);
    if (!s) return unexpected(std::errc::bad_file_descriptor);
    if (remote.port == 0) return unexpected(std::errc::invalid_argument);
    auto r = ip_.route(remote.addr);
    if (!r) return unexpected(std::errc::network_unreachable);
    if (!s->bound) {
        if (auto b = bind(id, UdpEndpoint{}); !b) return b;
    }
    s->remote = remote;
    s->connected = true;
    return {};
}

Result<std::size_t, std::errc> UdpLayer::sendto(Id id, ByteSpan data, const UdpEndpoint* to,
                                                Instant now) {
    Socket* s = find(id);
    if (!s) return unexpected(std::errc::bad_file_descriptor);
    UdpEndpoint dst;
    if (to) {
        dst = *to;
        if (dst.port == 0) return unexpected(std::errc::invalid_argument);
    } else if (s->connected) {
        dst = s->remote;
    } else {
        return unexpected(std::errc::destination_address_required);
    }
    if (data.size() > kMaxUdpPayload) return unexpected(std::errc::message_size);
    if (ip_.is_broadcast_address(dst.addr))
        return unexpected(std::errc::permission_denied);  // Linux without SO_BROADCAST
    auto r = ip_.route(dst.addr);
    if (!r) return unexpected(std::errc::network_unreachable);
    if (!s->bound) {
        if (auto b = bind(id, UdpEndpoint{}); !b) return unexpected(b.error());
    }
    const wire::Ipv4Addr src = s->local.addr.is_unspecified() ? r->src : s->local.addr;
    auto buf = ip_.l4_buffer();
    if (!data.empty()) std::memcpy(buf.data() + wire::kUdpHeaderLen, data.data(), data.size());
    wire::write_udp(buf, s->local.port, dst.port, data.size(), src, dst.addr);
    net::IpTx tx;
    tx.src = src;
    tx.dst = dst.addr;
    tx.protocol = wire::kIpProtoUdp;
    auto out = ip_.output(tx, wire::kUdpHeaderLen + data.size(), now);
    if (!out) return unexpected(out.error());
    ++counters_.out_datagrams;
    return data.size();
}

Result<UdpRecvInfo, std::errc> UdpLayer::recvfrom(Id id, MutableByteSpan buf, bool peek) {
    Socket* s = find(id);
    if (!s) return unexpected(std::errc::bad_file_descriptor);
    if (s->pending_error != std::errc{}) {
        auto e = s->pending_error;
        s->pending_error = std::errc{};
        return unexpected(e);
    }
    if (s->queue.empty()) return unexpected(std::errc::resource_unavailable_try_again);
    const Datagram& d = s->queue.front();
    UdpRecvInfo info;
    info.full_size = d.data.size();
    info.size = std::min(buf.size(), d.data.size());
    if (info.size) std::memcpy(buf.data(), d.data.data(), info.size);
    info.from = d.from;
    if (!peek) {
        s->queued_bytes -= d.data.size();
        s->queue.pop_front();
    }
    return info;
}

Result<UdpEndpoint, std::errc> UdpLayer::peer(Id id) const {
    const Socket* s = find(id);
    if (!s) return unexpected(std::errc::bad_file_descriptor);
    if (!s->connected) return unexpected(std::errc::not_connected);
    return s->remote;
}

// Linux udp_disconnect(): the peer is forgotten; a port the user did not name is released.
Result<void, std::errc> UdpLayer::disconnect(Id id) {
    Socket* s = find(id);
    if (!s) return unexpected(std::errc::bad_file_descriptor);
    s->connected = false;
    s->remote = UdpEndpoint{};
    if (s->bound && !s->port_locked) {
        auto& v = by_port_[s->local.port];
        std::erase(v, id);
        if (v.empty()) by_port_.erase(s->local.port);
        s->bound = false;
        s->local = UdpEndpoint{};
    }
    return {};
}

std::size_t UdpLayer::next_size(Id id) const {
    const Socket* s = find(id);
    return s && !s->queue.empty() ? s->queue.front().data.size() : 0;
}

Result<UdpEndpoint, std::errc> UdpLayer::local(Id id) const {
    const Socket* s = find(id);
    if (!s) return unexpected(std::errc::bad_file_descriptor);
    return s->local;
}

std::uint32_t UdpLayer::poll(Id id) const {
    const Socket* s = find(id);
    if (!s) return events::kError | events::kHangup;
    std::uint32_t ev = events::kWritable;
    if (!s->queue.empty() || s->pending_error != std::errc{}) ev |= events::kReadable;
    if (s->pending_error != std::errc{}) ev |= events::kError;
    return ev;
}

void UdpLayer::close(Id id) {
    Socket* s = find(id);
    if (!s) return;
    if (s->bound) {
        auto& v = by_port_[s->local.port];
        std::erase(v, id);
        if (v.empty()) by_port_.erase(s->local.port);
    }
    sockets_.erase(id);
}

// The most specific match wins: connected to this peer, then bound to this address, then any.
UdpLayer::Socket* UdpLayer::lookup(wire::Ipv4Addr src, std::uint16_t sport, wire::Ipv4Addr dst,
                                   std::uint16_t dport) {
    auto it = by_port_.find(dport);
    if (it == by_port_.end()) return nullptr;
    Socket* best = nullptr;
    int best_score = -1;
    for (Id id : it->second) {
        Socket& s = sockets_.at(id);
        int score = 0;
        if (!s.local.addr.is_unspecified()) {
            if (s.local.addr != dst) continue;
            score += 1;
        }
        if (s.connected) {
            if (s.remote.addr != src || s.remote.port != sport) continue;
            score += 2;
        }
        if (score > best_score) {
            best = &s;
            best_score = score;
        }
    }
    return best;
}

void UdpLayer::on_datagram(const net::IpRx& rx, ByteSpan l4, Instant now) {
    auto d = wire::parse_udp(l4, rx.src, rx.dst, /*verify=*/!rx.l4_csum_trusted);
    if (!d) {
        ++counters_.in_errors;
        if (d.error() == wire::ParseError::kBadChecksum) ++counters_.in_csum_errors;
        return;
    }
    Socket* s = lookup(rx.src, d->header.src_port, rx.dst, d->header.dst_port);
    if (!s) {
        ++counters_.no_ports;
        // RFC 1122 4.1.3.1: port unreachable (never for broadcasts; IpLayer enforces the rest).
        if (!rx.to_broadcast)
            ip_.send_icmp_error(rx.ip_packet, 3, wire::icmp_unreach::kPort, 0, now);
        return;
    }
    if (s->queued_bytes + d->payload.size() > cfg_.udp_recv_queue_bytes) {
        ++counters_.rcvbuf_errors;
        ++counters_.in_errors;
        return;
    }
    const bool was_empty = s->queue.empty();
    s->queue.push_back(Datagram{UdpEndpoint{rx.src, d->header.src_port},
                                std::vector<std::byte>(d->payload.begin(), d->payload.end())});
    s->queued_bytes += d->payload.size();
    ++counters_.in_datagrams;
    if (was_empty) notify(s->id, events::kReadable);
}

void UdpLayer::on_icmp_error(const net::IcmpErrorRx& e, Instant /*now*/) {
    if (e.orig_l4.size() < 4) return;
    const std::uint16_t sport = load_be16(e.orig_l4.data());
    const std::uint16_t dport = load_be16(e.orig_l4.data() + 2);
    // Linux without IP_RECVERR: only "hard" errors, only to connected sockets.
    std::errc err{};
    if (e.type == 3) {
        switch (e.code) {
            case wire::icmp_unreach::kPort:
                err = std::errc::connection_refused;
                break;
            case wire::icmp_unreach::kProtocol:
                err = std::errc::no_protocol_option;
                break;
            case wire::icmp_unreach::kFragNeeded:
                err = std::errc::message_size;
                break;
            case 9:
            case 10:
            case wire::icmp_unreach::kAdminProhibited:
                err = std::errc::permission_denied;
                break;
            default:
                return;
        }
    } else {
        return;
    }
    for (auto& [id, s] : sockets_) {
        if (!s.connected || s.local.port != sport || s.remote.port != dport ||
            s.remote.addr != e.orig_dst)
            continue;
        if (!s.local.addr.is_unspecified() && s.local.addr != e.orig_src) continue;
        s.pending_error = err;
        notify(id, events::kReadable | events::kError);
    }
}

}  // namespace ustack::udp
