#include "tcp/send_buffer.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "wire/checksum.hpp"

namespace ustack::tcp {

SendBuffer::SendBuffer(std::size_t capacity) : cap_(capacity) {}

bool SendBuffer::set_capacity(std::size_t capacity) {
    if (size_ != 0) return false;
    if (capacity != cap_) {
        // The ring is allocated again, at the new size, on the next append.
        ring_.clear();
        ring_.shrink_to_fit();
        cap_ = capacity;
    }
    head_ = 0;
    return true;
}

std::size_t SendBuffer::append(ByteSpan data) {
    const std::size_t n = std::min(data.size(), free_space());
    if (n == 0) return 0;
    if (ring_.size() != cap_) ring_.resize(cap_);  // the one allocation, on first use

    // The free region starts right after the held bytes and may wrap past the end of the ring.
    std::size_t tail = head_ + size_;
    if (tail >= cap_) tail -= cap_;
    const std::size_t first = std::min(n, cap_ - tail);
    std::memcpy(ring_.data() + tail, data.data(), first);
    if (n > first) std::memcpy(ring_.data(), data.data() + first, n - first);
    size_ += n;
    return n;
}

void SendBuffer::copy_out(std::size_t offset, std::size_t len, std::byte* out) const {
    assert(offset <= size_ && len <= size_ - offset);
    if (len == 0) return;
    std::size_t pos = head_ + offset;
    if (pos >= cap_) pos -= cap_;
    const std::size_t first = std::min(len, cap_ - pos);
    std::memcpy(out, ring_.data() + pos, first);
    if (len > first) std::memcpy(out + first, ring_.data(), len - first);
}

std::uint64_t SendBuffer::copy_out_summed(std::size_t offset, std::size_t len,
                                          std::byte* out) const {
    assert(offset <= size_ && len <= size_ - offset);
    if (len == 0) return 0;
    std::size_t pos = head_ + offset;
    if (pos >= cap_) pos -= cap_;
    const std::size_t first = std::min(len, cap_ - pos);
    std::uint64_t sum = wire::checksum_copy(out, ByteSpan{ring_.data() + pos, first});
    if (len > first) {
        std::uint64_t rest = wire::checksum_copy(out + first, ByteSpan{ring_.data(), len - first});
        // RFC 1071 2(B): bytes that start at an odd offset add in byte-swapped.
        if (first % 2 != 0) {
            const std::uint16_t f = wire::checksum_fold(rest);
            rest = static_cast<std::uint16_t>((f >> 8) | (f << 8));
        }
        sum += rest;
    }
    return sum;
}

void SendBuffer::consume(std::size_t n) {
    assert(n <= size_);
    n = std::min(n, size_);
    size_ -= n;
    if (size_ == 0) {
        head_ = 0;  // keeps the next writes contiguous
        return;
    }
    head_ += n;
    if (head_ >= cap_) head_ -= cap_;
}

}  // namespace ustack::tcp
