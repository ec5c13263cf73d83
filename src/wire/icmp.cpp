#include "wire/icmp.hpp"

#include <cstring>

#include "wire/checksum.hpp"

namespace ustack::wire {

ParseResult<IcmpMessage> parse_icmp(ByteSpan d, bool verify) {
    if (d.size() < kIcmpHeaderLen) return unexpected(ParseError::kTruncated);
    if (verify && internet_checksum(d) != 0) return unexpected(ParseError::kBadChecksum);
    IcmpMessage m;
    m.type = load_u8(d.data());
    m.code = load_u8(d.data() + 1);
    m.checksum = load_be16(d.data() + 2);
    m.rest = load_be32(d.data() + 4);
    m.body = d.subspan(kIcmpHeaderLen);
    return m;
}

std::size_t write_icmp(MutableByteSpan out, std::uint8_t type, std::uint8_t code,
                       std::uint32_t rest, ByteSpan body) {
    std::byte* p = out.data();
    store_u8(p, type);
    store_u8(p + 1, code);
    store_be16(p + 2, 0);
    store_be32(p + 4, rest);
    // The body may already be in place (echo reply built over the request): memmove is safe.
    if (!body.empty() && body.data() != p + kIcmpHeaderLen)
        std::memmove(p + kIcmpHeaderLen, body.data(), body.size());
    std::size_t len = kIcmpHeaderLen + body.size();
    store_be16(p + 2, internet_checksum(ByteSpan{p, len}));
    return len;
}

}  // namespace ustack::wire
