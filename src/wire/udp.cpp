#include "wire/udp.hpp"

#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

namespace ustack::wire {

ParseResult<UdpDatagram> parse_udp(ByteSpan d, Ipv4Addr src, Ipv4Addr dst, bool verify) {
    if (d.size() < kUdpHeaderLen) return unexpected(ParseError::kTruncated);
    UdpDatagram u;
    u.header.src_port = load_be16(d.data());
    u.header.dst_port = load_be16(d.data() + 2);
    u.header.length = load_be16(d.data() + 4);
    u.header.checksum = load_be16(d.data() + 6);
    if (u.header.length < kUdpHeaderLen) return unexpected(ParseError::kBadTotalLength);
    if (u.header.length > d.size()) return unexpected(ParseError::kTruncated);
    ByteSpan whole = d.first(u.header.length);
    if (verify && u.header.checksum != 0) {
        auto sum =
            checksum_accumulate(whole, pseudo_header_sum(src, dst, kIpProtoUdp, u.header.length));
        if (checksum_fold(sum) != 0xffff) return unexpected(ParseError::kBadChecksum);
    }
    u.payload = whole.subspan(kUdpHeaderLen);
    return u;
}

std::size_t write_udp(MutableByteSpan out, std::uint16_t src_port, std::uint16_t dst_port,
                      std::size_t payload_len, Ipv4Addr src, Ipv4Addr dst) {
    std::byte* p = out.data();
    auto len = static_cast<std::uint16_t>(kUdpHeaderLen + payload_len);
    store_be16(p, src_port);
    store_be16(p + 2, dst_port);
    store_be16(p + 4, len);
    store_be16(p + 6, 0);
    std::uint16_t c =
        internet_checksum(ByteSpan{p, len}, pseudo_header_sum(src, dst, kIpProtoUdp, len));
    store_be16(p + 6, c == 0 ? 0xffff : c);
    return kUdpHeaderLen;
}

}  // namespace ustack::wire
