// ICMPv4 (RFC 792, RFC 1191 for fragmentation-needed next-hop MTU).
#pragma once

#include "common/bytes.hpp"
#include "wire/error.hpp"

namespace ustack::wire {

inline constexpr std::size_t kIcmpHeaderLen = 8;

enum class IcmpType : std::uint8_t {
    kEchoReply = 0,
    kDestUnreachable = 3,
    kEchoRequest = 8,
    kTimeExceeded = 11,
};

// Destination-unreachable codes (RFC 792, RFC 1122).
namespace icmp_unreach {
inline constexpr std::uint8_t kNet = 0;
inline constexpr std::uint8_t kHost = 1;
inline constexpr std::uint8_t kProtocol = 2;
inline constexpr std::uint8_t kPort = 3;
inline constexpr std::uint8_t kFragNeeded = 4;
inline constexpr std::uint8_t kAdminProhibited = 13;
}  // namespace icmp_unreach

struct IcmpMessage {
    std::uint8_t type = 0;
    std::uint8_t code = 0;
    std::uint16_t checksum = 0;
    std::uint32_t rest = 0;  // "rest of header": id/seq for echo, next-hop MTU for frag-needed
    ByteSpan body;           // echo data, or the offending datagram's header + 8 bytes

    std::uint16_t echo_id() const { return static_cast<std::uint16_t>(rest >> 16); }
    std::uint16_t echo_seq() const { return static_cast<std::uint16_t>(rest & 0xffff); }
    std::uint16_t next_hop_mtu() const { return static_cast<std::uint16_t>(rest & 0xffff); }
};

// Verifies the checksum over the whole message when asked.
ParseResult<IcmpMessage> parse_icmp(ByteSpan data, bool verify_checksum = true);

// Writes the 8-byte header and copies body after it, computing the checksum over both.
// out must hold kIcmpHeaderLen + body.size(). Returns bytes written.
std::size_t write_icmp(MutableByteSpan out, std::uint8_t type, std::uint8_t code,
                       std::uint32_t rest, ByteSpan body);

inline std::uint32_t icmp_echo_rest(std::uint16_t id, std::uint16_t seq) {
    return (std::uint32_t{id} << 16) | seq;
}

}  // namespace ustack::wire
