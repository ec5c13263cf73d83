// CUBIC (RFC 9438): after a congestion event the window follows a cubic function of the time
// since congestion avoidance began, concave up to the window where the loss happened (W_max)
// and convex beyond it, but never grows more slowly than Reno would (the Reno-friendly region).
// Slow start, byte counting and the recovery windows are NewReno's (newreno.cpp); which ACKs
// are duplicates, when recovery starts and ends, and what is retransmitted is the sender's
// business. No HyStart: slow start runs until the first loss, as in NewReno.
//
// Units: cwnd, ssthresh, W_max and W_est are kept in bytes; RFC 9438 counts them in segments
// of MSS bytes, so its C (segments per second cubed) is scaled by the MSS where it is used.
//
// Time: RFC 9438 4.2 aims at W_cubic(t + RTT), the window one round trip ahead. This interface
// hands the controller no RTT (and Linux's CUBIC adds its minimum RTT, not the smoothed one),
// so the target here is W_cubic(t): the window trails the curve by about one round trip, which
// only matters while the curve is steep, far from W_max. Nor does it say when the sender is
// application-limited (RFC 9438 5.8), so t runs from the first ACK of congestion avoidance.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string_view>

#include "tcp/congestion.hpp"

namespace ustack::tcp {

namespace {

using cc::kInfiniteSsthresh;
using cc::saturate;

// RFC 9438 4.6: beta_cubic = 0.7, kept as a fraction so that ssthresh and W_max come out as
// exact byte counts (0.7 has no exact binary form: 11000 * 0.7 would truncate to 7699).
constexpr std::uint64_t kBetaNum = 7;
constexpr std::uint64_t kBetaDen = 10;
// RFC 9438 4.1.1: C = 0.4 segments per second cubed.
constexpr double kC = 0.4;
// RFC 9438 4.3: alpha_cubic = 3 (1 - beta_cubic) / (1 + beta_cubic) = 9/17 segments per round
// trip gives the same average window as Reno's AIMD(1, 0.5) at the same loss rate.
constexpr double kAlphaCubic = 3.0 * double(kBetaDen - kBetaNum) / double(kBetaDen + kBetaNum);

class Cubic final : public CongestionControl {
  public:
    explicit Cubic(std::uint32_t ack_limit) : ack_limit_(ack_limit) {}

    std::string_view name() const override { return "cubic"; }

    void init(std::uint32_t mss, std::uint32_t initial_segments) override {
        mss_ = std::max<std::uint32_t>(mss, 1);
        cwnd_ = saturate(std::uint64_t{mss_} * std::max<std::uint32_t>(initial_segments, 1));
        ssthresh_ = kInfiniteSsthresh;
        w_max_ = 0;
        prior_cwnd_ = 0;
        after_timeout_ = false;
        reduced_ = false;
        in_epoch_ = false;
        growth_ = 0;
    }

    void on_ack(std::uint32_t acked_bytes, std::uint32_t /*bytes_in_flight*/,
                Instant now) override {
        // RFC 9438 4.3-4.5 act on "new ACKs", those that acknowledge new data.
        if (acked_bytes == 0) return;
        // New data got through: a later timeout is a new congestion event (see on_rto).
        reduced_ = false;
        // RFC 9438 4.10 keeps Reno's slow start (HyStart++ is optional and not done here).
        // Reaching ssthresh, congestion avoidance starts now, and the bytes beyond ssthresh
        // count towards it.
        const auto rest = cc::slow_start(cwnd_, ssthresh_, acked_bytes, ack_limit_, mss_);
        if (!rest) return;
        const std::uint64_t acked = *rest;
        if (!in_epoch_) start_epoch(now);
        if (acked > 0) congestion_avoidance(acked, now);
    }

    void on_enter_recovery(std::uint32_t /*bytes_in_flight*/) override {
        // RFC 9438 4.6 and 4.7, from cwnd rather than FlightSize (which 4.6 allows and Linux
        // does): a flow that was not using its whole window still remembers the window it had.
        congestion_event();
        // RFC 5681 3.2 step 3 (RFC 6582 3.2 step 2): inflate by the three segments the
        // duplicate ACKs say have left the network, the window the NewReno recovery machinery
        // (and on_exit_recovery's deflation) expects.
        cwnd_ = saturate(std::uint64_t{ssthresh_} + 3ull * mss_);
        reduced_ = true;
        after_timeout_ = false;  // a loss recovered by fast retransmit sets W_max afresh
    }

    void on_exit_recovery(std::uint32_t bytes_in_flight) override {
        // RFC 6582 3.2 step 3, first option: deflate to min(ssthresh, max(FlightSize, SMSS) +
        // SMSS), which avoids a burst when little is in flight. Congestion avoidance (and the
        // cubic epoch) starts at the next ACK, from this window.
        cwnd_ = cc::deflated_cwnd(ssthresh_, bytes_in_flight, mss_);
        reduced_ = false;
        in_epoch_ = false;
        growth_ = 0;
    }

    void on_rto(std::uint32_t /*bytes_in_flight*/) override {
        // RFC 9438 4.8: W_max and ssthresh as for any congestion event (from cwnd, see
        // on_enter_recovery), then Reno's loss window of one segment (RFC 5681 3.1).
        // Only once per loss episode: a timeout during recovery, or another one before any new
        // data is acknowledged (the retransmission was lost too, RFC 6298 5.5 backoff), would
        // otherwise reduce again from a window already reduced, down to 2 * MSS. The FlightSize
        // of RFC 5681 equation 4 does not shrink that way; Linux likewise recomputes ssthresh
        // only on the first timeout outside recovery.
        if (!reduced_) congestion_event();
        cwnd_ = mss_;
        reduced_ = true;
        // RFC 9438 4.8: the first congestion avoidance stage after a timeout uses K = 0 and
        // W_max = the window at its start (start_epoch).
        after_timeout_ = true;
        in_epoch_ = false;
        growth_ = 0;
    }

    CongestionState state() const override { return {cwnd_, ssthresh_}; }

    void set_mss(std::uint32_t mss) override {
        mss_ = std::max<std::uint32_t>(mss, 1);
        // W_max and cwnd are bytes, but K depends on the segment size: keep the curve through
        // the epoch's starting window at t = 0 and through W_max at t = K.
        if (in_epoch_) k_ = compute_k();
    }

  private:
    static std::uint32_t saturate_real(double v) {
        if (!(v > 0)) return 0;
        return v >= double(UINT32_MAX) ? UINT32_MAX : static_cast<std::uint32_t>(v);
    }

    // A congestion event (RFC 9438 4.6, 4.7): remember the window, reduce ssthresh.
    void congestion_event() {
        // RFC 9438 4.7 fast convergence: losing again below the last W_max means the share of
        // this flow shrank (a new flow arrived); plateau lower, at (1 + beta) / 2 of cwnd, to
        // give it room sooner. Otherwise W_max is the window just before the reduction.
        if (cwnd_ < w_max_)
            w_max_ = saturate(std::uint64_t{cwnd_} * (kBetaDen + kBetaNum) / (2 * kBetaDen));
        else
            w_max_ = cwnd_;
        // RFC 9438 4.3: the window at the time ssthresh was last set, where W_est's slope
        // becomes Reno's.
        prior_cwnd_ = cwnd_;
        // RFC 9438 4.6: ssthresh = max(cwnd * beta_cubic, 2 * MSS).
        ssthresh_ = saturate(
            std::max<std::uint64_t>(std::uint64_t{cwnd_} * kBetaNum / kBetaDen, 2ull * mss_));
        in_epoch_ = false;
        growth_ = 0;
    }

    // RFC 9438 4.2: a congestion avoidance stage begins; t counts from here.
    void start_epoch(Instant now) {
        in_epoch_ = true;
        epoch_start_ = now;
        cwnd_start_ = cwnd_;
        // RFC 9438 4.8: after a timeout, K = 0 and W_max is the window at this point: the
        // curve starts convex (probing) from here rather than aiming at the old W_max.
        if (after_timeout_) {
            w_max_ = cwnd_;
            after_timeout_ = false;
        }
        k_ = compute_k();
        // RFC 9438 4.3 (and 4.8 after a timeout): W_est starts at the epoch's window.
        w_est_ = cwnd_;
        growth_ = 0;
    }

    // RFC 9438 equation 2: K = cbrt((W_max - cwnd_start) / C), in segments and seconds. When
    // the epoch starts above W_max, K is negative and the curve, still through cwnd_start at
    // t = 0, is already convex.
    double compute_k() const {
        const double diff = (double(w_max_) - double(cwnd_start_)) / double(mss_);
        return std::cbrt(diff / kC);
    }

    // RFC 9438 equation 1, in bytes: W_cubic(t) = C (t - K)^3 + W_max.
    double w_cubic(double t) const {
        const double d = t - k_;
        return kC * double(mss_) * d * d * d + double(w_max_);
    }

    void congestion_avoidance(std::uint64_t acked, Instant now) {
        if (cwnd_ == UINT32_MAX) return;
        const double t =
            now > epoch_start_ ? std::chrono::duration<double>(now - epoch_start_).count() : 0.0;
        const double cwnd = cwnd_;
        const double mss = mss_;
        // RFC 9438 4.3, equation 4 with bytes for segments (ABC): W_est grows by alpha_cubic
        // segments per window acknowledged, and by Reno's one segment once it is back at the
        // window of the last congestion event.
        const double alpha = w_est_ >= double(prior_cwnd_) ? 1.0 : kAlphaCubic;
        w_est_ += alpha * mss * double(acked) / cwnd;
        const double w_t = w_cubic(t);
        if (w_t < w_est_) {
            // Reno-friendly region: cwnd = W_est, in whole segments (never past W_est).
            growth_ = 0;
            const double steps = std::floor((w_est_ - cwnd) / mss);
            if (steps >= 1) cwnd_ = saturate_real(cwnd + steps * mss);
            return;
        }
        // Concave (cwnd < W_max, RFC 9438 4.4) or convex (4.5) region: the target is
        // W_cubic(t) bounded to [cwnd, 1.5 cwnd] (4.2), so growth never stalls below the curve
        // nor outpaces half of slow start.
        const double target = std::clamp(w_t, cwnd, 1.5 * cwnd);
        if (target <= cwnd) {
            growth_ = 0;
            return;
        }
        // (target - cwnd) / cwnd segments per segment acknowledged, i.e. that many bytes per
        // byte. Like NewReno's byte counting, the fraction accumulates and cwnd moves in whole
        // segments, at most to the first one at or beyond the target.
        growth_ += (target - cwnd) * double(acked) / cwnd;
        if (growth_ < mss) return;
        const double steps = std::min(std::floor(growth_ / mss), std::ceil((target - cwnd) / mss));
        cwnd_ = saturate_real(cwnd + steps * mss);
        growth_ -= steps * mss;
        if (double(cwnd_) >= target) growth_ = 0;  // no growth is owed beyond the target
    }

    std::uint32_t ack_limit_ = 0;  // RFC 3465 L in segments; 0: none
    std::uint32_t mss_ = 1;
    std::uint32_t cwnd_ = 1;
    std::uint32_t ssthresh_ = kInfiniteSsthresh;
    std::uint32_t w_max_ = 0;       // bytes; 0 before the first congestion event
    std::uint32_t prior_cwnd_ = 0;  // bytes: cwnd at the last congestion event
    bool after_timeout_ = false;    // the next epoch is the first after a timeout (RFC 9438 4.8)
    bool reduced_ = false;          // this loss episode has reduced the window already
    bool in_epoch_ = false;         // a congestion avoidance stage is running
    Instant epoch_start_{};
    std::uint32_t cwnd_start_ = 0;  // bytes: cwnd when the epoch started
    double k_ = 0;                  // seconds from the epoch start to W_max
    double w_est_ = 0;              // bytes: Reno's window estimate (RFC 9438 4.3)
    double growth_ = 0;             // bytes of growth earned towards the next whole segment
};

}  // namespace

std::unique_ptr<CongestionControl> make_cubic(std::uint32_t slow_start_ack_limit) {
    return std::make_unique<Cubic>(slow_start_ack_limit);
}

}  // namespace ustack::tcp
