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

// One end of a MemoryLink. All buffers are allocated when the pair is made: sending and
// receiving a frame copies it into and out of a preallocated ring slot and allocates nothing.
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
};

}  // namespace ustack::phy
