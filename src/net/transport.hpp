// What the IP layer hands to a transport protocol (UDP, ICMP echo sockets, later TCP).
#pragma once

#include <cstdint>

#include "common/bytes.hpp"
#include "common/time.hpp"
#include "phy/device.hpp"
#include "wire/addr.hpp"

namespace ustack::net {

// A datagram addressed to us, after validation and reassembly.
struct IpRx {
    std::uint32_t ifc = 0;
    wire::Ipv4Addr src;
    wire::Ipv4Addr dst;
    std::uint8_t ttl = 0;
    std::uint8_t tos = 0;
    bool to_broadcast = false;     // limited or directed broadcast
    bool l4_csum_trusted = false;  // the device vouched for (or left partial) the L4 checksum
    std::uint16_t gso_size = 0;    // a coalesced super-packet (GRO/TSO) of segments this size
    ByteSpan ip_packet;            // whole datagram, header included (for ICMP quoting)
};

// An ICMP error about a datagram we sent (RFC 1122 3.2.2, 4.1.3.3, 4.2.3.9).
struct IcmpErrorRx {
    std::uint8_t type = 0;
    std::uint8_t code = 0;
    std::uint16_t next_hop_mtu = 0;  // frag-needed only
    wire::Ipv4Addr reporter;         // who sent the ICMP message
    wire::Ipv4Addr orig_src;         // the datagram we sent: its addresses, protocol and
    wire::Ipv4Addr orig_dst;         // at least the first 8 bytes of its transport header
    std::uint8_t orig_proto = 0;
    ByteSpan orig_l4;
};

class Transport {
  public:
    virtual ~Transport() = default;
    virtual void on_datagram(const IpRx& rx, ByteSpan l4, Instant now) = 0;
    virtual void on_icmp_error(const IcmpErrorRx& err, Instant now) = 0;
};

}  // namespace ustack::net
