// Retransmission timeout estimation (RFC 6298), with Linux's bounds as config: initial RTO 1 s,
// minimum 200 ms, maximum 120 s. Karn's rule is the caller's: feed only samples from segments
// that were not retransmitted (or from timestamps, RFC 7323 4.1).
#pragma once

#include <cstdint>

#include "common/time.hpp"

namespace ustack::tcp {

class RttEstimator {
  public:
    RttEstimator(Duration initial_rto, Duration min_rto, Duration max_rto);

    // RFC 6298 2.2 / 2.3: SRTT, RTTVAR and RTO from a measurement R.
    void sample(Duration r);
    // RFC 6298 5.5: back off on a retransmission timeout (doubles, capped at max_rto).
    void backoff();
    // After new data is acknowledged the backoff ends (RFC 6298 5.7 keeps it until a valid sample;
    // Linux recomputes from SRTT): RTO returns to the computed value.
    void reset_backoff();

    Duration rto() const;  // the current timeout, backoff applied, within bounds
    Duration srtt() const { return srtt_; }
    Duration rttvar() const { return rttvar_; }
    Duration min_rtt() const { return min_rtt_; }
    bool has_sample() const { return has_sample_; }
    std::uint32_t backoff_count() const { return backoff_; }

  private:
    Duration initial_, min_, max_;
    Duration srtt_{0}, rttvar_{0}, min_rtt_{0};
    Duration base_rto_;
    std::uint32_t backoff_ = 0;
    bool has_sample_ = false;
};

}  // namespace ustack::tcp
