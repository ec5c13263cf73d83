// IPv4 output: routing, header, fragmentation, ARP resolution, link framing. Also the layer's
// set-up and timers.
#include <algorithm>
#include <cstring>
#include <utility>

#include "net/ip_layer.hpp"
#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"

namespace ustack::net {

namespace {
constexpr std::size_t kMaxPacket = 65535;
constexpr std::size_t kLinkRoom = 14;
}  // namespace

IpLayer::IpLayer(const StackConfig& cfg, StackCounters& counters, std::uint64_t seed)
    : cfg_(cfg),
      counters_(counters),
      arp_(cfg, counters.arp),
      reasm_(cfg, counters.ip),
      tx_buf_(kLinkRoom + kMaxPacket),
      frag_buf_(kLinkRoom + kMaxPacket),
      ip_id_(static_cast<std::uint16_t>(seed ^ (seed >> 16) ^ (seed >> 32))),
      icmp_tokens_(static_cast<double>(cfg.icmp_error_burst)) {}

InterfaceIndex IpLayer::add_interface(phy::Device& dev, wire::Ipv4Cidr addr, wire::MacAddr mac,
                                      std::uint32_t mtu) {
    auto ic = std::make_unique<Interface>();
    ic->device = &dev;
    ic->link = dev.caps().link;
    ic->addr = addr;
    ic->mac = mac;
    ic->mtu = std::clamp<std::uint32_t>(mtu, 68, kMaxPacket);
    ic->rx_buf.resize(std::max<std::size_t>(dev.caps().max_frame, ic->mtu + kLinkRoom));
    auto idx = static_cast<InterfaceIndex>(ifaces_.size());
    ifaces_.push_back(std::move(ic));
    routes_.add(RouteEntry{wire::Ipv4Cidr{addr.network(), addr.prefix_len}, std::nullopt, idx});
    return idx;
}

bool IpLayer::is_local_address(wire::Ipv4Addr a) const {
    return std::any_of(ifaces_.begin(), ifaces_.end(),
                       [&](const auto& ic) { return ic->addr.addr == a; });
}

bool IpLayer::is_broadcast_address(wire::Ipv4Addr a) const {
    if (a.is_broadcast()) return true;
    return std::any_of(ifaces_.begin(), ifaces_.end(), [&](const auto& ic) {
        return ic->addr.prefix_len < 31 && ic->addr.broadcast() == a;
    });
}

std::uint32_t IpLayer::path_mtu(wire::Ipv4Addr dst) const {
    auto it = pmtu_.find(dst.value);
    if (it == pmtu_.end() || it->second.expires <= now_) return 0;
    return it->second.mtu;
}

std::optional<RouteInfo> IpLayer::route(wire::Ipv4Addr dst) const {
    if (ifaces_.empty()) return std::nullopt;
    RouteInfo r;
    if (dst.is_broadcast()) {
        r.ifc = 0;
        r.next_hop = dst;
    } else {
        auto m = routes_.lookup(dst);
        if (!m) return std::nullopt;
        r.ifc = m->ifc;
        r.next_hop = m->next_hop;
    }
    const Interface& ic = *ifaces_[r.ifc];
    r.src = ic.addr.addr;
    r.mtu = ic.mtu;
    const auto& caps = ic.device->caps();
    r.csum_offload = caps.tx_csum_offload;
    r.tso = caps.tx_tso && caps.tx_csum_offload;
    if (auto p = path_mtu(dst); p != 0 && p < r.mtu) {
        r.mtu = p;
        r.tso = false;  // the device would cut at the interface MTU, too big for this path
    }
    return r;
}

MutableByteSpan IpLayer::l4_buffer(const RouteInfo& route, std::size_t l4_len) {
    Interface& ic = *ifaces_[route.ifc];
    const std::size_t front =
        (ic.link == phy::LinkType::kIp ? 0 : kLinkRoom) + wire::kIpv4MinHeaderLen;
    MutableByteSpan lent = ic.device->tx_buffer(front + l4_len);
    if (lent.size() < front + l4_len) return l4_buffer();
    l4_lent_ = lent.data() + front;
    l4_lent_ifc_ = route.ifc;
    return lent.subspan(front);
}

Result<void, std::errc> IpLayer::output(const IpTx& tx, std::size_t l4_len, Instant now,
                                        const TxOffload* offload, const RouteInfo* route) {
    now_ = now;
    std::byte* const lent = std::exchange(l4_lent_, nullptr);
    std::optional<RouteInfo> looked_up;
    if (!route) {
        looked_up = this->route(tx.dst);
        if (!looked_up) {
            ++counters_.ip.out_no_routes;
            return unexpected(std::errc::network_unreachable);
        }
        route = &*looked_up;
    }
    const RouteInfo* r = route;
    const std::size_t total = wire::kIpv4MinHeaderLen + l4_len;
    if (total > kMaxPacket) {
        ++counters_.ip.out_discards;
        return unexpected(std::errc::message_size);
    }
    ++counters_.ip.out_requests;
    wire::Ipv4Header h;
    h.header_len = wire::kIpv4MinHeaderLen;
    h.dscp_ecn = tx.tos;
    h.total_len = static_cast<std::uint16_t>(total);
    h.id = next_ip_id();
    h.dont_fragment = tx.dont_fragment;
    h.ttl = tx.ttl ? tx.ttl : cfg_.default_ttl;
    h.protocol = tx.protocol;
    h.src = tx.src.is_unspecified() ? r->src : tx.src;
    h.dst = tx.dst;
    std::byte* ip = tx_buf_.data() + kLinkRoom;
    const bool segmented = offload && offload->gso_size != 0 && r->tso;
    const bool whole = total <= r->mtu || segmented;
    if (lent) {
        // Built in the device's own buffer: sent from there when it goes whole by that device,
        // else moved here first (fragments are sent through the same device buffer).
        if (whole && l4_lent_ifc_ == r->ifc)
            ip = lent - wire::kIpv4MinHeaderLen;
        else
            std::memmove(ip + wire::kIpv4MinHeaderLen, lent, l4_len);
    }
    if (whole) {
        wire::write_ipv4({ip, wire::kIpv4MinHeaderLen}, h);
        transmit(r->ifc, r->next_hop, ip, total, now, offload);
        return {};
    }
    if (tx.dont_fragment) {
        ++counters_.ip.frag_fails;
        return unexpected(std::errc::message_size);
    }
    // RFC 791 3.2 fragmentation: every fragment but the last carries a multiple of 8 bytes.
    const std::size_t chunk = ((r->mtu - wire::kIpv4MinHeaderLen) / 8) * 8;
    const std::byte* payload = ip + wire::kIpv4MinHeaderLen;
    std::byte* frag = frag_buf_.data() + kLinkRoom;
    for (std::size_t off = 0; off < l4_len; off += chunk) {
        const std::size_t n = std::min(chunk, l4_len - off);
        wire::Ipv4Header fh = h;
        fh.total_len = static_cast<std::uint16_t>(wire::kIpv4MinHeaderLen + n);
        fh.frag_offset = static_cast<std::uint16_t>(off / 8);
        fh.more_fragments = off + n < l4_len;
        wire::write_ipv4({frag, wire::kIpv4MinHeaderLen}, fh);
        std::memcpy(frag + wire::kIpv4MinHeaderLen, payload + off, n);
        transmit(r->ifc, r->next_hop, frag, wire::kIpv4MinHeaderLen + n, now);
        ++counters_.ip.frag_creates;
    }
    ++counters_.ip.frag_oks;
    return {};
}

void IpLayer::transmit(InterfaceIndex ifc, wire::Ipv4Addr next_hop, std::byte* ip, std::size_t len,
                       Instant now, const TxOffload* offload) {
    Interface& ic = *ifaces_[ifc];
    const std::uint16_t link_len = ic.link == phy::LinkType::kIp ? 0 : kLinkRoom;
    phy::FrameMeta meta;
    if (offload) {
        meta.needs_csum = true;
        meta.csum_start = static_cast<std::uint16_t>(offload->csum_start + link_len);
        meta.csum_offset = offload->csum_offset;
        if (offload->gso_size != 0 && len > std::size_t{offload->hdr_len} + offload->gso_size) {
            meta.gso = phy::FrameMeta::Gso::kTcpV4;
            meta.gso_size = offload->gso_size;
            meta.hdr_len = static_cast<std::uint16_t>(offload->hdr_len + link_len);
        }
    }
    if (ic.link == phy::LinkType::kIp) {
        send_frame(ifc, {ip, len}, now, meta);
        return;
    }
    wire::MacAddr dst_mac;
    if (next_hop.is_broadcast() || is_broadcast_address(next_hop)) {
        dst_mac = wire::MacAddr::broadcast();
    } else if (auto mac = arp_.lookup(ifc, next_hop, now)) {
        dst_mac = *mac;
    } else if (offload) {
        // Packets that wait for ARP are sent later without their metadata: such a packet
        // (a first TCP segment, before the peer is resolved) is dropped and retransmitted.
        if (arp_.resolve(ifc, next_hop, now)) {
            send_arp(ifc, 1, wire::MacAddr::broadcast(), wire::MacAddr{}, next_hop, now);
            ++counters_.arp.out_requests;
        }
        return;
    } else {
        if (arp_.enqueue(ifc, next_hop, {ip, len}, now)) {
            send_arp(ifc, 1, wire::MacAddr::broadcast(), wire::MacAddr{}, next_hop, now);
            ++counters_.arp.out_requests;
        }
        return;
    }
    std::byte* frame = ip - kLinkRoom;
    wire::write_ethernet({frame, kLinkRoom}, {dst_mac, ic.mac, wire::kEtherTypeIpv4});
    send_frame(ifc, {frame, len + kLinkRoom}, now, meta);
}

void IpLayer::send_frame(InterfaceIndex ifc, ByteSpan frame, Instant now,
                         const phy::FrameMeta& meta) {
    auto r = ifaces_[ifc]->device->send(frame, meta, now);
    if (!r) {
        ++counters_.link.tx_errors;
        return;
    }
    ++counters_.link.tx_frames;
    counters_.link.tx_bytes += frame.size();
}

void IpLayer::send_arp(InterfaceIndex ifc, std::uint16_t op, wire::MacAddr dst_mac,
                       wire::MacAddr target_mac, wire::Ipv4Addr target_ip, Instant now) {
    Interface& ic = *ifaces_[ifc];
    std::array<std::byte, kLinkRoom + wire::kArpPacketLen> f{};
    wire::write_ethernet({f.data(), kLinkRoom}, {dst_mac, ic.mac, wire::kEtherTypeArp});
    wire::ArpPacket a;
    a.op = static_cast<wire::ArpOp>(op);
    a.sender_mac = ic.mac;
    a.sender_ip = ic.addr.addr;
    a.target_mac = target_mac;
    a.target_ip = target_ip;
    wire::write_arp({f.data() + kLinkRoom, wire::kArpPacketLen}, a);
    send_frame(ifc, f, now);
}

void IpLayer::on_timer(Instant now) {
    now_ = now;
    arp_.on_timer(now, [&](std::uint32_t ifc, wire::Ipv4Addr ip) {
        send_arp(ifc, 1, wire::MacAddr::broadcast(), wire::MacAddr{}, ip, now);
        ++counters_.arp.out_requests;
    });
    std::vector<std::vector<std::byte>> expired;
    reasm_.on_timer(now, expired);
    for (const auto& q : expired)
        send_icmp_error(q, static_cast<std::uint8_t>(wire::IcmpType::kTimeExceeded), 1, 0, now);
    std::erase_if(pmtu_, [&](const auto& kv) { return kv.second.expires <= now; });
}

Instant IpLayer::next_deadline() const {
    return std::min(arp_.next_deadline(), reasm_.next_deadline());
}

}  // namespace ustack::net
