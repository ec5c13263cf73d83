// IPv4 layer driven with exact frames on a fake device, in virtual time.
#include <gtest/gtest.h>

#include "stack/stack.hpp"
#include "support/fake_device.hpp"
#include "support/packets.hpp"
#include "wire/checksum.hpp"

using namespace ustack;
using namespace ustack::testing;
using wire::Ipv4Addr;

namespace {

const Ipv4Addr kUs{10, 0, 0, 2};
const Ipv4Addr kPeer{10, 0, 0, 1};
constexpr Instant kT0 = std::chrono::seconds(100);

struct L3Fixture : ::testing::Test {
    FakeDevice dev{phy::LinkType::kIp, 1500};
    Stack stack;
    L3Fixture() { stack.add_interface(dev, InterfaceConfig{{kUs, 24}, {}, {}}); }
    void deliver(const std::vector<std::byte>& f, Instant t = kT0) {
        stack.on_frame(0, f, phy::FrameMeta{}, t);
    }
};

}  // namespace

TEST_F(L3Fixture, EchoRequestGetsExactReply) {
    auto data = pattern(56);
    deliver(icmp_echo(kPeer, kUs, 0x4242, 7, data));
    auto sent = dev.take_sent();
    ASSERT_EQ(sent.size(), 1u);
    auto ip = wire::parse_ipv4(sent[0]);
    ASSERT_TRUE(ip);
    EXPECT_EQ(ip->header.src, kUs);
    EXPECT_EQ(ip->header.dst, kPeer);
    EXPECT_EQ(ip->header.protocol, wire::kIpProtoIcmp);
    EXPECT_EQ(ip->header.ttl, 64);
    auto icmp = wire::parse_icmp(ip->payload);
    ASSERT_TRUE(icmp);
    EXPECT_EQ(icmp->type, 0);
    EXPECT_EQ(icmp->code, 0);
    EXPECT_EQ(icmp->echo_id(), 0x4242);
    EXPECT_EQ(icmp->echo_seq(), 7);
    ASSERT_EQ(icmp->body.size(), data.size());
    EXPECT_TRUE(std::equal(data.begin(), data.end(), icmp->body.begin()));
    EXPECT_EQ(stack.counters().icmp.in_echos, 1u);
    EXPECT_EQ(stack.counters().icmp.out_echo_reps, 1u);
}

TEST_F(L3Fixture, EchoToBroadcastIsIgnored) {
    deliver(icmp_echo(kPeer, Ipv4Addr{10, 0, 0, 255}, 1, 1, pattern(8)));
    EXPECT_TRUE(dev.take_sent().empty());
    EXPECT_EQ(stack.counters().icmp.in_echos, 1u);
}

TEST_F(L3Fixture, InvalidHeadersAreCountedDrops) {
    auto good = icmp_echo(kPeer, kUs, 1, 1, pattern(8));
    auto bad_version = good;
    bad_version[0] = std::byte{0x65};
    deliver(bad_version);
    auto bad_ihl = good;
    bad_ihl[0] = std::byte{0x44};
    deliver(bad_ihl);
    auto bad_csum = good;
    bad_csum[10] ^= std::byte{1};
    deliver(bad_csum);
    auto truncated = good;
    truncated.resize(30);
    deliver(truncated);
    auto short_total = good;
    store_be16(short_total.data() + 2, 10);
    store_be16(short_total.data() + 10, 0);
    store_be16(short_total.data() + 10, wire::internet_checksum({short_total.data(), 20}));
    deliver(short_total);
    deliver(icmp_echo(kPeer, Ipv4Addr{10, 0, 0, 9}, 1, 1, pattern(8)));  // not ours
    EXPECT_TRUE(dev.take_sent().empty());
    const auto& c = stack.counters().ip;
    // An IPv6 packet on an IP link (the kernel sends router solicitations into a TUN) is not
    // IPv4 at all: a link-level drop, not a broken IPv4 header.
    EXPECT_EQ(stack.counters().link.rx_unknown_ethertype, 1u);
    EXPECT_EQ(c.in_receives, 5u);
    EXPECT_EQ(c.in_hdr_errors, 3u);  // ihl, checksum, total length
    EXPECT_EQ(c.in_csum_errors, 1u);
    EXPECT_EQ(c.in_truncated_pkts, 1u);
    EXPECT_EQ(c.in_addr_errors, 1u);
    EXPECT_EQ(c.in_delivers, 0u);
}

TEST_F(L3Fixture, LinkPaddingAfterTotalLengthIsIgnored) {
    auto f = icmp_echo(kPeer, kUs, 9, 9, pattern(4));
    f.resize(f.size() + 10);  // trailing bytes beyond IP total length
    deliver(f);
    auto sent = dev.take_sent();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].size(), 20u + 8u + 4u);
}

TEST_F(L3Fixture, UnknownProtocolGetsProtocolUnreachable) {
    auto p = ipv4_packet(ip_header(kPeer, kUs, 99), pattern(12));
    deliver(p);
    auto sent = dev.take_sent();
    ASSERT_EQ(sent.size(), 1u);
    auto ip = wire::parse_ipv4(sent[0]);
    ASSERT_TRUE(ip);
    auto icmp = wire::parse_icmp(ip->payload);
    ASSERT_TRUE(icmp);
    EXPECT_EQ(icmp->type, 3);
    EXPECT_EQ(icmp->code, 2);
    // RFC 1122 3.2.2: the quote holds the offending header and at least 8 bytes after it.
    ASSERT_GE(icmp->body.size(), 28u);
    EXPECT_TRUE(std::equal(p.begin(), p.begin() + 28, icmp->body.begin()));
    EXPECT_EQ(stack.counters().ip.in_unknown_protos, 1u);
}

TEST_F(L3Fixture, NoIcmpErrorAboutIcmpErrorOrFragment) {
    // An ICMP error (type 3) for unknown protocol 99 inside a non-first fragment: no reply.
    auto h = ip_header(kPeer, kUs, 99);
    h.frag_offset = 10;
    h.more_fragments = false;
    deliver(ipv4_packet(h, pattern(16)));
    EXPECT_TRUE(dev.take_sent().empty());
}

TEST_F(L3Fixture, ReassemblesOutOfOrderFragments) {
    // A 3000-byte echo request split in three, delivered last-first.
    auto whole = icmp_echo(kPeer, kUs, 5, 6, pattern(3000 - 8));
    ByteSpan payload{whole.data() + 20, whole.size() - 20};
    auto frag = [&](std::size_t off, std::size_t len, bool mf) {
        auto h = ip_header(kPeer, kUs, wire::kIpProtoIcmp, 0x777);
        h.frag_offset = static_cast<std::uint16_t>(off / 8);
        h.more_fragments = mf;
        return ipv4_packet(h, payload.subspan(off, len));
    };
    deliver(frag(2960, 40, false));
    deliver(frag(1480, 1480, true));
    EXPECT_TRUE(dev.take_sent().empty());
    deliver(frag(0, 1480, true));
    auto sent = dev.take_sent();
    // The 3000-byte reply goes out fragmented at MTU 1500: 1480 + 1480 + 40 payload bytes.
    ASSERT_EQ(sent.size(), 3u);
    std::vector<std::byte> rebuilt;
    for (std::size_t i = 0; i < 3; ++i) {
        auto ip = wire::parse_ipv4(sent[i]);
        ASSERT_TRUE(ip);
        EXPECT_EQ(ip->header.frag_offset_bytes(), i * 1480);
        EXPECT_EQ(ip->header.more_fragments, i < 2);
        rebuilt.insert(rebuilt.end(), ip->payload.begin(), ip->payload.end());
    }
    auto icmp = wire::parse_icmp(rebuilt);
    ASSERT_TRUE(icmp);
    EXPECT_EQ(icmp->type, 0);
    EXPECT_EQ(icmp->body.size(), 3000u - 8u);
    EXPECT_TRUE(std::equal(payload.begin() + 8, payload.end(), icmp->body.begin()));
    const auto& c = stack.counters().ip;
    EXPECT_EQ(c.reasm_reqds, 3u);
    EXPECT_EQ(c.reasm_oks, 1u);
    EXPECT_EQ(c.frag_creates, 3u);
}

TEST_F(L3Fixture, OverlappingFragmentDiscardsDatagram) {
    auto body = pattern(64);
    auto frag = [&](std::size_t off, std::size_t len, bool mf) {
        auto h = ip_header(kPeer, kUs, wire::kIpProtoUdp, 0x99);
        h.frag_offset = static_cast<std::uint16_t>(off / 8);
        h.more_fragments = mf;
        return ipv4_packet(h, ByteSpan{body}.subspan(off, len));
    };
    deliver(frag(0, 32, true));
    deliver(frag(24, 16, true));  // overlaps [24,32)
    deliver(frag(40, 24, false));
    EXPECT_EQ(stack.counters().ip.reasm_overlaps, 1u);
    EXPECT_EQ(stack.counters().ip.reasm_oks, 0u);
    EXPECT_EQ(stack.counters().udp.in_datagrams + stack.counters().udp.no_ports, 0u);
}

TEST_F(L3Fixture, ReassemblyTimeoutSendsTimeExceeded) {
    auto body = pattern(64);
    auto h = ip_header(kPeer, kUs, wire::kIpProtoUdp, 0x55);
    h.more_fragments = true;
    deliver(ipv4_packet(h, ByteSpan{body}.first(32)));
    EXPECT_EQ(stack.next_deadline(), kT0 + std::chrono::seconds(30));
    stack.poll(kT0 + std::chrono::seconds(29));
    EXPECT_TRUE(dev.take_sent().empty());
    stack.poll(kT0 + std::chrono::seconds(30));
    auto sent = dev.take_sent();
    ASSERT_EQ(sent.size(), 1u);
    auto ip = wire::parse_ipv4(sent[0]);
    auto icmp = wire::parse_icmp(ip->payload);
    ASSERT_TRUE(icmp);
    EXPECT_EQ(icmp->type, 11);
    EXPECT_EQ(icmp->code, 1);
    EXPECT_EQ(stack.counters().ip.reasm_timeout, 1u);
    EXPECT_EQ(stack.next_deadline(), kNever);
}

TEST_F(L3Fixture, PingOfDeathIsRejected) {
    auto h = ip_header(kPeer, kUs, wire::kIpProtoIcmp, 0x66);
    h.frag_offset = 8189;  // 65512 + 40 bytes > 65535
    h.more_fragments = false;
    deliver(ipv4_packet(h, pattern(40)));
    EXPECT_EQ(stack.counters().ip.reasm_fails, 1u);
    EXPECT_EQ(stack.counters().ip.reasm_oks, 0u);
}

TEST_F(L3Fixture, ReassemblyMemoryIsCapped) {
    StackConfig cfg;
    cfg.reassembly_max_bytes = 4000;
    FakeDevice d2{phy::LinkType::kIp};
    Stack s2(cfg);
    s2.add_interface(d2, InterfaceConfig{{kUs, 24}, {}, {}});
    for (std::uint16_t id = 0; id < 10; ++id) {
        auto h = ip_header(kPeer, kUs, wire::kIpProtoUdp, id);
        h.more_fragments = true;
        s2.on_frame(0, ipv4_packet(h, pattern(1000)), {}, kT0);
    }
    EXPECT_GE(s2.counters().ip.reasm_overflows, 6u);
}

TEST_F(L3Fixture, NoRouteIsAnError) {
    auto s = stack.udp_open();
    ASSERT_TRUE(s);
    auto r = stack.udp_sendto(*s, pattern(4), Endpoint{Ipv4Addr{192, 0, 2, 1}, 9});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::network_unreachable);
    stack.set_default_gateway(kPeer, 0);
    EXPECT_TRUE(stack.udp_sendto(*s, pattern(4), Endpoint{Ipv4Addr{192, 0, 2, 1}, 9}));
}

TEST_F(L3Fixture, FragNeededLowersPathMtu) {
    auto s = stack.udp_open();
    ASSERT_TRUE(s);
    Endpoint far{kPeer, 7};
    ASSERT_TRUE(stack.udp_sendto(*s, pattern(1400), far));
    auto sent = dev.take_sent();
    ASSERT_EQ(sent.size(), 1u);
    // A router says the next hop takes 1000 bytes.
    std::vector<std::byte> quote(sent[0].begin(), sent[0].begin() + 28);
    std::vector<std::byte> m(8 + quote.size());
    wire::write_icmp(m, 3, 4, 1000, quote);
    deliver(ipv4_packet(ip_header(Ipv4Addr{10, 0, 0, 254}, kUs, wire::kIpProtoIcmp), m));
    ASSERT_TRUE(stack.udp_sendto(*s, pattern(1400), far));
    sent = dev.take_sent();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_LE(sent[0].size(), 1000u);
    EXPECT_LE(sent[1].size(), 1000u);
}
