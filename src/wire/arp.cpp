#include "wire/arp.hpp"

#include <cstring>

namespace ustack::wire {

ParseResult<ArpPacket> parse_arp(ByteSpan d) {
    if (d.size() < kArpPacketLen) return unexpected(ParseError::kTruncated);
    const std::byte* p = d.data();
    if (load_be16(p) != 1 || load_be16(p + 2) != 0x0800 || load_u8(p + 4) != 6 ||
        load_u8(p + 5) != 4)
        return unexpected(ParseError::kUnsupported);
    std::uint16_t op = load_be16(p + 6);
    if (op != 1 && op != 2) return unexpected(ParseError::kUnsupported);
    ArpPacket a;
    a.op = static_cast<ArpOp>(op);
    std::memcpy(a.sender_mac.bytes.data(), p + 8, 6);
    a.sender_ip = Ipv4Addr{load_be32(p + 14)};
    std::memcpy(a.target_mac.bytes.data(), p + 18, 6);
    a.target_ip = Ipv4Addr{load_be32(p + 24)};
    return a;
}

void write_arp(MutableByteSpan out, const ArpPacket& a) {
    std::byte* p = out.data();
    store_be16(p, 1);
    store_be16(p + 2, 0x0800);
    store_u8(p + 4, 6);
    store_u8(p + 5, 4);
    store_be16(p + 6, static_cast<std::uint16_t>(a.op));
    std::memcpy(p + 8, a.sender_mac.bytes.data(), 6);
    store_be32(p + 14, a.sender_ip.value);
    std::memcpy(p + 18, a.target_mac.bytes.data(), 6);
    store_be32(p + 24, a.target_ip.value);
}

}  // namespace ustack::wire
