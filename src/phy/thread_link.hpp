// ThreadLink: an in-memory pair of L3 devices whose two ends may be driven by different threads
// (two posix::Runtime instances, say). Each end has an eventfd that is readable while frames
// wait for it, so an event loop or a runtime thread sleeps until the other side sends.
// Frames are bare IPv4 datagrams; a full queue drops and counts, like a link.
#pragma once

#include <memory>
#include <utility>

#include "phy/device.hpp"

namespace ustack::phy {

class ThreadLinkDevice;

struct ThreadLinkOptions {
    std::uint32_t mtu = 1500;
    std::size_t queue_frames = 1024;  // each direction
};

class ThreadLink {
  public:
    using Pair = std::pair<std::unique_ptr<ThreadLinkDevice>, std::unique_ptr<ThreadLinkDevice>>;
    // Fails only when the OS refuses an eventfd.
    static DeviceResult<Pair> make_pair(const ThreadLinkOptions& options = {});
};

class ThreadLinkDevice final : public Device {
  public:
    struct Queue;  // one direction, shared by both ends

    ThreadLinkDevice(std::string name, DeviceCaps caps, std::shared_ptr<Queue> rx,
                     std::shared_ptr<Queue> tx);
    ~ThreadLinkDevice() override;

    const DeviceCaps& caps() const override { return caps_; }
    std::string name() const override { return name_; }
    DeviceResult<std::size_t> receive(MutableByteSpan buf, FrameMeta& meta, Instant now) override;
    DeviceResult<void> send(ByteSpan frame, const FrameMeta& meta, Instant now) override;
    int fd() const override;
    DeviceCounters counters() const override;

  private:
    std::string name_;
    DeviceCaps caps_;
    std::shared_ptr<Queue> rx_;
    std::shared_ptr<Queue> tx_;
};

}  // namespace ustack::phy
