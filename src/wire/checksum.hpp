// Internet checksum (RFC 1071) with incremental update (RFC 1624).
#pragma once

#include <cstdint>

#include "common/bytes.hpp"
#include "wire/addr.hpp"

namespace ustack::wire {

// One's-complement sum of `data` added to `initial`, not yet folded or inverted. To sum several
// pieces, chain the calls; every piece but the last must have even length.
std::uint64_t checksum_accumulate(ByteSpan data, std::uint64_t initial = 0);

// Copies data to out (data.size() bytes, not overlapping) and returns what
// checksum_accumulate(data, initial) would: one pass over the bytes instead of two.
std::uint64_t checksum_copy(std::byte* out, ByteSpan data, std::uint64_t initial = 0);

// Folds a wide one's-complement sum to 16 bits (not inverted).
inline std::uint16_t checksum_fold(std::uint64_t sum) {
    // 64 -> 33 -> 32 bits, then 32 -> 17 -> 16 bits, each step adding the carries back in.
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

// The checksum field value for `data` (folded and inverted).
inline std::uint16_t internet_checksum(ByteSpan data, std::uint64_t initial = 0) {
    return static_cast<std::uint16_t>(~checksum_fold(checksum_accumulate(data, initial)));
}

// Sum of the TCP/UDP IPv4 pseudo-header (RFC 793 / RFC 768).
std::uint64_t pseudo_header_sum(Ipv4Addr src, Ipv4Addr dst, std::uint8_t protocol,
                                std::uint32_t length);

// RFC 1624 eqn. 3: new checksum after one 16-bit field changed from old_field to new_field.
std::uint16_t checksum_update16(std::uint16_t old_checksum, std::uint16_t old_field,
                                std::uint16_t new_field);
std::uint16_t checksum_update32(std::uint16_t old_checksum, std::uint32_t old_field,
                                std::uint32_t new_field);

namespace detail {
// For tests and benchmarks: whether the AVX2 code may run where the CPU has it (it does by
// default; otherwise the SSE2 code runs). Returns the previous setting.
bool checksum_allow_avx2(bool allow);
}  // namespace detail

// Reference implementation: a plain 16-bit loop. Kept for tests and the benchmark.
std::uint16_t internet_checksum_reference(ByteSpan data);

}  // namespace ustack::wire
