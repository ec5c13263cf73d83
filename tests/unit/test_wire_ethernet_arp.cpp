// Ethernet II and ARP against frames captured from the Linux kernel (see test_wire_vectors.hpp).
#include <gtest/gtest.h>

#include "test_wire_util.hpp"
#include "test_wire_vectors.hpp"
#include "wire/arp.hpp"
#include "wire/ethernet.hpp"

using namespace ustack;
using namespace ustack::wire;
using namespace ustack::test;
namespace v = ustack::test::vectors;

namespace {
constexpr MacAddr kMacA{{0x02, 0x00, 0x00, 0x00, 0x01, 0x01}};
constexpr MacAddr kMacR{{0x02, 0x00, 0x00, 0x00, 0x01, 0x02}};
}  // namespace

TEST(WireEthernet, ParsesLinuxArpRequestFrame) {
    Bytes f = from_hex(v::kArpRequest);
    auto eth = parse_ethernet(f);
    ASSERT_TRUE(eth);
    EXPECT_TRUE(eth->header.dst.is_broadcast());
    EXPECT_EQ(eth->header.src, kMacA);
    EXPECT_EQ(eth->header.ethertype, kEtherTypeArp);
    EXPECT_EQ(eth->payload.size(), 28u);
    EXPECT_EQ(eth->payload.data(), f.data() + 14);
}

TEST(WireEthernet, ParsesLinuxIpv4Frame) {
    Bytes f = from_hex(v::kEchoRequest);
    auto eth = parse_ethernet(f);
    ASSERT_TRUE(eth);
    EXPECT_EQ(eth->header.dst, kMacR);
    EXPECT_EQ(eth->header.src, kMacA);
    EXPECT_EQ(eth->header.ethertype, kEtherTypeIpv4);
    EXPECT_EQ(eth->payload.size(), f.size() - 14);
}

TEST(WireEthernet, WriteIsByteIdentical) {
    for (const char* hex : {v::kArpRequest, v::kArpReply, v::kEchoReply, v::kTcpSyn}) {
        Bytes f = from_hex(hex);
        auto eth = parse_ethernet(f);
        ASSERT_TRUE(eth);
        Bytes out(kEthernetHeaderLen, std::byte{0xaa});
        write_ethernet(out, eth->header);
        EXPECT_EQ(to_hex(out), to_hex(ByteSpan{f}.first(14)));
    }
}

TEST(WireEthernet, KeepsTrailingPaddingAndVlanEthertype) {
    // A 60-byte minimum frame: ARP payload plus 18 bytes of padding stays in the payload.
    Bytes f = from_hex(v::kArpReply);
    f.resize(60);
    auto eth = parse_ethernet(f);
    ASSERT_TRUE(eth);
    EXPECT_EQ(eth->payload.size(), 46u);
    EXPECT_TRUE(parse_arp(eth->payload));
    // An 802.1Q tag is not interpreted: the frame parses with ethertype 0x8100.
    Bytes tagged = from_hex("ffffffffffff0200000001018100000a0806");
    auto t = parse_ethernet(tagged);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->header.ethertype, 0x8100);
}

TEST(WireEthernet, RejectsShortFrames) {
    Bytes f = from_hex(v::kArpRequest);
    for_each_prefix(ByteSpan{f}.first(14), [](ByteSpan p) {
        auto r = parse_ethernet(p);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), ParseError::kTruncated);
    });
    EXPECT_TRUE(parse_ethernet(ByteSpan{f}.first(14)));
}

TEST(WireArp, ParsesLinuxRequest) {
    Bytes f = from_hex(v::kArpRequest);
    auto a = parse_arp(ByteSpan{f}.subspan(14));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->op, ArpOp::kRequest);
    EXPECT_EQ(a->sender_mac, kMacA);
    EXPECT_EQ(a->sender_ip, Ipv4Addr(10, 99, 1, 1));
    EXPECT_TRUE(a->target_mac.is_zero());
    EXPECT_EQ(a->target_ip, Ipv4Addr(10, 99, 1, 2));
}

TEST(WireArp, ParsesLinuxReply) {
    Bytes f = from_hex(v::kArpReply);
    auto a = parse_arp(ByteSpan{f}.subspan(14));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->op, ArpOp::kReply);
    EXPECT_EQ(a->sender_mac, kMacR);
    EXPECT_EQ(a->sender_ip, Ipv4Addr(10, 99, 1, 2));
    EXPECT_EQ(a->target_mac, kMacA);
    EXPECT_EQ(a->target_ip, Ipv4Addr(10, 99, 1, 1));
}

TEST(WireArp, WriteIsByteIdentical) {
    for (const char* hex : {v::kArpRequest, v::kArpReply}) {
        Bytes f = from_hex(hex);
        ByteSpan payload = ByteSpan{f}.subspan(14);
        auto a = parse_arp(payload);
        ASSERT_TRUE(a);
        Bytes out(kArpPacketLen, std::byte{0xaa});
        write_arp(out, *a);
        EXPECT_EQ(to_hex(out), to_hex(payload));
    }
}

TEST(WireArp, BuildsTheWholeLinuxRequestFrame) {
    Bytes out(kEthernetHeaderLen + kArpPacketLen);
    write_ethernet(out, EthernetHeader{MacAddr::broadcast(), kMacA, kEtherTypeArp});
    ArpPacket a;
    a.op = ArpOp::kRequest;
    a.sender_mac = kMacA;
    a.sender_ip = Ipv4Addr(10, 99, 1, 1);
    a.target_ip = Ipv4Addr(10, 99, 1, 2);
    write_arp(MutableByteSpan{out}.subspan(kEthernetHeaderLen), a);
    EXPECT_EQ(to_hex(out), v::kArpRequest);
}

TEST(WireArp, RejectsOtherHardwareProtocolsAndOps) {
    Bytes good = from_hex(v::kArpReply);
    good.erase(good.begin(), good.begin() + 14);
    struct Case {
        std::size_t offset;
        std::uint8_t value;
    };
    // htype 6 (IEEE 802), ptype IPv6, hlen 8, plen 16, op 3 (RARP request), op 0.
    for (Case c : {Case{1, 6}, Case{2, 0x86}, Case{4, 8}, Case{5, 16}, Case{7, 3}, Case{7, 0}}) {
        Bytes bad = good;
        bad[c.offset] = static_cast<std::byte>(c.value);
        auto r = parse_arp(bad);
        ASSERT_FALSE(r) << c.offset;
        EXPECT_EQ(r.error(), ParseError::kUnsupported);
    }
}

TEST(WireArp, EveryPrefixIsTruncated) {
    Bytes f = from_hex(v::kArpRequest);
    ByteSpan arp = ByteSpan{f}.subspan(14);
    for_each_prefix(arp, [](ByteSpan p) {
        auto r = parse_arp(p);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), ParseError::kTruncated);
    });
}

TEST(WireArp, RoundTripsRandomFields) {
    std::uint32_t x = 12345;
    auto next = [&x] { return x = x * 1103515245u + 12345u; };
    for (int i = 0; i < 200; ++i) {
        ArpPacket a;
        a.op = (i & 1) ? ArpOp::kReply : ArpOp::kRequest;
        for (auto& b : a.sender_mac.bytes)
            b = static_cast<std::uint8_t>(next() >> 16);
        for (auto& b : a.target_mac.bytes)
            b = static_cast<std::uint8_t>(next() >> 16);
        a.sender_ip = Ipv4Addr{next()};
        a.target_ip = Ipv4Addr{next()};
        Bytes out(kArpPacketLen);
        write_arp(out, a);
        auto back = parse_arp(out);
        ASSERT_TRUE(back);
        EXPECT_EQ(back->op, a.op);
        EXPECT_EQ(back->sender_mac, a.sender_mac);
        EXPECT_EQ(back->target_mac, a.target_mac);
        EXPECT_EQ(back->sender_ip, a.sender_ip);
        EXPECT_EQ(back->target_ip, a.target_ip);
    }
}
