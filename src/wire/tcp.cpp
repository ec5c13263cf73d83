#include "wire/tcp.hpp"

#include <algorithm>

#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

namespace ustack::wire {

namespace {

// Parses an option list into o, which starts default-constructed; false when it is malformed.
bool parse_options_into(ByteSpan opts, TcpOptions& o) {
    std::size_t i = 0;
    const std::size_t n = opts.size();
    while (i < n) {
        std::uint8_t kind = load_u8(opts.data() + i);
        if (kind == tcp_opt::kEol) break;
        if (kind == tcp_opt::kNop) {
            ++i;
            continue;
        }
        if (i + 1 >= n) return false;
        std::uint8_t len = load_u8(opts.data() + i + 1);
        if (len < 2 || i + len > n) return false;
        const std::byte* v = opts.data() + i + 2;
        switch (kind) {
            case tcp_opt::kMss:
                if (len != 4) return false;
                o.mss = load_be16(v);
                break;
            case tcp_opt::kWindowScale:
                if (len != 3) return false;
                o.window_scale = load_u8(v);
                break;
            case tcp_opt::kSackPermitted:
                if (len != 2) return false;
                o.sack_permitted = true;
                break;
            case tcp_opt::kTimestamps:
                if (len != 10) return false;
                o.timestamps = TcpTimestamps{load_be32(v), load_be32(v + 4)};
                break;
            case tcp_opt::kSack: {
                if ((len - 2) % 8 != 0 || len == 2) return false;
                std::size_t blocks = (len - 2u) / 8u;
                // A later SACK option replaces an earlier one entirely, unused slots included,
                // so that equal option lists compare equal.
                o.sack_blocks = {};
                o.sack_count = 0;
                for (std::size_t b = 0; b < blocks && b < kTcpMaxSackBlocks; ++b) {
                    o.sack_blocks[b] = SackBlock{load_be32(v + b * 8), load_be32(v + b * 8 + 4)};
                    ++o.sack_count;
                }
                break;
            }
            case tcp_opt::kFastOpen: {
                const std::size_t n = len - 2u;
                if (n == 0 ||
                    (n >= kTcpFastOpenCookieMin && n <= kTcpFastOpenCookieMax && n % 2 == 0)) {
                    FastOpenCookie c;
                    c.len = static_cast<std::uint8_t>(n);
                    std::copy_n(v, n, c.bytes.begin());
                    o.fastopen = c;
                } else if (o.unknown_count < 255) {
                    ++o.unknown_count;
                }
                break;
            }
            default:
                if (o.unknown_count < 255) ++o.unknown_count;
                break;
        }
        i += len;
    }
    return true;
}

}  // namespace

ParseResult<TcpOptions> parse_tcp_options(ByteSpan opts) {
    TcpOptions o;
    if (!parse_options_into(opts, o)) return unexpected(ParseError::kBadOption);
    return o;
}

// The segment is built in the result itself, which every path returns (one object, no copy
// of the segment on the way out).
ParseResult<TcpSegment> parse_tcp(ByteSpan d, Ipv4Addr src, Ipv4Addr dst, bool verify) {
    ParseResult<TcpSegment> r{TcpSegment{}};
    if (d.size() < kTcpMinHeaderLen) {
        r = unexpected(ParseError::kTruncated);
        return r;
    }
    const std::byte* p = d.data();
    TcpSegment& s = *r;
    TcpHeader& h = s.header;
    h.src_port = load_be16(p);
    h.dst_port = load_be16(p + 2);
    h.seq = load_be32(p + 4);
    h.ack = load_be32(p + 8);
    std::uint8_t off = load_u8(p + 12);
    std::size_t hlen = static_cast<std::size_t>(off >> 4) * 4;
    h.reserved = off & 0x0f;
    h.flags = load_u8(p + 13);
    h.window = load_be16(p + 14);
    h.checksum = load_be16(p + 16);
    h.urgent = load_be16(p + 18);
    ParseError error{};
    if (hlen < kTcpMinHeaderLen) {
        error = ParseError::kBadHeaderLength;
    } else if (hlen > d.size()) {
        error = ParseError::kTruncated;
    } else if (verify &&
               checksum_fold(checksum_accumulate(
                   d, pseudo_header_sum(src, dst, kIpProtoTcp,
                                        static_cast<std::uint32_t>(d.size())))) != 0xffff) {
        error = ParseError::kBadChecksum;
    } else {
        h.header_len = static_cast<std::uint8_t>(hlen);
        h.raw_options = d.subspan(kTcpMinHeaderLen, hlen - kTcpMinHeaderLen);
        s.payload = d.subspan(hlen);
        if (parse_options_into(h.raw_options, s.options)) return r;
        error = ParseError::kBadOption;
    }
    r = unexpected(error);
    return r;
}

namespace {

bool is_syn_options(const TcpOptions& o) {
    return o.mss.has_value() || o.window_scale.has_value() || o.sack_permitted ||
           o.fastopen.has_value();
}

// The Fast Open option with its padding to a 4-byte boundary (Linux: kind, length, cookie,
// then NOP NOP when the length leaves two bytes over).
std::size_t fastopen_size(const TcpOptions& o) {
    return o.fastopen ? (2u + o.fastopen->len + 3u) & ~std::size_t{3} : 0u;
}

std::size_t sack_room(const TcpOptions& o, std::size_t used) {
    if (o.sack_count == 0) return 0;
    std::size_t avail = 40 - used;
    if (avail < 2 + 2 + 8) return 0;
    return std::min<std::size_t>(o.sack_count, (avail - 4) / 8);
}

}  // namespace

std::size_t tcp_options_size(const TcpOptions& o, TcpOptionLayout) {
    std::size_t n = 0;
    if (is_syn_options(o)) {
        if (o.mss) n += 4;
        if (o.timestamps) {
            n += 2 + 10;  // sackOK (or NOP NOP) + TS
        } else if (o.sack_permitted) {
            n += 4;  // NOP NOP sackOK
        }
        if (o.window_scale) n += 4;  // NOP WS
        n += fastopen_size(o);
    } else if (o.timestamps) {
        n += 12;
    }
    std::size_t blocks = sack_room(o, n);
    if (blocks) n += 4 + blocks * 8;
    return n;
}

std::size_t write_tcp_options(MutableByteSpan out, const TcpOptions& o, TcpOptionLayout) {
    std::byte* p = out.data();
    std::size_t i = 0;
    auto put8 = [&](std::uint8_t v) { store_u8(p + i++, v); };
    auto put16 = [&](std::uint16_t v) {
        store_be16(p + i, v);
        i += 2;
    };
    auto put32 = [&](std::uint32_t v) {
        store_be32(p + i, v);
        i += 4;
    };
    if (is_syn_options(o)) {
        if (o.mss) {
            put8(tcp_opt::kMss);
            put8(4);
            put16(*o.mss);
        }
        if (o.timestamps) {
            if (o.sack_permitted) {
                put8(tcp_opt::kSackPermitted);
                put8(2);
            } else {
                put8(tcp_opt::kNop);
                put8(tcp_opt::kNop);
            }
            put8(tcp_opt::kTimestamps);
            put8(10);
            put32(o.timestamps->value);
            put32(o.timestamps->echo);
        } else if (o.sack_permitted) {
            put8(tcp_opt::kNop);
            put8(tcp_opt::kNop);
            put8(tcp_opt::kSackPermitted);
            put8(2);
        }
        if (o.window_scale) {
            put8(tcp_opt::kNop);
            put8(tcp_opt::kWindowScale);
            put8(3);
            put8(*o.window_scale);
        }
        if (o.fastopen) {
            const std::size_t end = i + fastopen_size(o);
            put8(tcp_opt::kFastOpen);
            put8(static_cast<std::uint8_t>(2 + o.fastopen->len));
            std::copy_n(o.fastopen->bytes.begin(), o.fastopen->len, p + i);
            i += o.fastopen->len;
            while (i < end)
                put8(tcp_opt::kNop);
        }
    } else if (o.timestamps) {
        put8(tcp_opt::kNop);
        put8(tcp_opt::kNop);
        put8(tcp_opt::kTimestamps);
        put8(10);
        put32(o.timestamps->value);
        put32(o.timestamps->echo);
    }
    std::size_t blocks = sack_room(o, i);
    if (blocks) {
        put8(tcp_opt::kNop);
        put8(tcp_opt::kNop);
        put8(tcp_opt::kSack);
        put8(static_cast<std::uint8_t>(2 + blocks * 8));
        for (std::size_t b = 0; b < blocks; ++b) {
            put32(o.sack_blocks[b].left);
            put32(o.sack_blocks[b].right);
        }
    }
    return i;
}

std::size_t write_tcp(MutableByteSpan out, TcpHeader h, const TcpOptions& options,
                      std::size_t payload_len, Ipv4Addr src, Ipv4Addr dst, TcpChecksum checksum) {
    std::byte* p = out.data();
    std::size_t olen = write_tcp_options(out.subspan(kTcpMinHeaderLen), options);
    std::size_t hlen = kTcpMinHeaderLen + olen;
    store_be16(p, h.src_port);
    store_be16(p + 2, h.dst_port);
    store_be32(p + 4, h.seq);
    store_be32(p + 8, h.ack);
    store_u8(p + 12, static_cast<std::uint8_t>(((hlen / 4) << 4) | (h.reserved & 0x0f)));
    store_u8(p + 13, h.flags);
    store_be16(p + 14, h.window);
    store_be16(p + 16, 0);
    store_be16(p + 18, h.urgent);
    auto total = static_cast<std::uint32_t>(hlen + payload_len);
    const auto pseudo = pseudo_header_sum(src, dst, kIpProtoTcp, total);
    if (checksum == TcpChecksum::kPseudoHeaderOnly)
        store_be16(p + 16, checksum_fold(pseudo));
    else
        store_be16(p + 16, internet_checksum(ByteSpan{p, total}, pseudo));
    return hlen;
}

}  // namespace ustack::wire
