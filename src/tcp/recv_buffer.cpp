#include "tcp/recv_buffer.hpp"

#include <algorithm>
#include <cstring>

#include "wire/checksum.hpp"

namespace ustack::tcp {

namespace {

// At most this many disjoint out-of-order ranges are held. A segment that would open one more
// is dropped whole (write() reports 0 and nothing is stored); the peer retransmits it later.
// Data that extends or joins ranges already held is always accepted, since it does not add to
// the count. This bounds the work per write and keeps the range list from reallocating.
constexpr std::size_t kMaxOutOfOrderRanges = 64;

}  // namespace

RecvBuffer::RecvBuffer(std::size_t capacity) : cap_(capacity) {}

bool RecvBuffer::set_capacity(std::size_t capacity) {
    if (readable_ != 0 || !ooo_.empty()) return false;
    if (capacity != cap_) {
        // The ring is allocated again, at the new size, on the next write.
        ring_.clear();
        ring_.shrink_to_fit();
        cap_ = capacity;
    }
    head_ = 0;
    return true;
}

void RecvBuffer::allocate() {
    if (ring_.size() == cap_) return;
    // The only allocations, on first use: the ring, and room for the most ranges ever held (one
    // more while a range at offset 0 is being turned into readable bytes).
    ring_.resize(cap_);
    ooo_.reserve(kMaxOutOfOrderRanges + 1);
}

void RecvBuffer::store(std::size_t pos, ByteSpan data) {
    if (data.data() == ring_.data() + pos) return;  // staged
    const std::size_t first = std::min(data.size(), cap_ - pos);
    std::memcpy(ring_.data() + pos, data.data(), first);
    if (data.size() > first) std::memcpy(ring_.data(), data.data() + first, data.size() - first);
}

ByteSpan RecvBuffer::stage(std::size_t offset, ByteSpan data, std::uint64_t& sum) {
    if (data.empty() || offset > free_space() || data.size() > free_space() - offset) return {};
    const std::size_t begin = offset;
    const std::size_t end = offset + data.size();
    for (const Range& r : ooo_)
        if (r.begin < end && begin < r.end) return {};
    const std::size_t pos = (head_ + readable_ + offset) % cap_;
    if (data.size() > cap_ - pos) return {};
    allocate();
    sum = wire::checksum_copy(ring_.data() + pos, data);
    return ByteSpan{ring_.data() + pos, data.size()};
}

std::size_t RecvBuffer::write(std::size_t offset, ByteSpan data) {
    // Only what lies inside the room after the readable bytes can be kept.
    const std::size_t room = free_space();
    if (data.empty() || offset >= room) return 0;
    const std::size_t len = std::min(data.size(), room - offset);
    const std::size_t begin = offset;
    const std::size_t end = offset + len;
    allocate();
    const std::size_t pos = (head_ + readable_ + offset) % cap_;

    // In order with nothing held out of order (a transfer without loss): readable at once.
    if (begin == 0 && ooo_.empty()) {
        store(pos, data.first(len));
        readable_ += len;
        return len;
    }

    // Ranges [lo, hi) of ooo_ overlap or touch [begin, end) and merge with it.
    const auto lo = std::partition_point(ooo_.begin(), ooo_.end(),
                                         [&](const Range& r) { return r.end < begin; });
    const auto hi =
        std::partition_point(lo, ooo_.end(), [&](const Range& r) { return r.begin <= end; });
    if (lo == hi && begin != 0 && ooo_.size() >= kMaxOutOfOrderRanges) return 0;

    // Store the bytes at their place. Bytes already held out of order are overwritten with what
    // the peer sent again, which TCP requires to be the same.
    store(pos, data.first(len));

    // Record the range, merged with its neighbours.
    const std::size_t index = static_cast<std::size_t>(lo - ooo_.begin());
    if (lo == hi) {
        ooo_.insert(lo, Range{begin, end});
    } else {
        Range merged{std::min(begin, lo->begin), std::max(end, (hi - 1)->end)};
        *lo = merged;
        ooo_.erase(lo + 1, hi);
    }

    // RFC 9293 3.10.7.4: data at RCV.NXT becomes readable, together with every out-of-order byte
    // it now reaches. The remaining ranges are shifted, since they are relative to RCV.NXT.
    if (index != 0 || ooo_.front().begin != 0) return 0;
    const std::size_t advance = ooo_.front().end;
    readable_ += advance;
    ooo_.erase(ooo_.begin());
    for (Range& r : ooo_) {
        r.begin -= advance;
        r.end -= advance;
    }
    return advance;
}

std::size_t RecvBuffer::peek(MutableByteSpan out) const {
    const std::size_t n = std::min(out.size(), readable_);
    if (n == 0) return 0;
    const std::size_t first = std::min(n, cap_ - head_);
    std::memcpy(out.data(), ring_.data() + head_, first);
    if (n > first) std::memcpy(out.data() + first, ring_.data(), n - first);
    return n;
}

std::size_t RecvBuffer::read(MutableByteSpan out) {
    const std::size_t n = peek(out);
    readable_ -= n;
    // The out-of-order ranges are relative to head_ + readable_, which does not move here.
    head_ += n;
    if (head_ >= cap_) head_ -= cap_;
    if (readable_ == 0 && ooo_.empty()) head_ = 0;
    return n;
}

std::size_t RecvBuffer::out_of_order_bytes() const {
    std::size_t total = 0;
    for (const Range& r : ooo_)
        total += r.end - r.begin;
    return total;
}

void RecvBuffer::drop_out_of_order() {
    ooo_.clear();
}

}  // namespace ustack::tcp
