// The receive buffer: in-order bytes waiting for the application, followed by out-of-order
// bytes held at their place (RFC 9293 3.10.7.4 "segment text"; RFC 2018 for the SACK blocks
// they produce). One ring of fixed capacity holds both, so an out-of-order segment costs no
// allocation; which out-of-order ranges are present is kept in a small sorted list.
//
// Offsets are relative to RCV.NXT (the first byte not yet received in order): offset 0 is the
// next in-order byte. The caller trims segments to the receive window before calling.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.hpp"
#include "tcp/seq.hpp"

namespace ustack::tcp {

class RecvBuffer {
  public:
    explicit RecvBuffer(std::size_t capacity = 0);

    bool set_capacity(std::size_t capacity);  // only while empty
    std::size_t capacity() const { return cap_; }

    // Bytes readable by the application (in order).
    std::size_t readable() const { return readable_; }
    // Room after the readable bytes: what the window may offer (out-of-order bytes sit inside it).
    std::size_t free_space() const { return cap_ - readable_; }

    // Stores data at `offset` bytes past RCV.NXT. Bytes beyond free_space() are dropped. Returns
    // how many bytes became readable in order (RCV.NXT advances by this much): data at offset 0
    // plus any out-of-order ranges it joins up with.
    std::size_t write(std::size_t offset, ByteSpan data);

    // Copies data to the place write(offset, data) would store it, summing it on the way (as
    // wire::checksum_copy does into `sum`), and returns the span of the ring it now occupies.
    // Handed to write() later, that span is not copied again. Until then the copy lies in free
    // space that no out-of-order range covers: nothing is readable or held, and a segment
    // dropped in between (a bad checksum) leaves the buffer as it was. Returns an empty span,
    // copying nothing, when the data does not fit there in one piece: past free_space(), over an
    // out-of-order range or across the end of the ring.
    ByteSpan stage(std::size_t offset, ByteSpan data, std::uint64_t& sum);

    // Copies up to out.size() readable bytes out and drops them; returns bytes read.
    std::size_t read(MutableByteSpan out);
    // Copies without dropping (MSG_PEEK).
    std::size_t peek(MutableByteSpan out) const;

    // Out-of-order ranges held, as offsets from RCV.NXT: [begin, end), sorted, disjoint.
    struct Range {
        std::size_t begin, end;
    };
    const std::vector<Range>& out_of_order() const { return ooo_; }
    std::size_t out_of_order_bytes() const;

    // Drops out-of-order data (memory pressure, RFC 2018 allows reneging) and counts it.
    void drop_out_of_order();

  private:
    void allocate();
    // Stores data at ring position pos (wrapping), unless stage() already put it there.
    void store(std::size_t pos, ByteSpan data);

    std::vector<std::byte> ring_;  // allocated lazily on first write
    std::size_t cap_ = 0;
    std::size_t head_ = 0;      // index of the first readable byte
    std::size_t readable_ = 0;  // in-order bytes
    std::vector<Range> ooo_;    // relative to RCV.NXT (i.e. to head_ + readable_)
};

}  // namespace ustack::tcp
