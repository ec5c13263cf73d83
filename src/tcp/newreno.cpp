// NewReno: RFC 5681 slow start and congestion avoidance with appropriate byte counting (RFC 3465),
// and the window changes of RFC 6582 fast recovery. Which ACKs are duplicates, when recovery
// starts and ends, and what is retransmitted is the sender's business.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string_view>

#include "tcp/congestion.hpp"

namespace ustack::tcp {

namespace {

using cc::kInfiniteSsthresh;
using cc::saturate;

class NewReno final : public CongestionControl {
  public:
    explicit NewReno(std::uint32_t ack_limit) : ack_limit_(ack_limit) {}

    std::string_view name() const override { return "newreno"; }

    void init(std::uint32_t mss, std::uint32_t initial_segments) override {
        mss_ = std::max<std::uint32_t>(mss, 1);
        cwnd_ = saturate(std::uint64_t{mss_} * std::max<std::uint32_t>(initial_segments, 1));
        ssthresh_ = kInfiniteSsthresh;
        acked_in_ca_ = 0;
    }

    void on_ack(std::uint32_t acked_bytes, std::uint32_t /*bytes_in_flight*/,
                Instant /*now*/) override {
        // Slow start; reaching ssthresh, the bytes beyond it count towards congestion
        // avoidance.
        const auto rest = cc::slow_start(cwnd_, ssthresh_, acked_bytes, ack_limit_, mss_);
        if (!rest) return;
        const std::uint64_t acked = *rest;
        // RFC 5681 3.1 congestion avoidance, as RFC 3465 2.1 byte counting: one SMSS more for
        // each cwnd's worth of acknowledged bytes, i.e. about one SMSS per round trip.
        acked_in_ca_ += acked;
        while (acked_in_ca_ >= cwnd_ && cwnd_ < UINT32_MAX) {
            acked_in_ca_ -= cwnd_;
            cwnd_ = saturate(std::uint64_t{cwnd_} + mss_);
        }
        if (cwnd_ == UINT32_MAX) acked_in_ca_ = 0;
    }

    void on_enter_recovery(std::uint32_t bytes_in_flight) override {
        // RFC 5681 3.2 steps 2 and 3 (RFC 6582 3.2 step 2): halve, then inflate by the three
        // segments the duplicate ACKs say have left the network.
        ssthresh_ = reduced_ssthresh(bytes_in_flight);
        cwnd_ = saturate(std::uint64_t{ssthresh_} + 3ull * mss_);
        acked_in_ca_ = 0;
    }

    void on_exit_recovery(std::uint32_t bytes_in_flight) override {
        cwnd_ = cc::deflated_cwnd(ssthresh_, bytes_in_flight, mss_);
        acked_in_ca_ = 0;
    }

    void on_rto(std::uint32_t bytes_in_flight) override {
        // RFC 5681 3.1 equation 4, then the loss window of one segment.
        ssthresh_ = reduced_ssthresh(bytes_in_flight);
        cwnd_ = mss_;
        acked_in_ca_ = 0;
    }

    CongestionState state() const override { return {cwnd_, ssthresh_}; }

    void set_mss(std::uint32_t mss) override { mss_ = std::max<std::uint32_t>(mss, 1); }

  private:
    // RFC 5681 3.1 equation 4: ssthresh = max(FlightSize / 2, 2 * SMSS).
    std::uint32_t reduced_ssthresh(std::uint32_t flight) const {
        return saturate(std::max<std::uint64_t>(flight / 2, 2ull * mss_));
    }

    std::uint32_t ack_limit_ = 0;  // RFC 3465 L in segments; 0: none
    std::uint32_t mss_ = 1;
    std::uint32_t cwnd_ = 1;
    std::uint32_t ssthresh_ = kInfiniteSsthresh;
    std::uint64_t acked_in_ca_ = 0;  // bytes acknowledged towards the next SMSS of growth
};

}  // namespace

std::unique_ptr<CongestionControl> make_newreno(std::uint32_t slow_start_ack_limit) {
    return std::make_unique<NewReno>(slow_start_ack_limit);
}

}  // namespace ustack::tcp
