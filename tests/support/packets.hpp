// Builders for test packets, on top of wire/.
#pragma once

#include <cstring>
#include <vector>

#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/udp.hpp"

namespace ustack::testing {

inline std::vector<std::byte> ipv4_packet(wire::Ipv4Header h, ByteSpan payload) {
    std::vector<std::byte> p(h.header_len + payload.size());
    h.total_len = static_cast<std::uint16_t>(p.size());
    wire::write_ipv4(p, h);
    if (!payload.empty()) std::memcpy(p.data() + h.header_len, payload.data(), payload.size());
    return p;
}

inline wire::Ipv4Header ip_header(wire::Ipv4Addr src, wire::Ipv4Addr dst, std::uint8_t proto,
                                  std::uint16_t id = 0x1234) {
    wire::Ipv4Header h;
    h.src = src;
    h.dst = dst;
    h.protocol = proto;
    h.id = id;
    h.ttl = 64;
    return h;
}

inline std::vector<std::byte> udp_datagram(wire::Ipv4Addr src, std::uint16_t sport,
                                           wire::Ipv4Addr dst, std::uint16_t dport,
                                           ByteSpan payload) {
    std::vector<std::byte> u(wire::kUdpHeaderLen + payload.size());
    if (!payload.empty()) std::memcpy(u.data() + 8, payload.data(), payload.size());
    wire::write_udp(u, sport, dport, payload.size(), src, dst);
    return ipv4_packet(ip_header(src, dst, wire::kIpProtoUdp), u);
}

inline std::vector<std::byte> icmp_echo(wire::Ipv4Addr src, wire::Ipv4Addr dst, std::uint16_t id,
                                        std::uint16_t seq, ByteSpan payload,
                                        std::uint8_t type = 8) {
    std::vector<std::byte> m(wire::kIcmpHeaderLen + payload.size());
    wire::write_icmp(m, type, 0, wire::icmp_echo_rest(id, seq), payload);
    return ipv4_packet(ip_header(src, dst, wire::kIpProtoIcmp), m);
}

inline std::vector<std::byte> ethernet(wire::MacAddr dst, wire::MacAddr src, std::uint16_t type,
                                       ByteSpan payload) {
    std::vector<std::byte> f(wire::kEthernetHeaderLen + payload.size());
    wire::write_ethernet(f, {dst, src, type});
    if (!payload.empty()) std::memcpy(f.data() + 14, payload.data(), payload.size());
    return f;
}

inline std::vector<std::byte> arp_frame(wire::ArpOp op, wire::MacAddr smac, wire::Ipv4Addr sip,
                                        wire::MacAddr tmac, wire::Ipv4Addr tip,
                                        wire::MacAddr eth_dst) {
    std::vector<std::byte> a(wire::kArpPacketLen);
    wire::write_arp(a, {op, smac, sip, tmac, tip});
    return ethernet(eth_dst, smac, wire::kEtherTypeArp, a);
}

inline std::vector<std::byte> pattern(std::size_t n, unsigned seed = 1) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = static_cast<std::byte>((i * 31 + seed) & 0xff);
    return v;
}

}  // namespace ustack::testing
