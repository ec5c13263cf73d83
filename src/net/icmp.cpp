// ICMPv4 (RFC 792, RFC 1122 3.2.2): echo, errors in and out, path MTU (RFC 1191).
#include <algorithm>

#include "net/ip_layer.hpp"
#include "wire/icmp.hpp"

namespace ustack::net {

namespace {

constexpr std::size_t kMaxIcmpErrorPacket = 576;  // RFC 1812 4.3.2.3: quote as much as fits

bool is_icmp_error_type(std::uint8_t type) {
    return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

// The addresses and protocol of a quoted (truncated) datagram; nullopt if it is not IPv4.
struct Quoted {
    wire::Ipv4Addr src, dst;
    std::uint8_t proto = 0;
    std::uint16_t frag = 0;  // flags+offset field
    std::size_t header_len = 0;
};

std::optional<Quoted> parse_quoted(ByteSpan q) {
    if (q.size() < wire::kIpv4MinHeaderLen) return std::nullopt;
    auto vihl = load_u8(q.data());
    std::size_t hl = std::size_t{vihl & 0x0fu} * 4;
    if ((vihl >> 4) != 4 || hl < wire::kIpv4MinHeaderLen || hl > q.size()) return std::nullopt;
    Quoted r;
    r.src = wire::Ipv4Addr{load_be32(q.data() + 12)};
    r.dst = wire::Ipv4Addr{load_be32(q.data() + 16)};
    r.proto = load_u8(q.data() + 9);
    r.frag = load_be16(q.data() + 6);
    r.header_len = hl;
    return r;
}

}  // namespace

void IpLayer::on_icmp(const IpRx& rx, ByteSpan data, Instant now) {
    auto& c = counters_.icmp;
    ++c.in_msgs;
    auto m = wire::parse_icmp(data, /*verify_checksum=*/true);
    if (!m) {
        ++c.in_errors;
        if (m.error() == wire::ParseError::kBadChecksum) ++c.in_csum_errors;
        return;
    }
    switch (static_cast<wire::IcmpType>(m->type)) {
        case wire::IcmpType::kEchoRequest: {
            ++c.in_echos;
            // Like Linux's icmp_echo_ignore_broadcasts = 1 (RFC 1122 3.2.2.6 allows it).
            if (!cfg_.icmp_echo_reply || rx.to_broadcast) return;
            // RFC 1122 3.2.2.6: the reply carries the request's identifier, sequence and data.
            auto buf = l4_buffer();
            std::size_t len = wire::write_icmp(
                buf, static_cast<std::uint8_t>(wire::IcmpType::kEchoReply), 0, m->rest, m->body);
            IpTx tx;
            tx.src = rx.dst;
            tx.dst = rx.src;
            tx.protocol = wire::kIpProtoIcmp;
            tx.tos = rx.tos;
            if (output(tx, len, now)) {
                ++c.out_msgs;
                ++c.out_echo_reps;
            }
            return;
        }
        case wire::IcmpType::kEchoReply:
            ++c.in_echo_reps;
            if (echo_handler_)
                echo_handler_->on_echo_reply(rx.src, rx.ttl, m->echo_id(), m->echo_seq(), m->body,
                                             now);
            return;
        case wire::IcmpType::kDestUnreachable:
            ++c.in_dest_unreachs;
            on_icmp_error(rx, m->type, m->code, m->rest, m->body, now);
            return;
        case wire::IcmpType::kTimeExceeded:
            ++c.in_time_excds;
            on_icmp_error(rx, m->type, m->code, m->rest, m->body, now);
            return;
        default:
            return;  // timestamps, redirects, source quench: ignored (RFC 6633 for quench)
    }
}

void IpLayer::on_icmp_error(const IpRx& rx, std::uint8_t type, std::uint8_t code,
                            std::uint32_t rest, ByteSpan quoted, Instant now) {
    auto q = parse_quoted(quoted);
    // RFC 1122 3.2.2: at least the IP header and 8 bytes of the original must be there, and the
    // original must have been ours.
    if (!q || quoted.size() < q->header_len + 8 || !is_local_address(q->src)) {
        ++counters_.icmp.in_errors;
        return;
    }
    IcmpErrorRx e;
    e.type = type;
    e.code = code;
    e.reporter = rx.src;
    e.orig_src = q->src;
    e.orig_dst = q->dst;
    e.orig_proto = q->proto;
    e.orig_l4 = quoted.subspan(q->header_len);
    if (type == 3 && code == wire::icmp_unreach::kFragNeeded) {
        // RFC 1191: lower the path MTU to the next-hop MTU; a router that sends 0 (pre-1191)
        // gets the next plateau below the datagram's size (RFC 1191 section 7), floored at 68.
        std::uint32_t mtu = rest & 0xffff;
        if (mtu == 0) {
            std::uint32_t orig_len = load_be16(quoted.data() + 2);
            static constexpr std::uint32_t kPlateaus[] = {32000, 17914, 8166, 4352, 2002,
                                                          1492,  1006,  508,  296,  68};
            mtu = 68;
            for (auto p : kPlateaus)
                if (p < orig_len) {
                    mtu = p;
                    break;
                }
        }
        mtu = std::max<std::uint32_t>(mtu, 68);
        e.next_hop_mtu = static_cast<std::uint16_t>(mtu);
        auto r = route(q->dst);
        if (r && mtu < r->mtu) pmtu_[q->dst.value] = PmtuEntry{mtu, now + cfg_.pmtu_expiry};
    }
    if (Transport* t = transports_[q->proto]) t->on_icmp_error(e, now);
}

bool IpLayer::icmp_rate_allows(Instant now) {
    const double interval = static_cast<double>(cfg_.icmp_error_interval.count());
    if (interval > 0) {
        double elapsed = static_cast<double>((now - icmp_last_).count());
        icmp_tokens_ = std::min<double>(cfg_.icmp_error_burst, icmp_tokens_ + elapsed / interval);
    } else {
        icmp_tokens_ = cfg_.icmp_error_burst;
    }
    icmp_last_ = now;
    if (icmp_tokens_ < 1.0) return false;
    icmp_tokens_ -= 1.0;
    return true;
}

void IpLayer::send_icmp_error(ByteSpan offending, std::uint8_t type, std::uint8_t code,
                              std::uint32_t rest, Instant now) {
    auto q = parse_quoted(offending);
    if (!q) return;
    // RFC 1122 3.2.2: never about an ICMP error, a broadcast or multicast, a fragment other than
    // the first, or a source that is not a single host.
    if (q->proto == wire::kIpProtoIcmp) {
        if (offending.size() <= q->header_len) return;
        if (is_icmp_error_type(load_u8(offending.data() + q->header_len))) return;
    }
    if (q->dst.is_multicast() || is_broadcast_address(q->dst)) return;
    if ((q->frag & 0x1fff) != 0) return;
    if (q->src.is_unspecified() || q->src.is_multicast() || is_broadcast_address(q->src) ||
        q->src.is_loopback())
        return;
    if (!icmp_rate_allows(now)) {
        ++counters_.icmp.out_rate_limited;
        return;
    }
    const std::size_t quote = std::min(
        offending.size(), kMaxIcmpErrorPacket - wire::kIpv4MinHeaderLen - wire::kIcmpHeaderLen);
    auto buf = l4_buffer();
    std::size_t len = wire::write_icmp(buf, type, code, rest, offending.first(quote));
    IpTx tx;
    tx.src = is_local_address(q->dst) ? q->dst : wire::Ipv4Addr{};
    tx.dst = q->src;
    tx.protocol = wire::kIpProtoIcmp;
    tx.tos = 0xc0;  // RFC 1812 4.3.2.5: internetwork control, as Linux sends errors
    if (output(tx, len, now)) {
        ++counters_.icmp.out_msgs;
        if (type == 3) ++counters_.icmp.out_dest_unreachs;
    }
}

Result<void, std::errc> IpLayer::send_echo_request(wire::Ipv4Addr dst, std::uint16_t id,
                                                   std::uint16_t seq, ByteSpan payload,
                                                   Instant now) {
    auto buf = l4_buffer();
    if (payload.size() + wire::kIcmpHeaderLen > buf.size())
        return unexpected(std::errc::message_size);
    std::size_t len = wire::write_icmp(buf, static_cast<std::uint8_t>(wire::IcmpType::kEchoRequest),
                                       0, wire::icmp_echo_rest(id, seq), payload);
    IpTx tx;
    tx.dst = dst;
    tx.protocol = wire::kIpProtoIcmp;
    auto r = output(tx, len, now);
    if (r) {
        ++counters_.icmp.out_msgs;
        ++counters_.icmp.out_echos;
    }
    return r;
}

}  // namespace ustack::net
