// IPv4 headers against packets captured from the Linux kernel (see test_wire_vectors.hpp).
#include <gtest/gtest.h>

#include "test_wire_util.hpp"
#include "test_wire_vectors.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"

using namespace ustack;
using namespace ustack::wire;
using namespace ustack::test;
namespace v = ustack::test::vectors;

namespace {

// The IP packet inside a captured Ethernet frame.
Bytes ip_of(const char* frame_hex) {
    Bytes f = from_hex(frame_hex);
    f.erase(f.begin(), f.begin() + kEthernetHeaderLen);
    return f;
}

// Builds the header again from the parsed fields and compares it byte for byte.
void expect_rebuilds_identically(const Bytes& ip) {
    auto pkt = parse_ipv4(ip);
    ASSERT_TRUE(pkt);
    Bytes out(kIpv4MaxHeaderLen, std::byte{0xaa});
    std::size_t n = write_ipv4(out, pkt->header);
    ASSERT_EQ(n, pkt->header.header_len);
    out.resize(n);
    EXPECT_EQ(to_hex(out), to_hex(ByteSpan{ip}.first(n)));
}

}  // namespace

TEST(WireIpv4, ParsesLinuxEchoRequest) {
    Bytes ip = ip_of(v::kEchoRequest);
    auto pkt = parse_ipv4(ip);
    ASSERT_TRUE(pkt);
    const Ipv4Header& h = pkt->header;
    EXPECT_EQ(h.header_len, 20);
    EXPECT_EQ(h.dscp_ecn, 0);
    EXPECT_EQ(h.total_len, 52);
    EXPECT_EQ(h.id, 0x24b3);
    EXPECT_TRUE(h.dont_fragment);
    EXPECT_FALSE(h.more_fragments);
    EXPECT_FALSE(h.reserved_flag);
    EXPECT_EQ(h.frag_offset, 0);
    EXPECT_FALSE(h.is_fragment());
    EXPECT_EQ(h.ttl, 64);
    EXPECT_EQ(h.protocol, kIpProtoIcmp);
    EXPECT_EQ(h.checksum, 0xfe4d);
    EXPECT_EQ(h.src, Ipv4Addr(10, 99, 1, 1));
    EXPECT_EQ(h.dst, Ipv4Addr(10, 99, 2, 2));
    EXPECT_TRUE(h.options.empty());
    EXPECT_EQ(pkt->payload.size(), 32u);
    EXPECT_EQ(pkt->payload.data(), ip.data() + 20);
}

TEST(WireIpv4, ParsesForwardedReplyAndIcmpErrorTos) {
    auto reply = parse_ipv4(ip_of(v::kEchoReply));
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->header.ttl, 63);  // decremented by the router
    EXPECT_FALSE(reply->header.dont_fragment);
    EXPECT_EQ(reply->header.id, 0x9496);
    // Linux sends ICMP errors with TOS 0xc0 (precedence "internetwork control").
    auto err = parse_ipv4(ip_of(v::kTimeExceeded));
    ASSERT_TRUE(err);
    EXPECT_EQ(err->header.dscp_ecn, 0xc0);
    EXPECT_EQ(err->header.src, Ipv4Addr(10, 99, 1, 2));
}

// ping -R: a NOP then a Record Route option (type 7, length 39, pointer 8) holding the
// sender's own address in the first of nine slots.
TEST(WireIpv4, ParsesRecordRouteOptions) {
    Bytes ip = ip_of(v::kEchoRecordRoute);
    auto pkt = parse_ipv4(ip);
    ASSERT_TRUE(pkt);
    const Ipv4Header& h = pkt->header;
    EXPECT_EQ(h.header_len, 60);
    EXPECT_EQ(h.total_len, 124);
    ASSERT_EQ(h.options.size(), 40u);
    EXPECT_EQ(h.options.data(), ip.data() + 20);
    EXPECT_EQ(load_u8(&h.options[0]), 1);   // NOP
    EXPECT_EQ(load_u8(&h.options[1]), 7);   // RR
    EXPECT_EQ(load_u8(&h.options[2]), 39);  // length
    EXPECT_EQ(load_u8(&h.options[3]), 8);   // pointer: next free slot
    EXPECT_EQ(load_be32(&h.options[4]), 0x0a630101u);
    EXPECT_EQ(pkt->payload.size(), 64u);
    EXPECT_EQ(load_u8(pkt->payload.data()), 8);  // ICMP echo request follows
}

TEST(WireIpv4, ParsesFragmentFields) {
    // First fragment: MF set, offset 0, 1480 bytes of payload.
    Bytes first = ip_of(v::kFragFirst);
    first.resize(1500);
    auto a = parse_ipv4(first);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->header.id, 0xf75c);
    EXPECT_EQ(a->header.total_len, 1500);
    EXPECT_TRUE(a->header.more_fragments);
    EXPECT_FALSE(a->header.dont_fragment);  // ping leaves DF off for datagrams over the MTU
    EXPECT_EQ(a->header.frag_offset, 0);
    EXPECT_EQ(a->header.frag_offset_bytes(), 0u);
    EXPECT_TRUE(a->header.is_fragment());
    EXPECT_EQ(a->payload.size(), 1480u);

    // Last fragment: same id, MF clear, offset 185 units (1480 bytes), 528 bytes.
    Bytes last = ip_of(v::kFragLast);
    last.resize(548);
    auto b = parse_ipv4(last);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->header.id, 0xf75c);
    EXPECT_EQ(b->header.total_len, 548);
    EXPECT_FALSE(b->header.more_fragments);
    EXPECT_EQ(b->header.frag_offset, 185);
    EXPECT_EQ(b->header.frag_offset_bytes(), 1480u);
    EXPECT_TRUE(b->header.is_fragment());
    EXPECT_EQ(b->payload.size(), 528u);
}

TEST(WireIpv4, FlagBitsAreIndependent) {
    Bytes ip = ip_of(v::kEchoRequest);
    struct Case {
        std::uint16_t ff;
        bool rf, df, mf;
        std::uint16_t off;
    };
    for (Case c : {Case{0x8000, true, false, false, 0}, Case{0x4000, false, true, false, 0},
                   Case{0x2000, false, false, true, 0}, Case{0x1fff, false, false, false, 0x1fff},
                   Case{0xffff, true, true, true, 0x1fff}, Case{0x0001, false, false, false, 1}}) {
        store_be16(ip.data() + 6, c.ff);
        store_be16(ip.data() + 10, 0);
        store_be16(ip.data() + 10, internet_checksum(ByteSpan{ip}.first(20)));
        auto pkt = parse_ipv4(ip);
        ASSERT_TRUE(pkt);
        EXPECT_EQ(pkt->header.reserved_flag, c.rf);
        EXPECT_EQ(pkt->header.dont_fragment, c.df);
        EXPECT_EQ(pkt->header.more_fragments, c.mf);
        EXPECT_EQ(pkt->header.frag_offset, c.off);
        EXPECT_EQ(pkt->header.frag_offset_bytes(), std::uint32_t{c.off} * 8);
        expect_rebuilds_identically(ip);
    }
}

TEST(WireIpv4, WriteIsByteIdenticalToLinux) {
    for (const char* hex :
         {v::kEchoRequest, v::kEchoReply, v::kEchoRecordRoute, v::kTimeExceeded,
          v::kPortUnreachable, v::kUdpHello, v::kTcpSyn, v::kTcpSack2, v::kTcpSynAckNoTs}) {
        SCOPED_TRACE(hex);
        expect_rebuilds_identically(ip_of(hex));
    }
    Bytes first = ip_of(v::kFragFirst);
    first.resize(1500);
    expect_rebuilds_identically(first);
    Bytes last = ip_of(v::kFragLast);
    last.resize(548);
    expect_rebuilds_identically(last);
}

TEST(WireIpv4, WriteFromFieldsMatchesLinuxSyn) {
    Ipv4Header h;
    h.total_len = 60;
    h.id = 0x513e;
    h.dont_fragment = true;
    h.ttl = 64;
    h.protocol = kIpProtoTcp;
    h.src = Ipv4Addr(10, 99, 1, 1);
    h.dst = Ipv4Addr(10, 99, 2, 2);
    Bytes out(20);
    EXPECT_EQ(write_ipv4(out, h), 20u);
    EXPECT_EQ(to_hex(out), to_hex(ByteSpan{ip_of(v::kTcpSyn)}.first(20)));
}

TEST(WireIpv4, WritePadsShortOptionsWithZeros) {
    Ipv4Header h;
    h.header_len = 24;
    h.total_len = 24;
    Bytes opt = from_hex("9404");  // Router Alert, 2 of its 4 bytes given
    h.options = opt;
    Bytes out(24, std::byte{0xaa});
    EXPECT_EQ(write_ipv4(out, h), 24u);
    EXPECT_EQ(to_hex(ByteSpan{out}.subspan(20)), "94040000");
    auto back = parse_ipv4(out);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->header.header_len, 24);
    EXPECT_EQ(to_hex(back->header.options), "94040000");
}

TEST(WireIpv4, RoundTripsEveryHeaderLength) {
    for (std::uint8_t hlen = 20; hlen <= 60; hlen += 4) {
        Ipv4Header h;
        h.header_len = hlen;
        h.dscp_ecn = 0xb8;
        h.total_len = static_cast<std::uint16_t>(hlen + 3);
        h.id = 0xbeef;
        h.more_fragments = true;
        h.frag_offset = 0x1234;
        h.ttl = 7;
        h.protocol = kIpProtoUdp;
        h.src = Ipv4Addr(192, 0, 2, 1);
        h.dst = Ipv4Addr(198, 51, 100, 7);
        Bytes opts(hlen - 20);
        for (std::size_t i = 0; i < opts.size(); ++i)
            opts[i] = static_cast<std::byte>(1);  // NOPs
        h.options = opts;
        Bytes out(h.total_len);
        ASSERT_EQ(write_ipv4(out, h), hlen);
        auto back = parse_ipv4(out);
        ASSERT_TRUE(back) << int{hlen};
        const Ipv4Header& b = back->header;
        EXPECT_EQ(b.header_len, hlen);
        EXPECT_EQ(b.dscp_ecn, h.dscp_ecn);
        EXPECT_EQ(b.total_len, h.total_len);
        EXPECT_EQ(b.id, h.id);
        EXPECT_EQ(b.more_fragments, true);
        EXPECT_EQ(b.dont_fragment, false);
        EXPECT_EQ(b.frag_offset, h.frag_offset);
        EXPECT_EQ(b.ttl, h.ttl);
        EXPECT_EQ(b.protocol, h.protocol);
        EXPECT_EQ(b.src, h.src);
        EXPECT_EQ(b.dst, h.dst);
        EXPECT_EQ(to_hex(b.options), to_hex(opts));
        EXPECT_EQ(back->payload.size(), 3u);
        EXPECT_EQ(internet_checksum(ByteSpan{out}.first(hlen)), 0);
    }
}

TEST(WireIpv4, TrimsLinkLayerPadding) {
    // Bytes after total_len (Ethernet padding, trailers) are not part of the payload.
    Bytes ip = ip_of(v::kTcpDataNoTs);
    ip.resize(ip.size() + 6);
    auto pkt = parse_ipv4(ip);
    ASSERT_TRUE(pkt);
    EXPECT_EQ(pkt->header.total_len, 53);
    EXPECT_EQ(pkt->payload.size(), 33u);
}

TEST(WireIpv4, RejectsMalformedHeaders) {
    Bytes good = ip_of(v::kEchoRequest);
    auto fix_checksum = [](Bytes& ip) {
        std::size_t hlen = std::min<std::size_t>(std::size_t{load_u8(ip.data()) & 0xfu} * 4, 60);
        store_be16(ip.data() + 10, 0);
        if (hlen <= ip.size())
            store_be16(ip.data() + 10, internet_checksum(ByteSpan{ip}.first(hlen)));
    };
    {
        Bytes b = good;
        b[0] = std::byte{0x65};
        fix_checksum(b);
        EXPECT_EQ(parse_ipv4(b).error(), ParseError::kBadVersion);
    }
    for (std::uint8_t ihl = 0; ihl < 5; ++ihl) {
        Bytes b = good;
        b[0] = static_cast<std::byte>(0x40 | ihl);
        EXPECT_EQ(parse_ipv4(b).error(), ParseError::kBadHeaderLength) << int{ihl};
    }
    {
        Bytes b = good;  // IHL 15 but only 52 bytes: the header runs past the span
        b[0] = std::byte{0x4f};
        EXPECT_EQ(parse_ipv4(ByteSpan{b}.first(52)).error(), ParseError::kTruncated);
    }
    {
        Bytes b = good;  // total length shorter than the header
        store_be16(b.data() + 2, 19);
        fix_checksum(b);
        EXPECT_EQ(parse_ipv4(b).error(), ParseError::kBadTotalLength);
    }
    {
        Bytes b = good;  // total length longer than what arrived
        store_be16(b.data() + 2, 53);
        fix_checksum(b);
        EXPECT_EQ(parse_ipv4(b).error(), ParseError::kTruncated);
    }
    {
        Bytes b = good;  // one bit flipped in the source address
        b[15] ^= std::byte{0x01};
        EXPECT_EQ(parse_ipv4(b).error(), ParseError::kBadChecksum);
        EXPECT_TRUE(parse_ipv4(b, ChecksumCheck::kSkip));
    }
}

TEST(WireIpv4, EveryPrefixFailsWithoutReadingPastIt) {
    for (const char* hex : {v::kEchoRequest, v::kEchoRecordRoute, v::kTcpSyn}) {
        Bytes ip = ip_of(hex);
        for_each_prefix(ip, [](ByteSpan p) {
            auto r = parse_ipv4(p);
            ASSERT_FALSE(r) << p.size();
            EXPECT_EQ(r.error(), ParseError::kTruncated) << p.size();
            EXPECT_FALSE(parse_ipv4(p, ChecksumCheck::kSkip));
        });
    }
}
