// Ethernet II frames (no 802.1Q tags; a tagged frame parses with ethertype 0x8100).
#pragma once

#include "common/bytes.hpp"
#include "wire/addr.hpp"
#include "wire/error.hpp"

namespace ustack::wire {

inline constexpr std::size_t kEthernetHeaderLen = 14;
inline constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherTypeArp = 0x0806;

struct EthernetHeader {
    MacAddr dst;
    MacAddr src;
    std::uint16_t ethertype = 0;
};

struct EthernetFrame {
    EthernetHeader header;
    ByteSpan payload;  // may include trailing padding to the 60-byte minimum
};

ParseResult<EthernetFrame> parse_ethernet(ByteSpan frame);

// Writes the 14-byte header at out[0..14). out must be at least kEthernetHeaderLen long.
void write_ethernet(MutableByteSpan out, const EthernetHeader& h);

}  // namespace ustack::wire
