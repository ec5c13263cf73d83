// An in-memory link: two devices joined back to back, for tests and simulations. Frames sent on
// one end are received on the other, in order, through a bounded queue in each direction.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "phy/device.hpp"

namespace ustack::phy {

struct MemoryLinkOptions {
    LinkType link = LinkType::kIp;
    std::uint32_t mtu = 1500;
    // Frames each direction holds before send() drops (and counts) what does not fit.
    std::uint32_t queue_frames = 256;
    // Lets the two ends hand each other partial checksums and TCP super-segments as they are,
    // the way two virtio-net guests on one host do. Without it a needs_csum frame has its
    // checksum completed in software and a super-segment is dropped and counted.
    bool offload = false;
};

class MemoryDevice;

class MemoryLink {
  public:
    using Pair = std::pair<std::unique_ptr<MemoryDevice>, std::unique_ptr<MemoryDevice>>;

    static Pair make_pair(LinkType link, std::uint32_t mtu);
    static Pair make_pair(const MemoryLinkOptions& options);
};

// One end of a MemoryLink. All buffers are allocated when the pair is made and nothing is
// allocated per frame. send() and receive() copy a frame into and out of a preallocated slot;
// tx_buffer() and receive_view() lend the slot itself, so a stack can build a frame where the
// peer will read it and read it where it was built. Free slots are reused most recently freed
// first, so the slots in use stay few and warm in the cache however long the queue is.
class MemoryDevice final : public Device {
  public:
    struct Ring;  // one direction's queue, shared by both ends

    MemoryDevice(std::string name, DeviceCaps caps, std::shared_ptr<Ring> rx,
                 std::shared_ptr<Ring> tx);
    ~MemoryDevice() override;

    const DeviceCaps& caps() const override { return caps_; }
    std::string name() const override { return name_; }
    DeviceResult<std::size_t> receive(MutableByteSpan buf, FrameMeta& meta, Instant now) override;
    DeviceResult<void> send(ByteSpan frame, const FrameMeta& meta, Instant now) override;
    MutableByteSpan tx_buffer(std::size_t min_size) override;
    DeviceResult<ByteSpan> receive_view(MutableByteSpan scratch, FrameMeta& meta,
                                        Instant now) override;
    void release_received() override;
    bool has_pending(Instant now) const override;
    DeviceCounters counters() const override { return counters_; }

    // Frames queued towards this end and not yet received.
    std::size_t queued() const;

  private:
    std::string name_;
    DeviceCaps caps_;
    std::shared_ptr<Ring> rx_;
    std::shared_ptr<Ring> tx_;
    DeviceCounters counters_;
    static constexpr std::uint32_t kNoSlot = ~0u;
    std::uint32_t lent_rx_ = kNoSlot;  // the slot of rx_ receive_view() lent, until released
};

}  // namespace ustack::phy
