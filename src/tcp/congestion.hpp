// Congestion control behind one interface, chosen per connection (RFC 5681 slow start and
// congestion avoidance, RFC 6582 NewReno recovery, RFC 6928 initial window; RFC 9438 CUBIC).
// Loss detection (duplicate ACKs, SACK, RTO) lives in the sender, which tells the controller
// what happened; the controller owns cwnd and ssthresh only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "common/time.hpp"

namespace ustack::tcp {

struct CongestionState {
    std::uint32_t cwnd = 0;      // bytes
    std::uint32_t ssthresh = 0;  // bytes
};

class CongestionControl {
  public:
    virtual ~CongestionControl() = default;
    virtual std::string_view name() const = 0;
    // Connection established: initial window (RFC 6928: min(10*MSS, max(2*MSS, 14600)) in Linux's
    // reading, i.e. 10 segments by default).
    virtual void init(std::uint32_t mss, std::uint32_t initial_segments) = 0;
    // New data acknowledged outside recovery: grow cwnd (slow start or congestion avoidance).
    virtual void on_ack(std::uint32_t acked_bytes, std::uint32_t bytes_in_flight, Instant now) = 0;
    // Fast retransmit entered (RFC 5681 3.2 step 2 / RFC 6582): set ssthresh, cwnd.
    virtual void on_enter_recovery(std::uint32_t bytes_in_flight) = 0;
    // Recovery ended by a full ACK (RFC 6582 3.2 step 3): deflate.
    virtual void on_exit_recovery(std::uint32_t bytes_in_flight) = 0;
    // Retransmission timeout (RFC 5681 3.1 eq. 4): ssthresh from flight size, cwnd = 1 MSS.
    virtual void on_rto(std::uint32_t bytes_in_flight) = 0;
    virtual CongestionState state() const = 0;
    virtual void set_mss(std::uint32_t mss) = 0;
};

// Arithmetic the controllers share.
namespace cc {

// Initial ssthresh is "arbitrarily high" (RFC 5681 3.1): slow start runs until the first loss.
inline constexpr std::uint32_t kInfiniteSsthresh = UINT32_MAX;

inline std::uint32_t saturate(std::uint64_t v) {
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(v, UINT32_MAX));
}

// RFC 5681 3.1 slow start, counting bytes (RFC 3465), at most ack_limit * SMSS per ACK when a
// limit is set (RFC 3465 2.2 suggests L = 2; Linux has none). Returns nothing while the ACK is
// used up below ssthresh; once cwnd reaches ssthresh (or was there already), the bytes left
// for congestion avoidance.
inline std::optional<std::uint64_t> slow_start(std::uint32_t& cwnd, std::uint32_t ssthresh,
                                               std::uint64_t acked, std::uint32_t ack_limit,
                                               std::uint32_t mss) {
    if (cwnd >= ssthresh) return acked;
    const std::uint64_t grow =
        ack_limit == 0 ? acked : std::min<std::uint64_t>(acked, std::uint64_t{ack_limit} * mss);
    const std::uint64_t room = ssthresh - cwnd;
    if (grow < room) {
        cwnd += static_cast<std::uint32_t>(grow);
        return std::nullopt;
    }
    cwnd = ssthresh;
    return acked - std::min(acked, room);
}

// RFC 6582 3.2 step 3, first option: the window after recovery, min(ssthresh,
// max(FlightSize, SMSS) + SMSS), which avoids a burst when little is in flight.
inline std::uint32_t deflated_cwnd(std::uint32_t ssthresh, std::uint32_t flight,
                                   std::uint32_t mss) {
    const std::uint64_t flight_based = std::uint64_t{std::max(flight, mss)} + mss;
    return saturate(std::min<std::uint64_t>(ssthresh, flight_based));
}

}  // namespace cc

// slow_start_ack_limit: RFC 3465's L, in segments, the most one ACK may grow cwnd in slow
// start; 0 for no limit (Linux: a stretch ACK grows it by everything it acknowledges).
std::unique_ptr<CongestionControl> make_newreno(std::uint32_t slow_start_ack_limit = 0);

// CUBIC (RFC 9438: beta 0.7, C 0.4, fast convergence, Reno-friendly region; no HyStart) with
// NewReno's slow start (same slow_start_ack_limit) and recovery windows.
std::unique_ptr<CongestionControl> make_cubic(std::uint32_t slow_start_ack_limit = 0);

}  // namespace ustack::tcp
