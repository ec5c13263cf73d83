#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <vector>

#include "phy/udp_tunnel.hpp"
#include "test_phy_packets.hpp"

using namespace ustack;
using namespace ustack::phy;

namespace {

// A port the kernel just handed out and released, for the side that must be known in advance.
std::uint16_t free_udp_port() {
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM, 0));
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) return 0;
    socklen_t len = sizeof sin;
    ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&sin), &len);
    return ntohs(sin.sin_port);
}

bool wait_readable(const Device& d) {
    pollfd p{d.fd(), POLLIN, 0};
    return ::poll(&p, 1, 2000) == 1;
}

struct TunnelPair {
    std::unique_ptr<UdpTunnelDevice> a, b;
};

TunnelPair make_tunnels(LinkType link) {
    const std::uint16_t port_a = free_udp_port();
    UdpTunnelOptions ob;
    ob.peer_port = port_a;
    ob.link = link;
    auto b = UdpTunnelDevice::open(ob);
    EXPECT_TRUE(b) << b.error().what;
    UdpTunnelOptions oa;
    oa.local_port = port_a;
    oa.peer_port = (*b)->local_port();
    oa.link = link;
    auto a = UdpTunnelDevice::open(oa);
    EXPECT_TRUE(a) << a.error().what;
    return {std::move(*a), std::move(*b)};
}

}  // namespace

TEST(PhyUdpTunnel, FramesCrossBetweenTwoDevicesOnLoopback) {
    auto t = make_tunnels(LinkType::kIp);
    ASSERT_TRUE(t.a && t.b);
    EXPECT_GE(t.a->fd(), 0);
    EXPECT_EQ(t.a->caps().link, LinkType::kIp);
    std::vector<std::byte> buf(2000);
    FrameMeta meta;
    EXPECT_EQ(*t.b->receive(buf, meta, 0ns), 0u);  // nothing yet, and no blocking

    test_packets::PacketSpec spec;
    const auto frame = test_packets::make_packet(spec, test_packets::bytes_of("over udp"));
    ASSERT_TRUE(t.a->send(frame, {}, 0ns));
    ASSERT_TRUE(wait_readable(*t.b));
    auto n = t.b->receive(buf, meta, 0ns);
    ASSERT_TRUE(n) << n.error().what;
    ASSERT_EQ(*n, frame.size());
    EXPECT_TRUE(std::equal(frame.begin(), frame.end(), buf.begin()));
    EXPECT_FALSE(meta.needs_csum);

    std::vector<std::byte> full(1500, std::byte{0x5a});
    ASSERT_TRUE(t.b->send(full, {}, 0ns));
    ASSERT_TRUE(wait_readable(*t.a));
    EXPECT_EQ(*t.a->receive(buf, meta, 0ns), 1500u);
    EXPECT_EQ(t.a->counters().tx_frames, 1u);
    EXPECT_EQ(t.a->counters().rx_frames, 1u);
    EXPECT_EQ(t.b->counters().rx_bytes, frame.size());
}

TEST(PhyUdpTunnel, DropsAreCountedNotErrors) {
    auto t = make_tunnels(LinkType::kEthernet);
    ASSERT_TRUE(t.a && t.b);
    EXPECT_EQ(t.a->caps().max_frame, 1514u);
    std::vector<std::byte> too_big(1515);
    ASSERT_TRUE(t.a->send(too_big, {}, 0ns));
    EXPECT_EQ(t.a->counters().tx_dropped_too_big, 1u);
    FrameMeta partial;
    partial.needs_csum = true;
    ASSERT_TRUE(t.a->send(std::vector<std::byte>(100), partial, 0ns));
    EXPECT_EQ(t.a->counters().tx_dropped_unsupported, 1u);

    ASSERT_TRUE(t.a->send(std::vector<std::byte>(1000), {}, 0ns));
    ASSERT_TRUE(wait_readable(*t.b));
    std::vector<std::byte> small(100);
    FrameMeta meta;
    EXPECT_EQ(*t.b->receive(small, meta, 0ns), 0u);
    EXPECT_EQ(t.b->counters().rx_dropped_too_big, 1u);
}

TEST(PhyUdpTunnel, PeerNotUpIsNotAnError) {
    UdpTunnelOptions o;
    o.peer_port = free_udp_port();
    auto d = UdpTunnelDevice::open(o);
    ASSERT_TRUE(d) << d.error().what;
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE((*d)->send(std::vector<std::byte>(100), {}, 0ns));
    std::vector<std::byte> buf(1500);
    FrameMeta meta;
    auto n = (*d)->receive(buf, meta, 0ns);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 0u);
}

TEST(PhyUdpTunnel, BadAddressIsAnError) {
    UdpTunnelOptions o;
    o.local_host = "not an address";
    auto d = UdpTunnelDevice::open(o);
    ASSERT_FALSE(d);
    EXPECT_NE(d.error().what.find("not an address"), std::string::npos);
}
