#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "phy/fault.hpp"
#include "phy/memory_pair.hpp"

using namespace ustack;
using namespace ustack::phy;

namespace {

struct Delivered {
    std::uint32_t id;
    std::vector<std::byte> bytes;
    Instant at;
    friend bool operator==(const Delivered&, const Delivered&) = default;
};

std::vector<std::byte> numbered_frame(std::uint32_t id, std::size_t size) {
    std::vector<std::byte> f(size);
    for (std::size_t i = 0; i < size; ++i)
        f[i] = static_cast<std::byte>((id * 7 + i) & 0xff);
    f[0] = std::byte{0x45};
    store_be32(f.data() + 4, id);
    return f;
}

MemoryLink::Pair big_pair() {
    MemoryLinkOptions o;
    o.queue_frames = 8192;
    return MemoryLink::make_pair(o);
}

// Sends `frames` frames through a FaultDevice in virtual time, one every `gap`, and collects what
// the far end receives and when, advancing time straight to each next event.
std::vector<Delivered> run(const FaultConfig& cfg, std::uint32_t frames, Duration gap,
                           std::size_t size = 200, FaultCounters* counters = nullptr) {
    auto [a, b] = big_pair();
    FaultDevice fault(std::move(a), cfg);
    std::vector<Delivered> out;
    std::vector<std::byte> buf(2000);
    Instant now{0};
    std::uint32_t next = 0;
    for (;;) {
        const Instant next_send = next < frames ? Instant{gap * next} : kNever;
        const Instant t = std::min(next_send, fault.next_deadline());
        if (t == kNever) break;
        now = std::max(now, t);
        if (next_send <= now) {
            EXPECT_TRUE(fault.send(numbered_frame(next, size), {}, now));
            ++next;
        } else {
            FrameMeta m;
            EXPECT_TRUE(fault.receive(buf, m, now));  // flushes the egress frames now due
        }
        FrameMeta m;
        for (;;) {
            auto n = b->receive(buf, m, now);
            if (!n || *n == 0) break;
            out.push_back({load_be32(buf.data() + 4), {buf.begin(), buf.begin() + *n}, now});
        }
    }
    if (counters != nullptr) *counters = fault.egress_counters();
    return out;
}

FaultConfig everything(std::uint64_t seed) {
    FaultConfig c;
    c.seed = seed;
    c.loss = 0.1;
    c.duplicate = 0.1;
    c.reorder = 0.1;
    c.corrupt = 0.1;
    c.delay = 2ms;
    c.jitter = 1ms;
    return c;
}

}  // namespace

TEST(PhyXoshiro, RepeatsPerSeedAndStaysInRange) {
    Xoshiro256 a(7), b(7), c(8);
    bool differs = false;
    for (int i = 0; i < 1000; ++i) {
        const std::uint64_t x = a.next();
        EXPECT_EQ(x, b.next());
        differs |= x != c.next();
        const double u = a.uniform();
        EXPECT_GE(u, 0.0);
        EXPECT_LT(u, 1.0);
        EXPECT_LT(a.below(10), 10u);
        b.uniform();
        b.below(10);
    }
    EXPECT_TRUE(differs);
}

TEST(PhyFault, SameSeedGivesTheSameFaultsEveryRun) {
    FaultCounters c1, c2;
    const auto first = run(everything(42), 500, 100us, 200, &c1);
    const auto second = run(everything(42), 500, 100us, 200, &c2);
    ASSERT_EQ(first.size(), second.size());
    EXPECT_TRUE(first == second);
    EXPECT_EQ(c1.lost, c2.lost);
    EXPECT_GT(c1.lost, 0u);
    EXPECT_GT(c1.duplicated, 0u);
    EXPECT_GT(c1.reordered, 0u);
    EXPECT_GT(c1.corrupted, 0u);
    EXPECT_EQ(c1.frames_in, 500u);
    EXPECT_EQ(c1.delivered, 500u - c1.lost + c1.duplicated);
    EXPECT_EQ(first.size(), c1.delivered);

    const auto other = run(everything(43), 500, 100us);
    EXPECT_FALSE(first == other);
}

TEST(PhyFault, CorruptionFlipsExactlyOneBit) {
    FaultConfig c;
    c.corrupt = 1.0;
    const auto got = run(c, 50, 1ms);
    ASSERT_EQ(got.size(), 50u);
    for (std::uint32_t i = 0; i < got.size(); ++i) {
        const auto want = numbered_frame(i, 200);
        int bits = 0;
        for (std::size_t k = 0; k < want.size(); ++k)
            bits += __builtin_popcount(static_cast<unsigned>(want[k] ^ got[i].bytes[k]));
        EXPECT_EQ(bits, 1) << "frame " << i;
    }
}

TEST(PhyFault, ReorderKeepsEveryFrameButChangesTheOrder) {
    FaultConfig c;
    c.seed = 5;
    c.reorder = 0.2;
    c.reorder_distance = 3;
    FaultCounters counters;
    const auto got = run(c, 300, 100us, 100, &counters);
    ASSERT_EQ(got.size(), 300u);
    std::vector<std::uint32_t> ids;
    for (const auto& d : got)
        ids.push_back(d.id);
    EXPECT_FALSE(std::is_sorted(ids.begin(), ids.end()));
    auto sorted = ids;
    std::sort(sorted.begin(), sorted.end());
    for (std::uint32_t i = 0; i < 300; ++i)
        EXPECT_EQ(sorted[i], i);
    EXPECT_GT(counters.reordered, 30u);
    // A held-back frame is passed by at most reorder_distance frames that are not themselves
    // held back: nothing arrives far from its place.
    for (std::size_t pos = 0; pos < ids.size(); ++pos)
        EXPECT_LE(static_cast<long>(pos) - static_cast<long>(ids[pos]), 10) << pos;
}

TEST(PhyFault, HeldBackFrameIsReleasedWhenNoMoreFramesCome) {
    FaultConfig c;
    c.reorder = 1.0;
    c.reorder_max_hold = 7ms;
    const auto got = run(c, 1, 1ms);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].at, Instant{7ms});
}

TEST(PhyFault, DelayKeepsOrderAndReportsDeadlines) {
    auto [a, b] = big_pair();
    FaultConfig c;
    c.delay = 5ms;
    FaultDevice fault(std::move(a), c);
    EXPECT_EQ(fault.next_deadline(), kNever);
    ASSERT_TRUE(fault.send(numbered_frame(0, 60), {}, Instant{0ms}));
    EXPECT_EQ(fault.next_deadline(), Instant{5ms});
    ASSERT_TRUE(fault.send(numbered_frame(1, 60), {}, Instant{1ms}));
    ASSERT_TRUE(fault.send(numbered_frame(2, 60), {}, Instant{2ms}));
    EXPECT_FALSE(b->has_pending(Instant{4ms}));
    EXPECT_FALSE(fault.has_pending(Instant{4ms}));
    EXPECT_TRUE(fault.has_pending(Instant{5ms}));
    std::vector<std::byte> buf(1500);
    FrameMeta m;
    EXPECT_EQ(*fault.receive(buf, m, Instant{5ms}), 0u);  // flushes frame 0 only
    EXPECT_EQ(b->queued(), 1u);
    EXPECT_EQ(fault.next_deadline(), Instant{6ms});
    EXPECT_EQ(*fault.receive(buf, m, Instant{10ms}), 0u);
    ASSERT_EQ(b->queued(), 3u);
    for (std::uint32_t i = 0; i < 3; ++i) {
        ASSERT_EQ(*b->receive(buf, m, Instant{10ms}), 60u);
        EXPECT_EQ(load_be32(buf.data() + 4), i);
    }
    EXPECT_EQ(fault.egress_counters().delayed, 3u);
}

TEST(PhyFault, JitterWithinBoundsAndInOrderUnlessAsked) {
    FaultConfig c;
    c.seed = 9;
    c.delay = 5ms;
    c.jitter = 3ms;
    const auto got = run(c, 200, 500us);
    ASSERT_EQ(got.size(), 200u);
    for (std::uint32_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].id, i);
        const Instant sent{500us * i};
        EXPECT_GE(got[i].at - sent, Duration{5ms});
        EXPECT_LE(got[i].at - sent, Duration{8ms});
    }
    c.jitter_reorders = true;
    const auto loose = run(c, 200, 500us);
    ASSERT_EQ(loose.size(), 200u);
    std::vector<std::uint32_t> ids;
    for (const auto& d : loose)
        ids.push_back(d.id);
    EXPECT_FALSE(std::is_sorted(ids.begin(), ids.end()));
}

TEST(PhyFault, RateLimiterSerialisesInVirtualTimeAndBoundsItsQueue) {
    FaultConfig c;
    c.rate_bps = 1'000'000;  // 1250 bytes take 10 ms
    c.queue_limit_bytes = 4000;
    auto [a, b] = big_pair();
    FaultDevice fault(std::move(a), c);
    for (std::uint32_t i = 0; i < 5; ++i)
        ASSERT_TRUE(fault.send(numbered_frame(i, 1250), {}, Instant{0ms}));
    EXPECT_EQ(fault.egress_counters().rate_dropped, 2u);
    std::vector<std::byte> buf(1500);
    FrameMeta m;
    std::vector<Instant> arrivals;
    for (Instant t{0}; t <= Instant{50ms}; t += 1ms) {
        (void)fault.receive(buf, m, t);
        while (*b->receive(buf, m, t) > 0)
            arrivals.push_back(t);
    }
    EXPECT_EQ(arrivals, (std::vector<Instant>{10ms, 20ms, 30ms}));
    // Once drained, the link is idle again: the next frame takes its own 10 ms only.
    ASSERT_TRUE(fault.send(numbered_frame(9, 1250), {}, Instant{100ms}));
    EXPECT_EQ(fault.next_deadline(), Instant{110ms});
}

TEST(PhyFault, MtuDropsBiggerFrames) {
    FaultConfig c;
    c.mtu = 1000;
    auto [a, b] = big_pair();
    FaultDevice fault(std::move(a), c);
    ASSERT_TRUE(fault.send(numbered_frame(0, 1001), {}, 0ns));
    ASSERT_TRUE(fault.send(numbered_frame(1, 1000), {}, 0ns));
    EXPECT_EQ(fault.egress_counters().mtu_dropped, 1u);
    EXPECT_EQ(b->queued(), 1u);
}

TEST(PhyFault, IngressFaultsApplyToReceivedFrames) {
    auto [a, b] = big_pair();
    FaultConfig in;
    in.delay = 3ms;
    FaultDevice fault(std::move(b), FaultConfig{}, in);
    ASSERT_TRUE(a->send(numbered_frame(4, 80), {}, 0ns));
    EXPECT_TRUE(fault.has_pending(0ns));
    std::vector<std::byte> buf(1500);
    FrameMeta m;
    EXPECT_EQ(*fault.receive(buf, m, 0ns), 0u);
    EXPECT_FALSE(fault.has_pending(Instant{2ms}));
    EXPECT_EQ(fault.next_deadline(), Instant{3ms});
    EXPECT_EQ(*fault.receive(buf, m, Instant{3ms}), 80u);
    EXPECT_EQ(load_be32(buf.data() + 4), 4u);
    ASSERT_NE(fault.ingress_counters(), nullptr);
    EXPECT_EQ(fault.ingress_counters()->delivered, 1u);
    EXPECT_EQ(fault.counters().rx_frames, 1u);
}
