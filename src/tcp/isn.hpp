// Initial sequence numbers per RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport,
// secretkey), with M a 4-microsecond clock and F SipHash-2-4 under a per-stack random key.
#pragma once

#include <array>
#include <cstdint>

#include "common/time.hpp"
#include "wire/addr.hpp"

namespace ustack::tcp {

// SipHash-2-4 (Aumasson and Bernstein) over `len` bytes with a 128-bit key.
std::uint64_t siphash24(const std::array<std::uint8_t, 16>& key, const std::uint8_t* data,
                        std::size_t len);

class IsnGenerator {
  public:
    explicit IsnGenerator(const std::array<std::uint8_t, 16>& key) : key_(key) {}
    std::uint32_t isn(wire::Ipv4Addr local, std::uint16_t lport, wire::Ipv4Addr remote,
                      std::uint16_t rport, Instant now) const;
    // The keyed hash alone (for SYN cookies and port selection, RFC 6056 Algorithm 3).
    std::uint64_t hash(wire::Ipv4Addr local, std::uint16_t lport, wire::Ipv4Addr remote,
                       std::uint16_t rport, std::uint32_t extra = 0) const;

  private:
    std::array<std::uint8_t, 16> key_;
};

}  // namespace ustack::tcp
