// IPv4 input: link demux, ARP, validation, reassembly, delivery to transports.
#include <cstring>

#include "net/ip_layer.hpp"
#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"

namespace ustack::net {

void IpLayer::on_frame(InterfaceIndex ifc, ByteSpan frame, const phy::FrameMeta& meta,
                       Instant now) {
    now_ = now;
    if (ifc >= ifaces_.size()) return;
    Interface& ic = *ifaces_[ifc];
    ++counters_.link.rx_frames;
    counters_.link.rx_bytes += frame.size();
    if (ic.link == phy::LinkType::kIp) {
        // A TUN device carries whatever the kernel routes to it, IPv6 included: only IPv4 is
        // ours; the rest is counted like an unknown ethertype, not as a broken IPv4 header.
        if (!frame.empty() && (static_cast<std::uint8_t>(frame[0]) >> 4) != 4) {
            ++counters_.link.rx_unknown_ethertype;
            return;
        }
        on_ipv4(ifc, frame, meta, now);
        return;
    }
    auto eth = wire::parse_ethernet(frame);
    if (!eth) {
        ++counters_.link.rx_malformed;
        return;
    }
    const auto& dst = eth->header.dst;
    if (dst != ic.mac && !dst.is_broadcast()) {
        ++counters_.link.rx_not_for_us;
        return;
    }
    switch (eth->header.ethertype) {
        case wire::kEtherTypeArp:
            on_arp(ifc, eth->payload, now);
            break;
        case wire::kEtherTypeIpv4:
            on_ipv4(ifc, eth->payload, meta, now);
            break;
        default:
            ++counters_.link.rx_unknown_ethertype;
            break;
    }
}

// RFC 826 "packet reception", with the sanity checks Linux applies before trusting a sender.
void IpLayer::on_arp(InterfaceIndex ifc, ByteSpan data, Instant now) {
    auto a = wire::parse_arp(data);
    if (!a) {
        ++counters_.arp.in_malformed;
        return;
    }
    Interface& ic = *ifaces_[ifc];
    if (a->op == wire::ArpOp::kRequest)
        ++counters_.arp.in_requests;
    else
        ++counters_.arp.in_replies;
    const auto& smac = a->sender_mac;
    const auto sip = a->sender_ip;
    if (smac.is_multicast() || smac.is_zero() || smac == ic.mac || sip.is_multicast() ||
        sip.is_broadcast() || is_local_address(sip)) {
        ++counters_.arp.in_malformed;
        return;
    }
    if (!sip.is_unspecified() && sip == a->target_ip) {
        // Gratuitous ARP: refresh an entry we already have, never create one from it.
        ++counters_.arp.in_gratuitous;
        ready_.clear();
        arp_.update(ifc, sip, smac, /*create=*/false, now, ready_);
    } else {
        const bool for_us = a->target_ip == ic.addr.addr;
        ready_.clear();
        if (!sip.is_unspecified()) arp_.update(ifc, sip, smac, for_us, now, ready_);
        if (for_us && a->op == wire::ArpOp::kRequest) {
            send_arp(ifc, 2, smac, smac, sip, now);
            ++counters_.arp.out_replies;
        }
    }
    // Packets that waited for this neighbour go out now.
    auto ready = std::move(ready_);
    for (auto& p : ready) {
        std::memcpy(frag_buf_.data() + 14, p.data(), p.size());
        transmit(ifc, sip, frag_buf_.data() + 14, p.size(), now);
    }
    ready.clear();
    ready_ = std::move(ready);
}

void IpLayer::on_ipv4(InterfaceIndex ifc, ByteSpan data, const phy::FrameMeta& meta, Instant now) {
    ++counters_.ip.in_receives;
    auto pkt = wire::parse_ipv4(data, wire::ChecksumCheck::kVerify);
    if (!pkt) {
        switch (pkt.error()) {
            case wire::ParseError::kBadChecksum:
                ++counters_.ip.in_csum_errors;
                ++counters_.ip.in_hdr_errors;
                break;
            case wire::ParseError::kTruncated:
                ++counters_.ip.in_truncated_pkts;
                break;
            default:
                ++counters_.ip.in_hdr_errors;
                break;
        }
        return;
    }
    const auto& h = pkt->header;
    // A source that cannot be a single host is a martian (RFC 1122 3.2.1.3).
    if (h.src.is_multicast() || h.src.is_broadcast() || is_broadcast_address(h.src)) {
        ++counters_.ip.in_addr_errors;
        return;
    }
    if (!is_local_address(h.dst) && !is_broadcast_address(h.dst)) {
        ++counters_.ip.in_addr_errors;  // a host does not forward (RFC 1122 3.3.1)
        return;
    }
    // RFC 1122 3.2.1.7: a host must not discard a datagram just because its TTL is low; we are
    // its destination, so the TTL is not checked here.
    ByteSpan raw = data.first(h.total_len);
    // Offload: the device left the L4 checksum partial or vouched for it; only whole
    // (unfragmented) datagrams can carry that promise.
    const bool trusted = !h.is_fragment() && (meta.needs_csum || meta.csum_valid);
    if (h.is_fragment()) {
        Reassembler::Complete done;
        if (!reasm_.add(*pkt, data.first(h.header_len), now, done)) return;
        reasm_out_ = std::move(done.packet);
        auto whole = wire::parse_ipv4(reasm_out_, wire::ChecksumCheck::kSkip);
        if (!whole) {
            ++counters_.ip.reasm_fails;
            return;
        }
        deliver(*whole, reasm_out_, ifc, false, now);
        return;
    }
    deliver(*pkt, raw, ifc, trusted, now,
            meta.gso == phy::FrameMeta::Gso::kTcpV4 ? meta.gso_size : std::uint16_t{0});
}

void IpLayer::deliver(const wire::Ipv4Packet& pkt, ByteSpan raw, InterfaceIndex ifc,
                      bool l4_csum_trusted, Instant now, std::uint16_t gso_size) {
    const auto& h = pkt.header;
    IpRx rx;
    rx.ifc = ifc;
    rx.src = h.src;
    rx.dst = h.dst;
    rx.ttl = h.ttl;
    rx.tos = h.dscp_ecn;
    rx.to_broadcast = is_broadcast_address(h.dst);
    rx.l4_csum_trusted = l4_csum_trusted;
    rx.gso_size = gso_size;
    rx.ip_packet = raw;
    if (h.protocol == wire::kIpProtoIcmp) {
        ++counters_.ip.in_delivers;
        on_icmp(rx, pkt.payload, now);
        return;
    }
    if (Transport* t = transports_[h.protocol]) {
        ++counters_.ip.in_delivers;
        t->on_datagram(rx, pkt.payload, now);
        return;
    }
    ++counters_.ip.in_unknown_protos;
    if (!rx.to_broadcast)
        send_icmp_error(raw, static_cast<std::uint8_t>(wire::IcmpType::kDestUnreachable),
                        wire::icmp_unreach::kProtocol, 0, now);
}

}  // namespace ustack::net
