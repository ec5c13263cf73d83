// TCP header (RFC 9293 3.1) and options: EOL, NOP, MSS (RFC 9293), window scale and timestamps
// (RFC 7323), SACK-permitted and SACK blocks (RFC 2018). Unknown options are skipped by length.
#pragma once

#include <array>
#include <optional>

#include "common/bytes.hpp"
#include "wire/addr.hpp"
#include "wire/error.hpp"

namespace ustack::wire {

inline constexpr std::size_t kTcpMinHeaderLen = 20;
inline constexpr std::size_t kTcpMaxHeaderLen = 60;
inline constexpr std::size_t kTcpMaxSackBlocks = 4;

namespace tcp_flags {
inline constexpr std::uint8_t kFin = 0x01;
inline constexpr std::uint8_t kSyn = 0x02;
inline constexpr std::uint8_t kRst = 0x04;
inline constexpr std::uint8_t kPsh = 0x08;
inline constexpr std::uint8_t kAck = 0x10;
inline constexpr std::uint8_t kUrg = 0x20;
inline constexpr std::uint8_t kEce = 0x40;
inline constexpr std::uint8_t kCwr = 0x80;
}  // namespace tcp_flags

namespace tcp_opt {
inline constexpr std::uint8_t kEol = 0;
inline constexpr std::uint8_t kNop = 1;
inline constexpr std::uint8_t kMss = 2;
inline constexpr std::uint8_t kWindowScale = 3;
inline constexpr std::uint8_t kSackPermitted = 4;
inline constexpr std::uint8_t kSack = 5;
inline constexpr std::uint8_t kTimestamps = 8;
inline constexpr std::uint8_t kFastOpen = 34;  // RFC 7413 TCP Fast Open cookie
}  // namespace tcp_opt

// RFC 7413 4.1.1: a cookie is 4 to 16 bytes, even; an empty one is a cookie request.
inline constexpr std::size_t kTcpFastOpenCookieMin = 4;
inline constexpr std::size_t kTcpFastOpenCookieMax = 16;
struct FastOpenCookie {
    std::uint8_t len = 0;  // 0: a request
    std::array<std::byte, kTcpFastOpenCookieMax> bytes{};
    ByteSpan view() const { return ByteSpan{bytes.data(), len}; }
    friend bool operator==(const FastOpenCookie&, const FastOpenCookie&) = default;
};

struct SackBlock {
    std::uint32_t left = 0;   // first sequence number of the block
    std::uint32_t right = 0;  // sequence number just past the block
    friend bool operator==(const SackBlock&, const SackBlock&) = default;
};

struct TcpTimestamps {
    std::uint32_t value = 0;  // TSval
    std::uint32_t echo = 0;   // TSecr
    friend bool operator==(const TcpTimestamps&, const TcpTimestamps&) = default;
};

struct TcpOptions {
    std::optional<std::uint16_t> mss;
    std::optional<std::uint8_t> window_scale;  // as sent (values > 14 are the receiver's problem)
    bool sack_permitted = false;
    std::optional<TcpTimestamps> timestamps;
    std::array<SackBlock, kTcpMaxSackBlocks> sack_blocks{};
    std::uint8_t sack_count = 0;
    // Fast Open option (SYN and SYN-ACK only): a request (empty) or a cookie. One of a length
    // RFC 7413 does not allow is skipped (counted as unknown), not an error.
    std::optional<FastOpenCookie> fastopen;
    std::uint8_t unknown_count = 0;  // options skipped by length

    friend bool operator==(const TcpOptions&, const TcpOptions&) = default;
};

struct TcpHeader {
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    std::uint32_t seq = 0;
    std::uint32_t ack = 0;
    std::uint8_t header_len = kTcpMinHeaderLen;  // data offset in bytes
    std::uint8_t reserved = 0;                   // the 4 reserved bits (kept, not acted on)
    std::uint8_t flags = 0;
    std::uint16_t window = 0;
    std::uint16_t checksum = 0;
    std::uint16_t urgent = 0;
    ByteSpan raw_options;  // header bytes 20..header_len

    bool has(std::uint8_t flag) const { return (flags & flag) != 0; }
};

struct TcpSegment {
    TcpHeader header;
    TcpOptions options;
    ByteSpan payload;
};

// Parses the header and its options. A malformed option list (length < 2, running past the
// header, wrong length for a known kind, SACK block count not integral) is kBadOption.
// Verifies the checksum with the pseudo-header when verify is set.
ParseResult<TcpSegment> parse_tcp(ByteSpan data, Ipv4Addr src, Ipv4Addr dst, bool verify = true);

// Parses an option list on its own (the bytes between the fixed header and the data).
ParseResult<TcpOptions> parse_tcp_options(ByteSpan options);

// Layouts used when writing options. kLinux writes Linux's orders:
//   SYN with timestamps:    MSS, SACK-permitted, TS, NOP, WS
//   SYN without timestamps: MSS, NOP, NOP, SACK-permitted, NOP, WS
//   other segments:         NOP, NOP, TS; then NOP, NOP, SACK blocks
enum class TcpOptionLayout : std::uint8_t { kLinux };

// Bytes the options will take (a multiple of 4, at most 40).
std::size_t tcp_options_size(const TcpOptions& o, TcpOptionLayout layout = TcpOptionLayout::kLinux);

// Writes options at out (which must hold tcp_options_size bytes); returns bytes written. SACK
// blocks that do not fit in the 40-byte budget are dropped (last ones first).
std::size_t write_tcp_options(MutableByteSpan out, const TcpOptions& o,
                              TcpOptionLayout layout = TcpOptionLayout::kLinux);

// How write_tcp fills the checksum field: the full checksum, or only the folded pseudo-header
// sum (not inverted) for a device that completes it (virtio-net NEEDS_CSUM / Linux
// CHECKSUM_PARTIAL), as segmentation offload requires.
enum class TcpChecksum : std::uint8_t { kFull, kPseudoHeaderOnly };

// Writes a TCP header with options at out; the payload must already sit right after the header
// (at out[header_len .. header_len + payload_len)). Sets h.header_len from the options and
// computes the checksum with the pseudo-header. Returns the header length.
std::size_t write_tcp(MutableByteSpan out, TcpHeader h, const TcpOptions& options,
                      std::size_t payload_len, Ipv4Addr src, Ipv4Addr dst,
                      TcpChecksum checksum = TcpChecksum::kFull);

}  // namespace ustack::wire
