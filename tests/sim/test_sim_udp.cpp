// Two stacks over an in-memory Ethernet link with seeded faults, in virtual time: ARP, UDP
// (with fragmentation and reassembly) and ping across loss, duplication, reordering,
// corruption and delay. What arrives must be exactly what was sent; runs repeat exactly.
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "phy/fault.hpp"
#include "phy/memory_pair.hpp"
#include "stack/stack.hpp"
#include "support/packets.hpp"

using namespace ustack;
using wire::Ipv4Addr;

namespace {

const Ipv4Addr kA{10, 9, 0, 1};
const Ipv4Addr kB{10, 9, 0, 2};

struct Outcome {
    std::size_t echoed_at_b = 0;
    std::size_t returned_to_a = 0;
    std::size_t mismatches = 0;
    std::size_t pings_answered = 0;
    std::uint64_t a_csum_errors = 0;
    std::uint64_t b_csum_errors = 0;
    friend bool operator==(const Outcome&, const Outcome&) = default;
};

// The payload of datagram i: its index, then a pattern that depends on it; sizes vary so that
// some need fragmentation at MTU 1500.
std::vector<std::byte> payload_for(std::uint32_t i) {
    std::size_t size = 4 + (i * 977) % 4000;
    auto v = ustack::testing::pattern(size, i);
    store_be32(v.data(), i);
    return v;
}

Outcome run(const phy::FaultConfig& faults_ab, const phy::FaultConfig& faults_ba,
            std::uint32_t count) {
    auto [ea, eb] = phy::MemoryLink::make_pair(phy::LinkType::kEthernet, 1500);
    phy::FaultDevice da(std::move(ea), faults_ab);
    phy::FaultDevice db(std::move(eb), faults_ba);
    StackConfig ca;
    ca.seed = 1;
    StackConfig cb;
    cb.seed = 2;
    Stack a(ca), b(cb);
    a.add_interface(da, InterfaceConfig{{kA, 24}, {}, {}});
    b.add_interface(db, InterfaceConfig{{kB, 24}, {}, {}});
    Instant now = std::chrono::seconds(1);
    a.poll(now);
    b.poll(now);
    auto sa = a.udp_open();
    auto sb = b.udp_open();
    auto pa = a.ping_open();
    EXPECT_TRUE(a.udp_bind(*sa, Endpoint{{}, 4000}));
    EXPECT_TRUE(b.udp_bind(*sb, Endpoint{{}, 7}));

    Outcome out;
    std::vector<std::byte> buf(70000);
    std::uint32_t next = 0;
    Instant next_send = now;
    const Instant end = now + std::chrono::seconds(60);
    while (now < end) {
        if (next < count && now >= next_send) {
            // A stack that is still resolving queues (boundedly); errors here are not expected.
            EXPECT_TRUE(a.udp_sendto(*sa, payload_for(next), Endpoint{kB, 7}));
            if (next % 10 == 0) {
                EXPECT_TRUE(a.ping_send(*pa, kB, static_cast<std::uint16_t>(next),
                                        ustack::testing::pattern(32)));
            }
            ++next;
            next_send = now + std::chrono::milliseconds(2);
        }
        a.poll(now);
        b.poll(now);
        // B echoes what it gets; every datagram must be exactly one that A sent.
        while (auto r = b.udp_recvfrom(*sb, buf)) {
            std::uint32_t i = load_be32(buf.data());
            auto want = payload_for(i);
            if (i >= count || r->size != want.size() ||
                !std::equal(want.begin(), want.end(), buf.begin()))
                ++out.mismatches;
            ++out.echoed_at_b;
            (void)b.udp_sendto(*sb, ByteSpan{buf.data(), r->size}, r->from);
        }
        while (auto r = a.udp_recvfrom(*sa, buf)) {
            std::uint32_t i = load_be32(buf.data());
            auto want = payload_for(i);
            if (i >= count || r->size != want.size() ||
                !std::equal(want.begin(), want.end(), buf.begin()))
                ++out.mismatches;
            ++out.returned_to_a;
        }
        while (a.ping_recv(*pa, buf))
            ++out.pings_answered;
        Instant d = std::min(
            {a.next_deadline(), b.next_deadline(), next < count ? next_send : kNever, end});
        now = std::max(now + std::chrono::microseconds(1),
                       std::min(d, now + std::chrono::milliseconds(5)));
        if (next >= count && d == kNever && da.next_deadline() == kNever &&
            db.next_deadline() == kNever && !da.has_pending(now) && !db.has_pending(now))
            break;
    }
    out.a_csum_errors = a.counters().udp.in_csum_errors + a.counters().ip.in_csum_errors;
    out.b_csum_errors = b.counters().udp.in_csum_errors + b.counters().ip.in_csum_errors;
    return out;
}

}  // namespace

TEST(SimUdp, CleanLinkDeliversEverything) {
    phy::FaultConfig none;
    auto o = run(none, none, 300);
    EXPECT_EQ(o.mismatches, 0u);
    EXPECT_EQ(o.echoed_at_b, 300u);
    EXPECT_EQ(o.returned_to_a, 300u);
    EXPECT_EQ(o.pings_answered, 30u);
}

TEST(SimUdp, DelayAndJitterStillDeliverEverything) {
    phy::FaultConfig f;
    f.seed = 3;
    f.delay = std::chrono::milliseconds(20);
    f.jitter = std::chrono::milliseconds(10);
    f.jitter_reorders = true;
    auto o = run(f, f, 200);
    EXPECT_EQ(o.mismatches, 0u);
    EXPECT_EQ(o.echoed_at_b, 200u);
    EXPECT_EQ(o.returned_to_a, 200u);
}

TEST(SimUdp, FaultyLinksNeverDeliverWrongBytesAndRepeatExactly) {
    std::size_t total_returned = 0;
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
        phy::FaultConfig f;
        f.seed = seed;
        f.loss = 0.02 * static_cast<double>(seed % 5);
        f.duplicate = 0.03;
        f.reorder = 0.05;
        f.corrupt = 0.02;
        f.delay = std::chrono::milliseconds(1);
        f.jitter = std::chrono::milliseconds(seed % 3);
        phy::FaultConfig g = f;
        g.seed = seed * 7919;
        auto o1 = run(f, g, 120);
        auto o2 = run(f, g, 120);
        EXPECT_EQ(o1, o2) << "seed " << seed;
        EXPECT_EQ(o1.mismatches, 0u) << "seed " << seed;
        total_returned += o1.returned_to_a;
    }
    // Loss of at most 8 % per frame, fragments included: most datagrams make the round trip.
    // (Corruption that hits an ARP reply can teach a wrong MAC for a reachable-time: a real
    // link's FCS would have caught it, so some seeds legitimately lose everything.)
    EXPECT_GT(total_returned, 40u * 120u / 2);
}
