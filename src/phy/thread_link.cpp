#include "phy/thread_link.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <vector>

namespace ustack::phy {

struct ThreadLinkDevice::Queue {
    struct Frame {
        std::vector<std::byte> data;
    };
    std::mutex mu;
    std::deque<Frame> frames;
    std::vector<Frame> spare;  // emptied frames kept for reuse: no allocation per frame
    std::size_t limit = 0;
    int efd = -1;  // readable while frames is not empty
    DeviceCounters counters;

    ~Queue() {
        if (efd >= 0) ::close(efd);
    }
};

DeviceResult<ThreadLink::Pair> ThreadLink::make_pair(const ThreadLinkOptions& o) {
    auto a = std::make_shared<ThreadLinkDevice::Queue>();  // towards a
    auto b = std::make_shared<ThreadLinkDevice::Queue>();  // towards b
    for (auto* q : {a.get(), b.get()}) {
        q->limit = o.queue_frames;
        q->efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (q->efd < 0) return unexpected(DeviceError{errno, std::strerror(errno)});
    }
    DeviceCaps caps;
    caps.link = LinkType::kIp;
    caps.mtu = o.mtu;
    caps.max_frame = o.mtu;
    return Pair{std::make_unique<ThreadLinkDevice>("tlink-a", caps, a, b),
                std::make_unique<ThreadLinkDevice>("tlink-b", caps, b, a)};
}

ThreadLinkDevice::ThreadLinkDevice(std::string name, DeviceCaps caps, std::shared_ptr<Queue> rx,
                                   std::shared_ptr<Queue> tx)
    : name_(std::move(name)), caps_(caps), rx_(std::move(rx)), tx_(std::move(tx)) {}

ThreadLinkDevice::~ThreadLinkDevice() = default;

int ThreadLinkDevice::fd() const {
    return rx_->efd;
}

DeviceCounters ThreadLinkDevice::counters() const {
    DeviceCounters c;
    {
        std::lock_guard lk(rx_->mu);
        c.rx_frames = rx_->counters.rx_frames;
        c.rx_bytes = rx_->counters.rx_bytes;
        c.rx_dropped_too_big = rx_->counters.rx_dropped_too_big;
    }
    std::lock_guard lk(tx_->mu);
    c.tx_frames = tx_->counters.tx_frames;
    c.tx_bytes = tx_->counters.tx_bytes;
    c.tx_dropped_queue_full = tx_->counters.tx_dropped_queue_full;
    c.tx_dropped_too_big = tx_->counters.tx_dropped_too_big;
    c.tx_dropped_unsupported = tx_->counters.tx_dropped_unsupported;
    return c;
}

DeviceResult<std::size_t> ThreadLinkDevice::receive(MutableByteSpan buf, FrameMeta& meta, Instant) {
    meta = FrameMeta{};
    std::lock_guard lk(rx_->mu);
    if (rx_->frames.empty()) return std::size_t{0};
    auto f = std::move(rx_->frames.front());
    rx_->frames.pop_front();
    if (rx_->frames.empty()) {
        std::uint64_t v;
        [[maybe_unused]] auto n = ::read(rx_->efd, &v, sizeof v);
    }
    std::size_t len = f.data.size();
    bool fits = len <= buf.size();
    if (fits) {
        std::memcpy(buf.data(), f.data.data(), len);
        ++rx_->counters.rx_frames;
        rx_->counters.rx_bytes += len;
    } else {
        ++rx_->counters.rx_dropped_too_big;
    }
    rx_->spare.push_back(std::move(f));
    return fits ? len : std::size_t{0};
}

DeviceResult<void> ThreadLinkDevice::send(ByteSpan frame, const FrameMeta& meta, Instant) {
    std::lock_guard lk(tx_->mu);
    if (meta.needs_csum || meta.gso != FrameMeta::Gso::kNone) {
        ++tx_->counters.tx_dropped_unsupported;
        return {};
    }
    if (frame.size() > caps_.mtu) {
        ++tx_->counters.tx_dropped_too_big;
        return {};
    }
    if (tx_->frames.size() >= tx_->limit) {
        ++tx_->counters.tx_dropped_queue_full;
        return {};
    }
    Queue::Frame f;
    if (!tx_->spare.empty()) {
        f = std::move(tx_->spare.back());
        tx_->spare.pop_back();
    }
    f.data.assign(frame.begin(), frame.end());
    const bool was_empty = tx_->frames.empty();
    tx_->frames.push_back(std::move(f));
    ++tx_->counters.tx_frames;
    tx_->counters.tx_bytes += frame.size();
    if (was_empty) {
        std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(tx_->efd, &one, sizeof one);
    }
    return {};
}

}  // namespace ustack::phy
