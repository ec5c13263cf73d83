// UDP header (RFC 768).
#pragma once

#include "common/bytes.hpp"
#include "wire/addr.hpp"
#include "wire/error.hpp"

namespace ustack::wire {

inline constexpr std::size_t kUdpHeaderLen = 8;

struct UdpHeader {
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    std::uint16_t length = 0;    // header + payload
    std::uint16_t checksum = 0;  // 0 means "none" (RFC 768)
};

struct UdpDatagram {
    UdpHeader header;
    ByteSpan payload;  // trimmed to header.length
};

// Checks length against the span; verifies the checksum (with the IPv4 pseudo-header) when
// verify is set and the checksum field is non-zero.
ParseResult<UdpDatagram> parse_udp(ByteSpan data, Ipv4Addr src, Ipv4Addr dst, bool verify = true);

// Writes the 8-byte header in front of a payload already placed at out[8..8+payload_len),
// computing the checksum (0 is sent as 0xffff). Returns kUdpHeaderLen.
std::size_t write_udp(MutableByteSpan out, std::uint16_t src_port, std::uint16_t dst_port,
                      std::size_t payload_len, Ipv4Addr src, Ipv4Addr dst);

}  // namespace ustack::wire
