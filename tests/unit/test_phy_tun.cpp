// TUN and TAP against the kernel, each test inside a network namespace of its own that
// disappears with the test. Skipped, with the reason, without /dev/net/tun or the capabilities.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <optional>
#include <vector>

#include "phy/netns.hpp"
#include "phy/offload.hpp"
#include "phy/tun.hpp"
#include "test_phy_packets.hpp"

using namespace ustack;
using namespace ustack::phy;
namespace tp = ustack::phy::test_packets;

namespace {

constexpr std::uint32_t kHostAddr = 0x0a630001;  // 10.99.0.1, the kernel's side
constexpr std::uint32_t kPeerAddr = 0x0a630002;  // 10.99.0.2, "us" behind the device

class PhyTun : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::access("/dev/net/tun", F_OK) != 0) GTEST_SKIP() << "no /dev/net/tun on this host";
        auto ns = NetnsScope::enter_new();
        if (!ns) GTEST_SKIP() << "cannot create a network namespace: " << ns.error().what;
        netns_.emplace(std::move(*ns));
    }
    void TearDown() override { netns_.reset(); }

    // Opens a device or skips the test when the host does not allow it.
    std::unique_ptr<TunDevice> open_or_skip(const TunOptions& o) {
        auto d = TunDevice::open(o);
        if (!d) {
            if (d.error().code == EPERM || d.error().code == EACCES || d.error().code == ENOENT ||
                d.error().code == ENODEV)
                skip_reason_ = d.error().what;
            else
                ADD_FAILURE() << d.error().what;
            return nullptr;
        }
        return std::move(*d);
    }

    std::optional<NetnsScope> netns_;
    std::string skip_reason_;
};

UniqueFd udp_socket(std::uint32_t bind_addr, std::uint16_t port) {
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (bind_addr != 0 || port != 0) {
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(bind_addr);
        sin.sin_port = htons(port);
        EXPECT_EQ(::bind(s.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
    }
    return s;
}

void send_to(int fd, std::uint32_t addr, std::uint16_t port, const std::vector<std::byte>& data) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(addr);
    sin.sin_port = htons(port);
    ASSERT_EQ(
        ::sendto(fd, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&sin), sizeof sin),
        static_cast<ssize_t>(data.size()));
}

// Reads frames until `match` accepts one (frames the kernel sends on its own, e.g. IPv6 router
// solicitations, are skipped). Gives up after `timeout`.
std::optional<std::vector<std::byte>> receive_matching(
    TunDevice& dev, FrameMeta& meta, const std::function<bool(ByteSpan)>& match,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    std::vector<std::byte> buf(dev.caps().max_frame);
    while (std::chrono::steady_clock::now() < end) {
        pollfd p{dev.fd(), POLLIN, 0};
        if (::poll(&p, 1, 50) != 1) continue;
        for (;;) {
            auto n = dev.receive(buf, meta, 0ns);
            if (!n) {
                ADD_FAILURE() << n.error().what;
                return std::nullopt;
            }
            if (*n == 0) break;
            ByteSpan f(buf.data(), *n);
            if (match(f)) return std::vector<std::byte>(f.begin(), f.end());
        }
    }
    return std::nullopt;
}

bool is_udp_to(ByteSpan f, std::size_t ip, std::uint16_t dport) {
    return f.size() >= ip + 28 && (load_u8(f.data() + ip) >> 4) == 4 &&
           load_u8(f.data() + ip + 9) == 17 && load_be16(f.data() + ip + 22) == dport;
}

std::optional<std::vector<std::byte>> recv_with_timeout(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) != 1) return std::nullopt;
    std::vector<std::byte> buf(70000);
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) return std::nullopt;
    buf.resize(static_cast<std::size_t>(n));
    return buf;
}

void configure(TunDevice& dev, std::uint32_t host_addr) {
    auto r = dev.set_ipv4(host_addr, 24);
    ASSERT_TRUE(r) << r.error().what;
    r = dev.set_up();
    ASSERT_TRUE(r) << r.error().what;
}

}  // namespace

TEST_F(PhyTun, TunMovesPacketsBothWays) {
    TunOptions o;
    o.name = "ustk0";
    o.mtu = 1400;
    auto dev = open_or_skip(o);
    if (!dev) GTEST_SKIP() << skip_reason_;
    EXPECT_EQ(dev->name(), "ustk0");
    EXPECT_EQ(dev->caps().link, LinkType::kIp);
    EXPECT_EQ(dev->caps().mtu, 1400u);
    EXPECT_EQ(dev->caps().max_frame, 1400u);
    EXPECT_FALSE(dev->caps().tx_tso);
    ASSERT_EQ(*netif::get_mtu("ustk0"), 1400u);
    configure(*dev, kHostAddr);

    // Kernel -> us.
    auto tx = udp_socket(0, 0);
    send_to(tx.get(), kPeerAddr, 9999, tp::bytes_of("hello tun"));
    FrameMeta meta;
    auto got = receive_matching(*dev, meta, [](ByteSpan f) { return is_udp_to(f, 0, 9999); });
    ASSERT_TRUE(got);
    EXPECT_EQ(load_be32(got->data() + 12), kHostAddr);
    EXPECT_EQ(load_be32(got->data() + 16), kPeerAddr);
    EXPECT_EQ(got->size(), 20u + 8 + 9);
    EXPECT_FALSE(meta.needs_csum);
    EXPECT_GE(dev->counters().rx_frames, 1u);

    // Us -> kernel.
    auto rx = udp_socket(kHostAddr, 5000);
    tp::PacketSpec spec;  // 10.99.0.2:6000 -> 10.99.0.1:5000, full checksum
    ASSERT_TRUE(dev->send(tp::make_packet(spec, tp::bytes_of("hello kernel")), {}, 0ns));
    auto data = recv_with_timeout(rx.get(), 2000);
    ASSERT_TRUE(data);
    EXPECT_EQ(*data, tp::bytes_of("hello kernel"));
    EXPECT_EQ(dev->counters().tx_frames, 1u);

    // Offload requests on a device without a vnet header are refused and counted.
    FrameMeta partial;
    partial.needs_csum = true;
    ASSERT_TRUE(dev->send(tp::make_packet(spec, tp::bytes_of("x")), partial, 0ns));
    EXPECT_EQ(dev->counters().tx_dropped_unsupported, 1u);
}

TEST_F(PhyTun, VnetHeaderRoundTrip) {
    TunOptions o;
    o.name = "ustk1";
    o.vnet_offload = true;
    auto dev = open_or_skip(o);
    if (!dev) GTEST_SKIP() << skip_reason_;
    EXPECT_TRUE(dev->caps().tx_csum_offload);
    EXPECT_TRUE(dev->caps().tx_tso);
    EXPECT_TRUE(dev->caps().rx_offload);
    EXPECT_EQ(dev->caps().mtu, 1500u);
    EXPECT_EQ(dev->caps().max_frame, 65535u);
    configure(*dev, kHostAddr);

    // Kernel -> us: with TUN_F_CSUM the kernel leaves the UDP checksum to us.
    auto tx = udp_socket(0, 0);
    send_to(tx.get(), kPeerAddr, 9999, tp::bytes_of("partial please"));
    FrameMeta meta;
    auto got = receive_matching(*dev, meta, [](ByteSpan f) { return is_udp_to(f, 0, 9999); });
    ASSERT_TRUE(got);
    EXPECT_TRUE(meta.needs_csum);
    EXPECT_EQ(meta.csum_start, 20);
    EXPECT_EQ(meta.csum_offset, 6);
    EXPECT_EQ(meta.gso, FrameMeta::Gso::kNone);
    // Completing it as the header says gives a checksum that verifies.
    ASSERT_TRUE(complete_checksum(*got, meta, LinkType::kIp));
    const std::uint64_t pseudo =
        wire::pseudo_header_sum(wire::Ipv4Addr(kHostAddr), wire::Ipv4Addr(kPeerAddr), 17, 8 + 14);
    EXPECT_EQ(wire::internet_checksum(ByteSpan(*got).subspan(20), pseudo), 0);

    // Us -> kernel: a partial checksum with NEEDS_CSUM is accepted ...
    auto rx = udp_socket(kHostAddr, 5000);
    tp::PacketSpec spec;
    spec.checksum = tp::L4Checksum::kPartial;
    FrameMeta partial;
    const auto frame = tp::make_packet(spec, tp::bytes_of("finish my checksum"), &partial);
    ASSERT_TRUE(dev->send(frame, partial, 0ns));
    auto data = recv_with_timeout(rx.get(), 2000);
    ASSERT_TRUE(data);
    EXPECT_EQ(*data, tp::bytes_of("finish my checksum"));
    // ... and the same bytes without it fail the kernel's checksum check: the header mattered.
    ASSERT_TRUE(dev->send(frame, {}, 0ns));
    EXPECT_FALSE(recv_with_timeout(rx.get(), 300));
    EXPECT_EQ(dev->counters().tx_frames, 2u);
}

TEST_F(PhyTun, TapCarriesEthernetAndReportsTheKernelMac) {
    for (bool vnet : {false, true}) {
        SCOPED_TRACE(vnet ? "with vnet header" : "without vnet header");
        TunOptions o;
        o.name = vnet ? "ustap1" : "ustap0";
        o.mode = TunMode::kTap;
        o.vnet_offload = vnet;
        auto dev = open_or_skip(o);
        if (!dev) GTEST_SKIP() << skip_reason_;
        EXPECT_EQ(dev->caps().link, LinkType::kEthernet);
        EXPECT_EQ(dev->caps().max_frame, vnet ? 65535u + 14 : 1514u);
        auto mac = dev->kernel_mac();
        ASSERT_TRUE(mac) << mac.error().what;
        EXPECT_NE(*mac, (std::array<std::uint8_t, 6>{}));
        EXPECT_EQ((*mac)[0] & 1, 0);                                // unicast
        const std::uint32_t host = vnet ? 0x0a610001 : 0x0a620001;  // 10.97/10.98.0.1
        configure(*dev, host);

        // The kernel must resolve 10.9x.0.2 before it can send: an ARP request arrives.
        auto tx = udp_socket(0, 0);
        send_to(tx.get(), host + 1, 9999, tp::bytes_of("to the tap"));
        FrameMeta meta;
        auto arp = receive_matching(*dev, meta, [](ByteSpan f) {
            return f.size() >= 42 && load_be16(f.data() + 12) == 0x0806;
        });
        ASSERT_TRUE(arp);
        EXPECT_TRUE(std::equal(mac->begin(), mac->end(),
                               reinterpret_cast<const std::uint8_t*>(arp->data() + 6)));
        EXPECT_EQ(load_be16(arp->data() + 20), 1);  // request
        EXPECT_EQ(load_be32(arp->data() + 28), host);
        EXPECT_EQ(load_be32(arp->data() + 38), host + 1);
    }
}

TEST_F(PhyTun, ErrorsSayWhatWentWrong) {
    TunOptions o;
    o.name = "a-name-much-too-long-for-linux";
    auto bad = TunDevice::open(o);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ENAMETOOLONG);

    o.name = "ustk2";
    auto tun = open_or_skip(o);
    if (!tun) GTEST_SKIP() << skip_reason_;
    o.mode = TunMode::kTap;
    auto clash = TunDevice::open(o);
    ASSERT_FALSE(clash);
    EXPECT_NE(clash.error().code, 0);
    EXPECT_NE(clash.error().what.find("ustk2"), std::string::npos) << clash.error().what;

    auto r = netif::set_mtu("no-such-if", 1500);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ENODEV);
}
