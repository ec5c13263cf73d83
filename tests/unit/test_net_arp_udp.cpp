// ARP on an Ethernet device and UDP sockets, driven with exact frames in virtual time.
#include <gtest/gtest.h>

#include "stack/stack.hpp"
#include "support/fake_device.hpp"
#include "support/packets.hpp"

using namespace ustack;
using namespace ustack::testing;
using wire::Ipv4Addr;
using wire::MacAddr;

namespace {

const Ipv4Addr kUs{10, 0, 0, 2};
const Ipv4Addr kPeer{10, 0, 0, 1};
const MacAddr kUsMac{{0x02, 0, 0, 0, 0, 0x02}};
const MacAddr kPeerMac{{0x02, 0, 0, 0, 0, 0x01}};
constexpr Instant kT0 = std::chrono::seconds(100);

struct L2Fixture : ::testing::Test {
    FakeDevice dev{phy::LinkType::kEthernet, 1500};
    Stack stack;
    L2Fixture() {
        stack.add_interface(dev, InterfaceConfig{{kUs, 24}, kUsMac, {}});
        stack.poll(kT0);  // socket calls act at the time of the last poll
    }
    void deliver(const std::vector<std::byte>& f, Instant t = kT0) {
        stack.on_frame(0, f, phy::FrameMeta{}, t);
    }
    void learn_peer() {
        deliver(arp_frame(wire::ArpOp::kRequest, kPeerMac, kPeer, MacAddr{}, kUs,
                          MacAddr::broadcast()));
        dev.take_sent();
    }
};

}  // namespace

TEST_F(L2Fixture, AnswersArpRequestWithExactReply) {
    deliver(
        arp_frame(wire::ArpOp::kRequest, kPeerMac, kPeer, MacAddr{}, kUs, MacAddr::broadcast()));
    auto sent = dev.take_sent();
    ASSERT_EQ(sent.size(), 1u);
    auto expected = arp_frame(wire::ArpOp::kReply, kUsMac, kUs, kPeerMac, kPeer, kPeerMac);
    EXPECT_EQ(sent[0], expected);
    EXPECT_EQ(stack.counters().arp.in_requests, 1u);
    EXPECT_EQ(stack.counters().arp.out_replies, 1u);
}

TEST_F(L2Fixture, IgnoresRequestsForOthersAndForeignUnicast) {
    deliver(arp_frame(wire::ArpOp::kRequest, kPeerMac, kPeer, MacAddr{}, Ipv4Addr{10, 0, 0, 3},
                      MacAddr::broadcast()));
    auto other = MacAddr{{0x02, 9, 9, 9, 9, 9}};
    deliver(
        ethernet(other, kPeerMac, wire::kEtherTypeIpv4, icmp_echo(kPeer, kUs, 1, 1, pattern(4))));
    deliver(ethernet(kUsMac, kPeerMac, 0x86dd, pattern(40)));
    EXPECT_TRUE(dev.take_sent().empty());
    EXPECT_EQ(stack.counters().link.rx_not_for_us, 1u);
    EXPECT_EQ(stack.counters().link.rx_unknown_ethertype, 1u);
}

TEST_F(L2Fixture, GratuitousArpDoesNotCreateEntries) {
    // A gratuitous announcement for a host we never talked to creates nothing: sending to it
    // still needs a request.
    deliver(
        arp_frame(wire::ArpOp::kRequest, kPeerMac, kPeer, MacAddr{}, kPeer, MacAddr::broadcast()));
    EXPECT_EQ(stack.counters().arp.in_gratuitous, 1u);
    EXPECT_TRUE(dev.take_sent().empty());
    auto s = stack.udp_open();
    ASSERT_TRUE(stack.udp_sendto(*s, pattern(4), Endpoint{kPeer, 9}));
    auto sent = dev.take_sent();
    ASSERT_EQ(sent.size(), 1u);
    auto eth = wire::parse_ethernet(sent[0]);
    EXPECT_EQ(eth->header.ethertype, wire::kEtherTypeArp);
}

TEST_F(L2Fixture, GratuitousArpUpdatesKnownEntry) {
    learn_peer();
    const MacAddr moved{{0x02, 0, 0, 0, 0, 0x77}};
    deliver(arp_frame(wire::ArpOp::kReply, moved, kPeer, MacAddr::broadcast(), kPeer,
                      MacAddr::broadcast()));
    auto s = stack.udp_open();
    ASSERT_TRUE(stack.udp_sendto(*s, pattern(4), Endpoint{kPeer, 9}));
    auto sent = dev.take_sent();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(wire::parse_ethernet(sent[0])->header.dst, moved);
}

TEST_F(L2Fixture, QueuesWhileResolvingThenFlushesInOrder) {
    auto s = stack.udp_open();
    ASSERT_TRUE(stack.udp_bind(*s, Endpoint{{}, 5000}));
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(stack.udp_sendto(*s, pattern(10, i), Endpoint{kPeer, 9}));
    auto sent = dev.take_sent();
    ASSERT_EQ(sent.size(), 1u);  // one request, three datagrams waiting
    auto req =
        arp_frame(wire::ArpOp::kRequest, kUsMac, kUs, MacAddr{}, kPeer, MacAddr::broadcast());
    EXPECT_EQ(sent[0], req);
    deliver(arp_frame(wire::ArpOp::kReply, kPeerMac, kPeer, kUsMac, kUs, kUsMac));
    sent = dev.take_sent();
    ASSERT_EQ(sent.size(), 3u);
    for (int i = 0; i < 3; ++i) {
        auto eth = wire::parse_ethernet(sent[i]);
        EXPECT_EQ(eth->header.dst, kPeerMac);
        auto ip = wire::parse_ipv4(eth->payload);
        ASSERT_TRUE(ip);
        auto u = wire::parse_udp(ip->payload, kUs, kPeer);
        ASSERT_TRUE(u);
        auto want = pattern(10, i);
        EXPECT_TRUE(std::equal(want.begin(), want.end(), u->payload.begin()));
        EXPECT_EQ(u->header.src_port, 5000);
    }
}

TEST_F(L2Fixture, ArpRetriesThenGivesUp) {
    auto s = stack.udp_open();
    ASSERT_TRUE(stack.udp_sendto(*s, pattern(4), Endpoint{kPeer, 9}));
    EXPECT_EQ(dev.take_sent().size(), 1u);
    // Linux: 3 probes one second apart, then the queued packets are dropped.
    EXPECT_EQ(stack.next_deadline(), kT0 + std::chrono::seconds(1));
    stack.poll(kT0 + std::chrono::milliseconds(999));
    EXPECT_TRUE(dev.take_sent().empty());
    stack.poll(kT0 + std::chrono::seconds(1));
    EXPECT_EQ(dev.take_sent().size(), 1u);
    stack.poll(kT0 + std::chrono::seconds(2));
    EXPECT_EQ(dev.take_sent().size(), 1u);
    stack.poll(kT0 + std::chrono::seconds(3));
    EXPECT_TRUE(dev.take_sent().empty());
    EXPECT_EQ(stack.counters().arp.out_requests, 3u);
    EXPECT_EQ(stack.counters().arp.resolution_failures, 1u);
    EXPECT_EQ(stack.counters().arp.pending_drops, 1u);
    EXPECT_EQ(stack.next_deadline(), kNever);
}

TEST_F(L2Fixture, PendingQueueIsBounded) {
    StackConfig cfg;
    cfg.arp_pending_per_neighbor = 2;
    FakeDevice d2{phy::LinkType::kEthernet};
    Stack s2(cfg);
    s2.add_interface(d2, InterfaceConfig{{kUs, 24}, kUsMac, {}});
    auto s = s2.udp_open();
    for (int i = 0; i < 5; ++i)
        ASSERT_TRUE(s2.udp_sendto(*s, pattern(4), Endpoint{kPeer, 9}));
    EXPECT_EQ(s2.counters().arp.pending_drops, 3u);
    s2.on_frame(0, arp_frame(wire::ArpOp::kReply, kPeerMac, kPeer, kUsMac, kUs, kUsMac), {}, kT0);
    EXPECT_EQ(d2.take_sent().size(), 1u + 2u);
}

TEST_F(L2Fixture, StaleEntryIsRefreshed) {
    learn_peer();
    auto s = stack.udp_open();
    Instant later = kT0 + std::chrono::seconds(31);
    stack.poll(later);
    ASSERT_TRUE(stack.udp_sendto(*s, pattern(4), Endpoint{kPeer, 9}));
    auto sent = dev.take_sent();
    ASSERT_EQ(sent.size(), 1u);  // still sent with the old address...
    EXPECT_EQ(wire::parse_ethernet(sent[0])->header.dst, kPeerMac);
    stack.poll(later);  // ...and a refresh request goes out
    sent = dev.take_sent();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(wire::parse_ethernet(sent[0])->header.ethertype, wire::kEtherTypeArp);
}

TEST_F(L2Fixture, UdpDeliveryAndPortUnreachable) {
    learn_peer();
    auto s = stack.udp_open();
    ASSERT_TRUE(stack.udp_bind(*s, Endpoint{{}, 7}));
    auto payload = pattern(100);
    deliver(ethernet(kUsMac, kPeerMac, wire::kEtherTypeIpv4,
                     udp_datagram(kPeer, 4444, kUs, 7, payload)));
    std::vector<SocketEvent> ev;
    stack.take_events(ev);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].socket, *s);
    EXPECT_TRUE(ev[0].events & events::kReadable);
    std::vector<std::byte> buf(2000);
    auto r = stack.udp_recvfrom(*s, buf);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->size, 100u);
    EXPECT_EQ(r->from, (Endpoint{kPeer, 4444}));
    EXPECT_TRUE(std::equal(payload.begin(), payload.end(), buf.begin()));
    auto again = stack.udp_recvfrom(*s, buf);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), std::errc::resource_unavailable_try_again);

    // To a closed port: ICMP port unreachable quoting the datagram.
    auto closed = udp_datagram(kPeer, 4444, kUs, 8, payload);
    deliver(ethernet(kUsMac, kPeerMac, wire::kEtherTypeIpv4, closed));
    auto sent = dev.take_sent();
    ASSERT_EQ(sent.size(), 1u);
    auto ip = wire::parse_ipv4(wire::parse_ethernet(sent[0])->payload);
    auto icmp = wire::parse_icmp(ip->payload);
    ASSERT_TRUE(icmp);
    EXPECT_EQ(icmp->type, 3);
    EXPECT_EQ(icmp->code, 3);
    EXPECT_TRUE(std::equal(closed.begin(), closed.begin() + 28, icmp->body.begin()));
    EXPECT_EQ(stack.counters().udp.no_ports, 1u);
    EXPECT_EQ(stack.counters().udp.in_datagrams, 1u);
}

TEST_F(L2Fixture, UdpBadChecksumIsCounted) {
    learn_peer();
    auto s = stack.udp_open();
    ASSERT_TRUE(stack.udp_bind(*s, Endpoint{{}, 7}));
    auto d = udp_datagram(kPeer, 1, kUs, 7, pattern(20));
    d[30] ^= std::byte{0xff};  // a payload byte
    deliver(ethernet(kUsMac, kPeerMac, wire::kEtherTypeIpv4, d));
    EXPECT_EQ(stack.counters().udp.in_csum_errors, 1u);
    EXPECT_EQ(stack.udp_poll(*s) & events::kReadable, 0u);
}

TEST_F(L2Fixture, UdpBindConflictsAndEphemeralPorts) {
    auto a = stack.udp_open();
    auto b = stack.udp_open();
    ASSERT_TRUE(stack.udp_bind(*a, Endpoint{{}, 53}));
    auto r = stack.udp_bind(*b, Endpoint{kUs, 53});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::address_in_use);
    auto bad = stack.udp_bind(*b, Endpoint{Ipv4Addr{10, 0, 0, 99}, 53});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), std::errc::address_not_available);
    ASSERT_TRUE(stack.udp_bind(*b, Endpoint{{}, 0}));
    auto local = stack.udp_local(*b);
    ASSERT_TRUE(local);
    EXPECT_GE(local->port, 32768);
    EXPECT_LE(local->port, 60999);
    stack.udp_close(*a);
    auto c = stack.udp_open();
    EXPECT_TRUE(stack.udp_bind(*c, Endpoint{{}, 53}));
}

TEST_F(L2Fixture, ConnectedSocketGetsConnRefusedFromIcmp) {
    learn_peer();
    auto s = stack.udp_open();
    ASSERT_TRUE(stack.udp_connect(*s, Endpoint{kPeer, 9}));
    ASSERT_TRUE(stack.udp_send(*s, pattern(8)));
    auto sent = dev.take_sent();
    ASSERT_EQ(sent.size(), 1u);
    auto ip_pkt = wire::parse_ethernet(sent[0])->payload;
    std::vector<std::byte> quote(ip_pkt.begin(), ip_pkt.begin() + 28);
    std::vector<std::byte> m(8 + quote.size());
    wire::write_icmp(m, 3, 3, 0, quote);
    deliver(ethernet(kUsMac, kPeerMac, wire::kEtherTypeIpv4,
                     ipv4_packet(ip_header(kPeer, kUs, wire::kIpProtoIcmp), m)));
    EXPECT_TRUE(stack.udp_poll(*s) & events::kError);
    std::vector<std::byte> buf(100);
    auto r = stack.udp_recvfrom(*s, buf);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::connection_refused);
    auto r2 = stack.udp_recvfrom(*s, buf);  // reported once
    ASSERT_FALSE(r2);
    EXPECT_EQ(r2.error(), std::errc::resource_unavailable_try_again);
}

TEST_F(L2Fixture, UdpReceiveQueueIsBounded) {
    StackConfig cfg;
    cfg.udp_recv_queue_bytes = 1000;
    FakeDevice d2{phy::LinkType::kEthernet};
    Stack s2(cfg);
    s2.add_interface(d2, InterfaceConfig{{kUs, 24}, kUsMac, {}});
    auto s = s2.udp_open();
    ASSERT_TRUE(s2.udp_bind(*s, Endpoint{{}, 7}));
    for (int i = 0; i < 5; ++i)
        s2.on_frame(0,
                    ethernet(kUsMac, kPeerMac, wire::kEtherTypeIpv4,
                             udp_datagram(kPeer, 1, kUs, 7, pattern(300))),
                    {}, kT0);
    EXPECT_EQ(s2.counters().udp.in_datagrams, 3u);
    EXPECT_EQ(s2.counters().udp.rcvbuf_errors, 2u);
}

TEST_F(L2Fixture, PingSocketSendsAndReceives) {
    learn_peer();
    auto p = stack.ping_open();
    ASSERT_TRUE(p);
    ASSERT_TRUE(stack.ping_send(*p, kPeer, 3, pattern(16)));
    auto sent = dev.take_sent();
    ASSERT_EQ(sent.size(), 1u);
    auto ip = wire::parse_ipv4(wire::parse_ethernet(sent[0])->payload);
    auto icmp = wire::parse_icmp(ip->payload);
    ASSERT_TRUE(icmp);
    EXPECT_EQ(icmp->type, 8);
    EXPECT_EQ(icmp->echo_seq(), 3);
    // The peer answers with the same identifier.
    deliver(ethernet(kUsMac, kPeerMac, wire::kEtherTypeIpv4,
                     icmp_echo(kPeer, kUs, icmp->echo_id(), 3, pattern(16), 0)));
    std::vector<std::byte> buf(64);
    auto r = stack.ping_recv(*p, buf);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->from, kPeer);
    EXPECT_EQ(r->seq, 3);
    EXPECT_EQ(r->size, 16u);
    EXPECT_EQ(r->ttl, 64);
}
