// ARP for IPv4 over Ethernet (RFC 826).
#pragma once

#include "common/bytes.hpp"
#include "wire/addr.hpp"
#include "wire/error.hpp"

namespace ustack::wire {

inline constexpr std::size_t kArpPacketLen = 28;

enum class ArpOp : std::uint16_t { kRequest = 1, kReply = 2 };

struct ArpPacket {
    ArpOp op = ArpOp::kRequest;
    MacAddr sender_mac;
    Ipv4Addr sender_ip;
    MacAddr target_mac;
    Ipv4Addr target_ip;
};

// Accepts only htype Ethernet (1), ptype IPv4 (0x0800), hlen 6, plen 4; other kinds are
// kUnsupported; an op other than request/reply is kUnsupported.
ParseResult<ArpPacket> parse_arp(ByteSpan data);

// Writes 28 bytes at out.
void write_arp(MutableByteSpan out, const ArpPacket& p);

}  // namespace ustack::wire
