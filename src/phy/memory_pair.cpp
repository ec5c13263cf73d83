#include "phy/memory_pair.hpp"

#include <algorithm>
#include <cstring>

#include "phy/offload.hpp"

namespace ustack::phy {

namespace {
constexpr std::uint32_t kEthernetHeader = 14;
constexpr std::uint32_t kMaxIpPacket = 65535;
}  // namespace

// A fixed ring of frame slots, each as large as the biggest frame the link carries.
struct MemoryDevice::Ring {
    struct Slot {
        std::vector<std::byte> data;
        std::size_t len = 0;
        FrameMeta meta;
    };
    std::vector<Slot> slots;
    std::size_t head = 0;  // next slot to read
    std::size_t count = 0;

    Ring(std::size_t frames, std::size_t max_frame) : slots(frames) {
        for (auto& s : slots)
            s.data.resize(max_frame);
    }
    bool full() const { return count == slots.size(); }
    Slot& back() { return slots[(head + count) % slots.size()]; }
    Slot& front() { return slots[head]; }
    void push() { ++count; }
    void pop() {
        head = (head + 1) % slots.size();
        --count;
    }
};

MemoryLink::Pair MemoryLink::make_pair(LinkType link, std::uint32_t mtu) {
    MemoryLinkOptions o;
    o.link = link;
    o.mtu = mtu;
    return make_pair(o);
}

MemoryLink::Pair MemoryLink::make_pair(const MemoryLinkOptions& o) {
    DeviceCaps caps;
    caps.link = o.link;
    caps.mtu = o.mtu;
    const std::uint32_t l2 = o.link == LinkType::kEthernet ? kEthernetHeader : 0;
    caps.max_frame = (o.offload ? std::max(o.mtu, kMaxIpPacket) : o.mtu) + l2;
    caps.tx_csum_offload = o.offload;
    caps.tx_tso = o.offload;
    caps.rx_offload = o.offload;
    const std::size_t frames = std::max<std::uint32_t>(o.queue_frames, 1);
    auto a_to_b = std::make_shared<MemoryDevice::Ring>(frames, caps.max_frame);
    auto b_to_a = std::make_shared<MemoryDevice::Ring>(frames, caps.max_frame);
    return {std::make_unique<MemoryDevice>("mem0", caps, b_to_a, a_to_b),
            std::make_unique<MemoryDevice>("mem1", caps, a_to_b, b_to_a)};
}

MemoryDevice::MemoryDevice(std::string name, DeviceCaps caps, std::shared_ptr<Ring> rx,
                           std::shared_ptr<Ring> tx)
    : name_(std::move(name)), caps_(caps), rx_(std::move(rx)), tx_(std::move(tx)) {}

MemoryDevice::~MemoryDevice() = default;

DeviceResult<std::size_t> MemoryDevice::receive(MutableByteSpan buf, FrameMeta& meta,
                                                Instant /*now*/) {
    if (rx_->count == 0) return std::size_t{0};
    Ring::Slot& s = rx_->front();
    if (s.len > buf.size()) {
        rx_->pop();
        ++counters_.rx_dropped_too_big;
        return std::size_t{0};
    }
    std::memcpy(buf.data(), s.data.data(), s.len);
    meta = s.meta;
    const std::size_t n = s.len;
    rx_->pop();
    ++counters_.rx_frames;
    counters_.rx_bytes += n;
    return n;
}

DeviceResult<void> MemoryDevice::send(ByteSpan frame, const FrameMeta& meta, Instant /*now*/) {
    const bool gso = meta.gso != FrameMeta::Gso::kNone;
    if (gso && !caps_.tx_tso) {
        ++counters_.tx_dropped_unsupported;
        return {};
    }
    const std::size_t l2 = caps_.link == LinkType::kEthernet ? kEthernetHeader : 0;
    const std::size_t limit = gso ? caps_.max_frame : caps_.mtu + l2;
    if (frame.size() > limit || frame.empty()) {
        ++counters_.tx_dropped_too_big;
        return {};
    }
    if (tx_->full()) {
        ++counters_.tx_dropped_queue_full;
        return {};
    }
    Ring::Slot& s = tx_->back();
    std::memcpy(s.data.data(), frame.data(), frame.size());
    s.len = frame.size();
    s.meta = meta;
    if (meta.needs_csum && !caps_.tx_csum_offload) {
        if (!complete_checksum(MutableByteSpan(s.data.data(), s.len), meta, caps_.link)) {
            ++counters_.tx_dropped_unsupported;
            return {};
        }
        s.meta = FrameMeta{};
    }
    tx_->push();
    ++counters_.tx_frames;
    counters_.tx_bytes += frame.size();
    return {};
}

bool MemoryDevice::has_pending(Instant /*now*/) const {
    return rx_->count != 0;
}

std::size_t MemoryDevice::queued() const {
    return rx_->count;
}

}  // namespace ustack::phy
