#include <gtest/gtest.h>

#include <vector>

#include "phy/memory_pair.hpp"
#include "test_phy_packets.hpp"

using namespace ustack;
using namespace ustack::phy;

namespace {

std::vector<std::byte> frame_with(std::uint8_t tag, std::size_t size) {
    std::vector<std::byte> f(size, std::byte{0});
    f[0] = static_cast<std::byte>(0x45);
    f[1] = static_cast<std::byte>(tag);
    return f;
}

}  // namespace

TEST(PhyMemoryPair, DeliversInOrderBothWays) {
    auto [a, b] = MemoryLink::make_pair(LinkType::kIp, 1500);
    EXPECT_EQ(a->caps().link, LinkType::kIp);
    EXPECT_EQ(a->caps().mtu, 1500u);
    EXPECT_EQ(a->fd(), -1);
    EXPECT_FALSE(b->has_pending(0ns));
    for (std::uint8_t i = 0; i < 3; ++i)
        ASSERT_TRUE(a->send(frame_with(i, 100 + i), {}, 0ns));
    ASSERT_TRUE(b->send(frame_with(9, 60), {}, 0ns));
    EXPECT_TRUE(b->has_pending(0ns));
    std::vector<std::byte> buf(1500);
    FrameMeta meta;
    for (std::uint8_t i = 0; i < 3; ++i) {
        auto n = b->receive(buf, meta, 0ns);
        ASSERT_TRUE(n);
        EXPECT_EQ(*n, 100u + i);
        EXPECT_EQ(buf[1], static_cast<std::byte>(i));
    }
    EXPECT_EQ(*b->receive(buf, meta, 0ns), 0u);
    EXPECT_FALSE(b->has_pending(0ns));
    auto n = a->receive(buf, meta, 0ns);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 60u);
    EXPECT_EQ(a->counters().tx_frames, 3u);
    EXPECT_EQ(a->counters().tx_bytes, 303u);
    EXPECT_EQ(b->counters().rx_frames, 3u);
}

TEST(PhyMemoryPair, QueueIsBoundedAndDropsAreCounted) {
    MemoryLinkOptions o;
    o.queue_frames = 4;
    auto [a, b] = MemoryLink::make_pair(o);
    for (std::uint8_t i = 0; i < 6; ++i)
        ASSERT_TRUE(a->send(frame_with(i, 64), {}, 0ns));
    EXPECT_EQ(a->counters().tx_frames, 4u);
    EXPECT_EQ(a->counters().tx_dropped_queue_full, 2u);
    EXPECT_EQ(b->queued(), 4u);
    std::vector<std::byte> buf(1500);
    FrameMeta meta;
    for (std::uint8_t i = 0; i < 4; ++i) {
        ASSERT_EQ(*b->receive(buf, meta, 0ns), 64u);
        EXPECT_EQ(buf[1], static_cast<std::byte>(i));
    }
    // The ring wraps around: room again after draining.
    ASSERT_TRUE(a->send(frame_with(7, 64), {}, 0ns));
    ASSERT_EQ(*b->receive(buf, meta, 0ns), 64u);
    EXPECT_EQ(buf[1], static_cast<std::byte>(7));
}

TEST(PhyMemoryPair, OversizeAndShortBuffers) {
    auto [a, b] = MemoryLink::make_pair(LinkType::kEthernet, 1500);
    EXPECT_EQ(a->caps().max_frame, 1514u);
    ASSERT_TRUE(a->send(frame_with(1, 1515), {}, 0ns));
    EXPECT_EQ(a->counters().tx_dropped_too_big, 1u);
    ASSERT_TRUE(a->send(frame_with(2, 1514), {}, 0ns));
    std::vector<std::byte> small(100);
    FrameMeta meta;
    EXPECT_EQ(*b->receive(small, meta, 0ns), 0u);
    EXPECT_EQ(b->counters().rx_dropped_too_big, 1u);
    EXPECT_FALSE(b->has_pending(0ns));
}

TEST(PhyMemoryPair, CompletesChecksumWithoutOffloadAndPassesMetaWithIt) {
    test_packets::PacketSpec spec;
    spec.checksum = test_packets::L4Checksum::kPartial;
    FrameMeta meta;
    const auto payload = test_packets::bytes_of("checksum me");
    const auto partial = test_packets::make_packet(spec, payload, &meta);
    spec.checksum = test_packets::L4Checksum::kFull;
    const auto full = test_packets::make_packet(spec, payload);
    std::vector<std::byte> buf(70000);
    {
        auto [a, b] = MemoryLink::make_pair(LinkType::kIp, 1500);
        ASSERT_TRUE(a->send(partial, meta, 0ns));
        FrameMeta got;
        auto n = b->receive(buf, got, 0ns);
        ASSERT_TRUE(n);
        EXPECT_FALSE(got.needs_csum);
        EXPECT_EQ(std::vector<std::byte>(buf.begin(), buf.begin() + *n), full);
        FrameMeta gso;
        gso.gso = FrameMeta::Gso::kTcpV4;
        ASSERT_TRUE(a->send(partial, gso, 0ns));
        EXPECT_EQ(a->counters().tx_dropped_unsupported, 1u);
    }
    {
        MemoryLinkOptions o;
        o.offload = true;
        auto [a, b] = MemoryLink::make_pair(o);
        EXPECT_TRUE(a->caps().tx_tso);
        EXPECT_EQ(a->caps().max_frame, 65535u);
        ASSERT_TRUE(a->send(partial, meta, 0ns));
        FrameMeta got;
        auto n = b->receive(buf, got, 0ns);
        ASSERT_TRUE(n);
        EXPECT_TRUE(got.needs_csum);
        EXPECT_EQ(got.csum_start, 20);
        EXPECT_EQ(got.csum_offset, 6);
        EXPECT_EQ(std::vector<std::byte>(buf.begin(), buf.begin() + *n), partial);
    }
}

// tx_buffer() lends the slot the next frame goes into; a frame built there is queued where it
// lies, and receive_view() on the other end lends that same slot until release_received().
TEST(PhyMemoryPair, LendsSlotsBothWaysWithoutCopying) {
    MemoryLinkOptions o;
    o.queue_frames = 2;
    auto [a, b] = MemoryLink::make_pair(o);
    MutableByteSpan slot = a->tx_buffer(100);
    ASSERT_GE(slot.size(), 1500u);
    EXPECT_TRUE(a->tx_buffer(1501).empty());  // larger than any slot
    const auto f = frame_with(5, 100);
    std::copy(f.begin(), f.end(), slot.begin());
    ASSERT_TRUE(a->send(ByteSpan{slot.data(), 100}, {}, 0ns));
    EXPECT_EQ(a->counters().tx_frames, 1u);
    std::vector<std::byte> scratch(1500);
    FrameMeta meta;
    auto v = b->receive_view(scratch, meta, 0ns);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->data(), slot.data());  // the very bytes a built
    EXPECT_EQ(std::vector<std::byte>(v->begin(), v->end()), f);
    EXPECT_EQ(b->counters().rx_frames, 1u);
    // The lent slot is neither queued nor free: one of the two slots is left for a.
    EXPECT_FALSE(b->has_pending(0ns));
    EXPECT_FALSE(a->tx_buffer(100).empty());
    ASSERT_TRUE(a->send(frame_with(6, 60), {}, 0ns));
    EXPECT_TRUE(a->tx_buffer(100).empty());
    ASSERT_TRUE(a->send(frame_with(7, 60), {}, 0ns));
    EXPECT_EQ(a->counters().tx_dropped_queue_full, 1u);
    b->release_received();
    b->release_received();  // twice is harmless
    // The slot freed last is lent first.
    EXPECT_EQ(a->tx_buffer(100).data(), slot.data());
    // receive() copies the next frame and also ends any loan.
    v = b->receive_view(scratch, meta, 0ns);
    ASSERT_TRUE(v);
    EXPECT_EQ((*v)[1], std::byte{6});
    ASSERT_EQ(*b->receive(scratch, meta, 0ns), 0u);
    EXPECT_EQ(a->tx_buffer(100).data(), v->data());
    v = b->receive_view(scratch, meta, 0ns);
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->empty());
}

// A frame sent by copy while a transmit buffer is lent replaces what was built there: the
// buffer is only good until the next send().
TEST(PhyMemoryPair, CopyingSendUsesTheLentSlot) {
    auto [a, b] = MemoryLink::make_pair(LinkType::kIp, 1500);
    MutableByteSpan slot = a->tx_buffer(64);
    ASSERT_FALSE(slot.empty());
    ASSERT_TRUE(a->send(frame_with(3, 64), {}, 0ns));
    EXPECT_EQ(slot[1], std::byte{3});
    EXPECT_NE(a->tx_buffer(64).data(), slot.data());
    std::vector<std::byte> buf(1500);
    FrameMeta meta;
    ASSERT_EQ(*b->receive(buf, meta, 0ns), 64u);
    EXPECT_EQ(buf[1], std::byte{3});
}
