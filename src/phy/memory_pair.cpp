#include "phy/memory_pair.hpp"

#include <algorithm>
#include <cstring>
#include <memory>

#include "phy/offload.hpp"

namespace ustack::phy {

namespace {
constexpr std::uint32_t kEthernetHeader = 14;
constexpr std::uint32_t kMaxIpPacket = 65535;
}  // namespace

// One direction of the link: a fixed set of frame slots, each as large as the biggest frame
// the link carries, and a FIFO of the slots that hold frames. Free slots are kept on a stack,
// so the one reused next is the one freed last (still in the cache); a slot the receiving end
// has lent out by receive_view() is neither queued nor free until it comes back.
struct MemoryDevice::Ring {
    struct Slot {
        std::unique_ptr<std::byte[]> data;  // slot_size bytes, untouched until first used
        std::size_t len = 0;
        FrameMeta meta;
    };
    std::size_t slot_size;
    std::vector<Slot> slots;
    std::vector<std::uint32_t> queue;  // ring of slot indices; the oldest frame at head
    std::size_t head = 0;
    std::size_t count = 0;
    std::vector<std::uint32_t> free;  // stack of free slot indices

    Ring(std::size_t frames, std::size_t max_frame)
        : slot_size(max_frame), slots(frames), queue(frames) {
        free.reserve(frames);
        for (std::size_t i = frames; i-- > 0;) {
            slots[i].data = std::make_unique_for_overwrite<std::byte[]>(max_frame);
            free.push_back(static_cast<std::uint32_t>(i));
        }
    }
    bool full() const { return free.empty(); }
    // The slot the next frame goes into (only when not full).
    Slot& next_free() { return slots[free.back()]; }
    void push() {
        queue[(head + count) % queue.size()] = free.back();
        free.pop_back();
        ++count;
    }
    // Takes the oldest frame's slot off the queue; it is the caller's until release().
    std::uint32_t pop() {
        const std::uint32_t i = queue[head];
        head = (head + 1) % queue.size();
        --count;
        return i;
    }
    void release(std::uint32_t i) { free.push_back(i); }
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
    release_received();
    if (rx_->count == 0) return std::size_t{0};
    const std::uint32_t i = rx_->pop();
    const Ring::Slot& s = rx_->slots[i];
    if (s.len > buf.size()) {
        rx_->release(i);
        ++counters_.rx_dropped_too_big;
        return std::size_t{0};
    }
    std::memcpy(buf.data(), s.data.get(), s.len);
    meta = s.meta;
    const std::size_t n = s.len;
    rx_->release(i);
    ++counters_.rx_frames;
    counters_.rx_bytes += n;
    return n;
}

DeviceResult<ByteSpan> MemoryDevice::receive_view(MutableByteSpan /*scratch*/, FrameMeta& meta,
                                                  Instant /*now*/) {
    release_received();
    if (rx_->count == 0) return ByteSpan{};
    lent_rx_ = rx_->pop();
    const Ring::Slot& s = rx_->slots[lent_rx_];
    // The next frame's headers are wanted soon after this one is processed: ask for them now.
    if (rx_->count != 0) {
        const std::byte* next = rx_->slots[rx_->queue[rx_->head]].data.get();
        __builtin_prefetch(next);
        __builtin_prefetch(next + 64);
    }
    meta = s.meta;
    ++counters_.rx_frames;
    counters_.rx_bytes += s.len;
    return ByteSpan{s.data.get(), s.len};
}

void MemoryDevice::release_received() {
    if (lent_rx_ == kNoSlot) return;
    rx_->release(lent_rx_);
    lent_rx_ = kNoSlot;
}

MutableByteSpan MemoryDevice::tx_buffer(std::size_t min_size) {
    if (tx_->full() || min_size > tx_->slot_size) return {};
    return {tx_->next_free().data.get(), tx_->slot_size};
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
    Ring::Slot& s = tx_->next_free();
    // A frame built in the buffer tx_buffer() lent is already in place.
    if (frame.data() != s.data.get()) std::memcpy(s.data.get(), frame.data(), frame.size());
    s.len = frame.size();
    s.meta = meta;
    if (meta.needs_csum && !caps_.tx_csum_offload) {
        if (!complete_checksum(MutableByteSpan(s.data.get(), s.len), meta, caps_.link)) {
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
