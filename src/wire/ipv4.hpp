// IPv4 header (RFC 791). Options are kept as raw bytes and otherwise skipped.
#pragma once

#include "common/bytes.hpp"
#include "wire/addr.hpp"
#include "wire/error.hpp"

namespace ustack::wire {

inline constexpr std::size_t kIpv4MinHeaderLen = 20;
inline constexpr std::size_t kIpv4MaxHeaderLen = 60;
inline constexpr std::uint8_t kIpProtoIcmp = 1;
inline constexpr std::uint8_t kIpProtoTcp = 6;
inline constexpr std::uint8_t kIpProtoUdp = 17;

struct Ipv4Header {
    std::uint8_t header_len = kIpv4MinHeaderLen;  // bytes, 20..60
    std::uint8_t dscp_ecn = 0;
    std::uint16_t total_len = 0;
    std::uint16_t id = 0;
    bool dont_fragment = false;
    bool more_fragments = false;
    bool reserved_flag = false;     // the "evil bit"; kept, not acted on
    std::uint16_t frag_offset = 0;  // in 8-byte units
    std::uint8_t ttl = 64;
    std::uint8_t protocol = 0;
    std::uint16_t checksum = 0;
    Ipv4Addr src;
    Ipv4Addr dst;
    ByteSpan options;  // header bytes 20..header_len (empty when header_len == 20)

    bool is_fragment() const { return more_fragments || frag_offset != 0; }
    std::uint32_t frag_offset_bytes() const { return std::uint32_t{frag_offset} * 8; }
};

struct Ipv4Packet {
    Ipv4Header header;
    ByteSpan payload;  // trimmed to total_len (link-layer padding removed)
};

enum class ChecksumCheck : std::uint8_t { kVerify, kSkip };

// Validates version, IHL, total length against the span, and (when asked) the header checksum.
ParseResult<Ipv4Packet> parse_ipv4(ByteSpan data, ChecksumCheck check = ChecksumCheck::kVerify);

// Writes a header of h.header_len bytes (options copied from h.options, padded with zeros to
// header_len) at out, computing the checksum. h.total_len must already be set. Returns bytes
// written.
std::size_t write_ipv4(MutableByteSpan out, const Ipv4Header& h);

}  // namespace ustack::wire
