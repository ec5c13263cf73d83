#include "wire/ipv4.hpp"

#include <algorithm>
#include <cstring>

#include "wire/checksum.hpp"

namespace ustack::wire {

ParseResult<Ipv4Packet> parse_ipv4(ByteSpan d, ChecksumCheck check) {
    if (d.size() < kIpv4MinHeaderLen) return unexpected(ParseError::kTruncated);
    const std::byte* p = d.data();
    std::uint8_t vihl = load_u8(p);
    if ((vihl >> 4) != 4) return unexpected(ParseError::kBadVersion);
    std::size_t hlen = std::size_t{vihl & 0x0fu} * 4;
    if (hlen < kIpv4MinHeaderLen) return unexpected(ParseError::kBadHeaderLength);
    if (hlen > d.size()) return unexpected(ParseError::kTruncated);
    std::uint16_t total = load_be16(p + 2);
    if (total < hlen) return unexpected(ParseError::kBadTotalLength);
    if (total > d.size()) return unexpected(ParseError::kTruncated);
    if (check == ChecksumCheck::kVerify && internet_checksum(d.first(hlen)) != 0)
        return unexpected(ParseError::kBadChecksum);
    Ipv4Packet pkt;
    Ipv4Header& h = pkt.header;
    h.header_len = static_cast<std::uint8_t>(hlen);
    h.dscp_ecn = load_u8(p + 1);
    h.total_len = total;
    h.id = load_be16(p + 4);
    std::uint16_t ff = load_be16(p + 6);
    h.reserved_flag = (ff & 0x8000) != 0;
    h.dont_fragment = (ff & 0x4000) != 0;
    h.more_fragments = (ff & 0x2000) != 0;
    h.frag_offset = ff & 0x1fff;
    h.ttl = load_u8(p + 8);
    h.protocol = load_u8(p + 9);
    h.checksum = load_be16(p + 10);
    h.src = Ipv4Addr{load_be32(p + 12)};
    h.dst = Ipv4Addr{load_be32(p + 16)};
    h.options = d.subspan(kIpv4MinHeaderLen, hlen - kIpv4MinHeaderLen);
    pkt.payload = d.subspan(hlen, total - hlen);
    return pkt;
}

std::size_t write_ipv4(MutableByteSpan out, const Ipv4Header& h) {
    std::byte* p = out.data();
    std::size_t hlen = std::clamp<std::size_t>(h.header_len, kIpv4MinHeaderLen, kIpv4MaxHeaderLen);
    hlen &= ~std::size_t{3};
    store_u8(p, static_cast<std::uint8_t>(0x40 | (hlen / 4)));
    store_u8(p + 1, h.dscp_ecn);
    store_be16(p + 2, h.total_len);
    store_be16(p + 4, h.id);
    std::uint16_t ff =
        static_cast<std::uint16_t>((h.reserved_flag ? 0x8000 : 0) | (h.dont_fragment ? 0x4000 : 0) |
                                   (h.more_fragments ? 0x2000 : 0) | (h.frag_offset & 0x1fff));
    store_be16(p + 6, ff);
    store_u8(p + 8, h.ttl);
    store_u8(p + 9, h.protocol);
    store_be16(p + 10, 0);
    store_be32(p + 12, h.src.value);
    store_be32(p + 16, h.dst.value);
    std::size_t opt_room = hlen - kIpv4MinHeaderLen;
    std::size_t n = std::min(opt_room, h.options.size());
    if (n) std::memcpy(p + kIpv4MinHeaderLen, h.options.data(), n);
    if (opt_room > n) std::memset(p + kIpv4MinHeaderLen + n, 0, opt_room - n);
    store_be16(p + 10, internet_checksum(ByteSpan{p, hlen}));
    return hlen;
}

}  // namespace ustack::wire
