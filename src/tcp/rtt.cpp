#include "tcp/rtt.hpp"

#include <algorithm>

namespace ustack::tcp {

namespace {

// RFC 6298 2.3 adds max(G, K*RTTVAR) with G the clock granularity. Our clock is a nanosecond
// parameter, so G is taken as 0; the min_rto floor (200 ms by default, as in Linux) is what
// keeps the timeout away from SRTT when the variance collapses.
constexpr Duration kGranularity{0};
constexpr int kK = 4;

Duration abs_duration(Duration d) {
    return d < Duration::zero() ? -d : d;
}

}  // namespace

RttEstimator::RttEstimator(Duration initial_rto, Duration min_rto, Duration max_rto)
    : initial_(initial_rto),
      min_(min_rto),
      max_(std::max(min_rto, max_rto)),
      base_rto_(initial_rto) {}

void RttEstimator::sample(Duration r) {
    if (r < Duration::zero()) r = Duration::zero();
    if (!has_sample_) {
        // RFC 6298 2.2: the first measurement.
        srtt_ = r;
        rttvar_ = r / 2;
        min_rtt_ = r;
        has_sample_ = true;
    } else {
        // RFC 6298 2.3, alpha = 1/8 and beta = 1/4; RTTVAR is updated with the old SRTT.
        rttvar_ += (abs_duration(srtt_ - r) - rttvar_) / 4;
        srtt_ += (r - srtt_) / 8;
        min_rtt_ = std::min(min_rtt_, r);
    }
    base_rto_ = srtt_ + std::max(kGranularity, kK * rttvar_);
    // A valid sample ends the backoff of earlier timeouts (RFC 6298 section 5, the note after
    // 5.7: the RTO computed afresh may "collapse" back down).
    backoff_ = 0;
}

void RttEstimator::backoff() {
    // RFC 6298 5.5. The count keeps growing (callers use it to give up); rto() caps the value.
    if (backoff_ != UINT32_MAX) ++backoff_;
}

void RttEstimator::reset_backoff() {
    backoff_ = 0;
}

Duration RttEstimator::rto() const {
    // RFC 6298 2.1: until a first measurement, the configured initial RTO; 2.4 and 2.5: within
    // [min_rto, max_rto]; 5.5: each timeout doubles it, up to max_rto. The loop ends once the cap
    // is reached (a zero timeout with a zero floor cannot grow; 64 rounds stop it).
    const Duration base = has_sample_ ? base_rto_ : initial_;
    Duration rto = std::clamp(base, min_, max_);
    for (std::uint32_t i = 0; i < backoff_ && i < 64 && rto < max_; ++i)
        rto = rto > max_ / 2 ? max_ : rto * 2;
    return rto;
}

}  // namespace ustack::tcp
