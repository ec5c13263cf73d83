// ICMPv4 against messages captured from the Linux kernel (see test_wire_vectors.hpp).
#include <gtest/gtest.h>

#include "test_wire_util.hpp"
#include "test_wire_vectors.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/udp.hpp"

using namespace ustack;
using namespace ustack::wire;
using namespace ustack::test;
namespace v = ustack::test::vectors;

namespace {

// The ICMP message inside a captured Ethernet frame (20-byte IP header unless told).
Bytes icmp_of(const char* frame_hex, std::size_t ip_header_len = 20) {
    Bytes f = from_hex(frame_hex);
    f.erase(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(kEthernetHeaderLen + ip_header_len));
    return f;
}

void expect_rebuilds_identically(const Bytes& msg) {
    auto m = parse_icmp(msg);
    ASSERT_TRUE(m);
    Bytes out(msg.size(), std::byte{0xaa});
    ASSERT_EQ(write_icmp(out, m->type, m->code, m->rest, m->body), msg.size());
    EXPECT_EQ(to_hex(out), to_hex(msg));
}

// ping's payload: a 16-byte timeval, then byte k of the data is k & 0xff.
void append_ping_pattern(Bytes& to, std::size_t from, std::size_t to_exclusive) {
    for (std::size_t k = from; k < to_exclusive; ++k)
        to.push_back(static_cast<std::byte>(k & 0xff));
}

}  // namespace

TEST(WireIcmp, ParsesLinuxEchoRequestAndReply) {
    Bytes req = icmp_of(v::kEchoRequest);
    auto m = parse_icmp(req);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->type, static_cast<std::uint8_t>(IcmpType::kEchoRequest));
    EXPECT_EQ(m->code, 0);
    EXPECT_EQ(m->checksum, 0xabf9);
    EXPECT_EQ(m->echo_id(), 0x1ad7);
    EXPECT_EQ(m->echo_seq(), 1);
    ASSERT_EQ(m->body.size(), 24u);  // ping -s 24
    EXPECT_EQ(m->body.data(), req.data() + 8);
    EXPECT_EQ(to_hex(m->body.subspan(16)), "1011121314151617");

    Bytes rep = icmp_of(v::kEchoReply);
    auto r = parse_icmp(rep);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->type, static_cast<std::uint8_t>(IcmpType::kEchoReply));
    EXPECT_EQ(r->rest, m->rest);
    EXPECT_EQ(to_hex(r->body), to_hex(m->body));
}

TEST(WireIcmp, WriteIsByteIdenticalToLinux) {
    expect_rebuilds_identically(icmp_of(v::kEchoRequest));
    expect_rebuilds_identically(icmp_of(v::kEchoReply));
    expect_rebuilds_identically(icmp_of(v::kEchoRecordRoute, 60));
    expect_rebuilds_identically(icmp_of(v::kTimeExceeded));
    expect_rebuilds_identically(icmp_of(v::kPortUnreachable));
}

TEST(WireIcmp, EchoReplyBuiltInPlaceOverTheRequest) {
    Bytes req = icmp_of(v::kEchoRequest);
    auto m = parse_icmp(req);
    ASSERT_TRUE(m);
    // The body already sits after the header: write_icmp must keep it and fix the checksum.
    write_icmp(req, static_cast<std::uint8_t>(IcmpType::kEchoReply), 0, m->rest, m->body);
    EXPECT_EQ(to_hex(req), to_hex(icmp_of(v::kEchoReply)));
}

TEST(WireIcmp, ReassembledFragmentedEchoVerifies) {
    // ping -s 2000 was sent as two fragments; put the 2008-byte message back together from the
    // captured header and the known pattern and check its checksum (which covers all of it).
    Bytes first = icmp_of(v::kFragFirst);  // 8-byte header + 16-byte timeval
    ASSERT_EQ(first.size(), 24u);
    Bytes msg = first;
    append_ping_pattern(msg, 16, 2000);
    ASSERT_EQ(msg.size(), 2008u);
    auto m = parse_icmp(msg);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->type, 8);
    EXPECT_EQ(m->echo_id(), 0x1ad9);
    EXPECT_EQ(m->echo_seq(), 1);
    EXPECT_EQ(m->body.size(), 2000u);
    expect_rebuilds_identically(msg);
}

TEST(WireIcmp, ParsesLinuxTimeExceeded) {
    Bytes msg = icmp_of(v::kTimeExceeded);
    auto m = parse_icmp(msg);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->type, static_cast<std::uint8_t>(IcmpType::kTimeExceeded));
    EXPECT_EQ(m->code, 0);  // TTL exceeded in transit
    EXPECT_EQ(m->rest, 0u);
    // The body quotes the whole offending datagram (Linux quotes up to 576 bytes in all).
    auto inner = parse_ipv4(m->body);
    ASSERT_TRUE(inner);
    EXPECT_EQ(inner->header.ttl, 1);
    EXPECT_EQ(inner->header.src, Ipv4Addr(10, 99, 1, 1));
    EXPECT_EQ(inner->header.dst, Ipv4Addr(10, 99, 2, 2));
    EXPECT_EQ(inner->header.protocol, kIpProtoIcmp);
    auto echo = parse_icmp(inner->payload);
    ASSERT_TRUE(echo);
    EXPECT_EQ(echo->type, 8);
    EXPECT_EQ(echo->echo_id(), 0x1ada);
}

TEST(WireIcmp, ParsesLinuxFragmentationNeeded) {
    // Captured header and quote head; the quoted UDP payload was 'x' repeated.
    Bytes msg = icmp_of(v::kFragNeeded);
    ASSERT_EQ(msg.size(), 36u);
    msg.resize(556, std::byte{'x'});
    auto m = parse_icmp(msg);
    ASSERT_TRUE(m);  // the checksum proves the regenerated quote is what was sent
    EXPECT_EQ(m->type, static_cast<std::uint8_t>(IcmpType::kDestUnreachable));
    EXPECT_EQ(m->code, icmp_unreach::kFragNeeded);
    EXPECT_EQ(m->next_hop_mtu(), 1280);  // RFC 1191: low 16 bits of the rest of the header
    EXPECT_EQ(m->rest, 0x00000500u);
    // The quoted header is the original 1400+28-byte datagram with DF; its payload is cut.
    auto inner = parse_ipv4(m->body, ChecksumCheck::kVerify);
    ASSERT_FALSE(inner);
    EXPECT_EQ(inner.error(), ParseError::kTruncated);
    ASSERT_GE(m->body.size(), 28u);
    EXPECT_EQ(load_be16(m->body.data() + 2), 1428);
    EXPECT_EQ(load_be16(m->body.data() + 6), 0x4000);  // DF
    EXPECT_EQ(load_be16(m->body.data() + 20), 40000);  // UDP source port
    EXPECT_EQ(load_be16(m->body.data() + 22), 7000);   // UDP destination port
    expect_rebuilds_identically(msg);
}

TEST(WireIcmp, ParsesLinuxPortUnreachable) {
    Bytes msg = icmp_of(v::kPortUnreachable);
    auto m = parse_icmp(msg);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->type, 3);
    EXPECT_EQ(m->code, icmp_unreach::kPort);
    EXPECT_EQ(m->rest, 0u);
    auto inner = parse_ipv4(m->body);
    ASSERT_TRUE(inner);
    EXPECT_EQ(inner->header.ttl, 63);  // the quote as B received it, after the router
    auto udp = parse_udp(inner->payload, inner->header.src, inner->header.dst);
    ASSERT_TRUE(udp);
    EXPECT_EQ(udp->header.dst_port, 9);
    EXPECT_EQ(to_hex(udp->payload), to_hex(bytes_of("hello ustack")));
}

TEST(WireIcmp, BuildsFragNeededFromFields) {
    Bytes quote = from_hex("450005940000400040111d910a6301010a6302029c401b580580bc23");
    Bytes out(kIcmpHeaderLen + quote.size());
    write_icmp(out, 3, icmp_unreach::kFragNeeded, 1280, quote);
    auto m = parse_icmp(out);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->next_hop_mtu(), 1280);
    EXPECT_EQ(to_hex(ByteSpan{out}.first(8)).substr(0, 4), "0304");
    EXPECT_EQ(to_hex(ByteSpan{out}.subspan(4, 4)), "00000500");
}

TEST(WireIcmp, RejectsBadChecksumUnlessAskedNotToCheck) {
    Bytes msg = icmp_of(v::kEchoRequest);
    msg.back() ^= std::byte{0x40};
    auto r = parse_icmp(msg);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), ParseError::kBadChecksum);
    EXPECT_TRUE(parse_icmp(msg, false));
}

TEST(WireIcmp, EveryPrefixFailsWithoutReadingPastIt) {
    Bytes msg = icmp_of(v::kTimeExceeded);
    for_each_prefix(msg, [](ByteSpan p) {
        // Shorter than 8 bytes: truncated. Longer: usually a checksum error, but a prefix that
        // ends right after the ICMP header or after the quoted IP header still verifies, since
        // what was cut off (a datagram with valid checksums) sums to zero on its own.
        auto r = parse_icmp(p);
        if (p.size() < 8) {
            ASSERT_FALSE(r);
            EXPECT_EQ(r.error(), ParseError::kTruncated);
        } else if (p.size() == 8 || p.size() == 28) {
            EXPECT_TRUE(r) << p.size();
        } else {
            ASSERT_FALSE(r) << p.size();
            EXPECT_EQ(r.error(), ParseError::kBadChecksum);
        }
        auto unchecked = parse_icmp(p, false);
        EXPECT_EQ(unchecked.has_value(), p.size() >= 8);
        if (unchecked) {
            EXPECT_EQ(unchecked->body.size(), p.size() - 8);
        }
    });
}

TEST(WireIcmp, RoundTripsOddLengthBodies) {
    for (std::size_t n = 0; n < 40; ++n) {
        Bytes body(n);
        for (std::size_t i = 0; i < n; ++i)
            body[i] = static_cast<std::byte>(0xf0 + i);
        Bytes out(kIcmpHeaderLen + n);
        write_icmp(out, 8, 0, icmp_echo_rest(0xfffe, static_cast<std::uint16_t>(n)), body);
        auto m = parse_icmp(out);
        ASSERT_TRUE(m) << n;
        EXPECT_EQ(m->echo_id(), 0xfffe);
        EXPECT_EQ(m->echo_seq(), n);
        EXPECT_EQ(to_hex(m->body), to_hex(body));
    }
}
