// The send buffer: bytes the application wrote that the peer has not yet acknowledged, in a
// ring of fixed capacity allocated once. Byte 0 of the buffer is SND.UNA; bytes are read for
// (re)transmission by offset from SND.UNA and dropped when acknowledged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.hpp"

namespace ustack::tcp {

class SendBuffer {
  public:
    explicit SendBuffer(std::size_t capacity = 0);

    // Changes capacity; only allowed while empty (returns false otherwise).
    bool set_capacity(std::size_t capacity);
    std::size_t capacity() const { return cap_; }
    std::size_t size() const { return size_; }  // unacknowledged + unsent bytes
    std::size_t free_space() const { return cap_ - size_; }

    // Appends as much of data as fits; returns bytes taken.
    std::size_t append(ByteSpan data);

    // Copies len bytes starting `offset` bytes after the first held byte into out (which must
    // hold len bytes). offset + len must not exceed size().
    void copy_out(std::size_t offset, std::size_t len, std::byte* out) const;
    // The same, returning the one's-complement sum of the bytes copied as
    // wire::checksum_accumulate() does: the checksum is summed in the copy's one pass.
    std::uint64_t copy_out_summed(std::size_t offset, std::size_t len, std::byte* out) const;

    // Drops the first n bytes (acknowledged). n must not exceed size().
    void consume(std::size_t n);

  private:
    std::vector<std::byte> ring_;  // allocated lazily on first append
    std::size_t cap_ = 0;
    std::size_t head_ = 0;  // index of the first held byte
    std::size_t size_ = 0;
};

}  // namespace ustack::tcp
