// The event loop driving real stacks over the in-memory link, in virtual and real time.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "phy/memory_pair.hpp"
#include "runtime/clock.hpp"
#include "runtime/event_loop.hpp"
#include "stack/stack.hpp"

using namespace ustack;
using namespace ustack::runtime;
using namespace std::chrono_literals;

namespace {

struct TwoStacks {
    explicit TwoStacks(Clock& clock) {
        auto pair = phy::MemoryLink::make_pair(phy::LinkType::kEthernet, 1500);
        dev_a = std::move(pair.first);
        dev_b = std::move(pair.second);
        StackConfig ca;
        ca.seed = 11;
        StackConfig cb;
        cb.seed = 22;
        a = std::make_unique<Stack>(ca);
        b = std::make_unique<Stack>(cb);
        a->add_interface(*dev_a, InterfaceConfig{addr_a, std::nullopt, std::nullopt});
        b->add_interface(*dev_b, InterfaceConfig{addr_b, std::nullopt, std::nullopt});
        auto l = EventLoop::create(
            clock, Driven{[this](Instant now) {
                              a->poll(now);
                              b->poll(now);
                          },
                          [this] { return std::min(a->next_deadline(), b->next_deadline()); }});
        EXPECT_TRUE(l);
        loop = std::move(l).value();
        EXPECT_TRUE(loop->add_device(*dev_a));
        EXPECT_TRUE(loop->add_device(*dev_b));
        EXPECT_TRUE(loop->run_once());  // hands both stacks the current time
    }

    wire::Ipv4Cidr addr_a{wire::Ipv4Addr(10, 0, 0, 1), 24};
    wire::Ipv4Cidr addr_b{wire::Ipv4Addr(10, 0, 0, 2), 24};
    std::unique_ptr<phy::Device> dev_a;
    std::unique_ptr<phy::Device> dev_b;
    std::unique_ptr<Stack> a;
    std::unique_ptr<Stack> b;
    std::unique_ptr<EventLoop> loop;
};

std::vector<std::byte> pattern(std::size_t n) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = static_cast<std::byte>(i * 13 + 1);
    return v;
}

}  // namespace

TEST(RuntimeStack, FragmentedPingAcrossTheMemoryLinkInVirtualTime) {
    VirtualClock clock(Instant{1s});
    TwoStacks t(clock);
    auto sock = t.a->ping_open();
    ASSERT_TRUE(sock);
    const auto payload = pattern(4000);
    ASSERT_TRUE(t.a->ping_send(*sock, t.addr_b.addr, 1, payload));
    t.loop->request_poll();
    std::vector<std::byte> rx(8000);
    std::optional<PingReply> reply;
    ASSERT_TRUE(t.loop->run_until(
        [&] {
            auto r = t.a->ping_recv(*sock, rx);
            if (r) reply = *r;
            return reply.has_value();
        },
        clock.now() + 5s));
    EXPECT_EQ(reply->from, t.addr_b.addr);
    EXPECT_EQ(reply->seq, 1);
    ASSERT_EQ(reply->size, payload.size());
    EXPECT_TRUE(std::equal(payload.begin(), payload.end(), rx.begin()));
    EXPECT_EQ(clock.now(), Instant{1s});  // nothing had to wait: no virtual time passed
    EXPECT_GE(t.b->counters().ip.reasm_oks, 1u);
    EXPECT_GE(t.a->counters().ip.reasm_oks, 1u);
}

TEST(RuntimeStack, UdpEchoFromTheAfterPollCallback) {
    MonotonicClock clock;
    TwoStacks t(clock);
    auto server = t.b->udp_open();
    auto client = t.a->udp_open();
    ASSERT_TRUE(server && client);
    ASSERT_TRUE(t.b->udp_bind(*server, Endpoint{wire::Ipv4Addr{}, 7}));
    ASSERT_TRUE(t.a->udp_bind(*client, Endpoint{wire::Ipv4Addr{}, 0}));
    std::vector<std::byte> buf(65536);
    std::size_t echoed = 0;
    t.loop->add_after_poll([&] {
        while (auto r = t.b->udp_recvfrom(*server, buf)) {
            ASSERT_TRUE(t.b->udp_sendto(*server, ByteSpan(buf.data(), r->size), r->from));
            ++echoed;
        }
    });
    std::vector<std::byte> rx(65536);
    for (std::size_t size : {1u, 1472u, 3000u, 20000u}) {
        const auto data = pattern(size);
        ASSERT_TRUE(t.a->udp_sendto(*client, data, Endpoint{t.addr_b.addr, 7}));
        t.loop->request_poll();
        std::optional<UdpReceived> got;
        ASSERT_TRUE(t.loop->run_until(
            [&] {
                auto r = t.a->udp_recvfrom(*client, rx);
                if (r) got = *r;
                return got.has_value();
            },
            clock.now() + 5s))
            << size;
        ASSERT_EQ(got->size, size);
        EXPECT_TRUE(std::equal(data.begin(), data.end(), rx.begin()));
    }
    EXPECT_EQ(echoed, 4u);
}

TEST(RuntimeStack, ArpGivesUpAfterItsProbesInVirtualTime) {
    VirtualClock clock(Instant{0s});
    TwoStacks t(clock);
    auto sock = t.a->ping_open();
    ASSERT_TRUE(sock);
    // Nobody has 10.0.0.9: ARP probes arp_max_probes times, arp_retry_interval apart, then
    // gives up. In virtual time the loop jumps from one retry to the next.
    ASSERT_TRUE(t.a->ping_send(*sock, wire::Ipv4Addr(10, 0, 0, 9), 1, pattern(56)));
    t.loop->request_poll();
    const auto& cfg = t.a->config();
    const Instant give_up = clock.now() + cfg.arp_retry_interval * cfg.arp_max_probes;
    EXPECT_TRUE(t.loop->run_until([&] { return t.a->counters().arp.resolution_failures > 0; },
                                  give_up + 10s));
    EXPECT_EQ(t.a->counters().arp.out_requests, cfg.arp_max_probes);
    EXPECT_GE(clock.now(), give_up - cfg.arp_retry_interval);
    EXPECT_LE(clock.now(), give_up + 1s);
    EXPECT_LT(t.loop->iterations(), 50u);  // jumps between deadlines, no spinning
}
