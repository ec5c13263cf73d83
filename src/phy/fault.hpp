// FaultDevice: a wrapper that makes any device a worse link, repeatably. Frames sent (and,
// with a second config, frames received) can be lost, duplicated, reordered, corrupted,
// delayed, squeezed through a rate limit with a bounded queue, or refused above an MTU. Every
// random choice comes from a PRNG seeded by the config, so the same seed and the same frames
// give the same faults on every run.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <queue>
#include <vector>

#include "phy/device.hpp"

namespace ustack::phy {

// xoshiro256** (Blackman and Vigna), seeded through splitmix64. Small, fast and, unlike the
// std:: distributions, gives the same numbers with every standard library.
class Xoshiro256 {
  public:
    explicit Xoshiro256(std::uint64_t seed);
    std::uint64_t next();
    // Uniform in [0, 1), 53 bits.
    double uniform();
    // Uniform in [0, n); n must be positive.
    std::uint64_t below(std::uint64_t n);
    // True with probability p (never draws when p <= 0, so unused faults consume nothing).
    bool chance(double p);

  private:
    std::uint64_t s_[4];
};

struct FaultConfig {
    std::uint64_t seed = 1;
    double loss = 0;       // probability a frame is dropped
    double duplicate = 0;  // probability a frame is delivered twice
    double corrupt = 0;    // probability one random bit of the frame is flipped
    double reorder = 0;    // probability a frame is held back so later frames overtake it
    // A held-back frame lets 1..reorder_distance later frames pass, chosen at random, and is
    // released after reorder_max_hold anyway if no more frames come.
    std::uint32_t reorder_distance = 3;
    Duration reorder_max_hold = 10ms;
    // Every frame waits delay plus a uniform draw from [0, jitter].
    Duration delay{0};
    Duration jitter{0};
    // With jitter, netem lets frames overtake each other; by default we keep them in order
    // (a later frame is never due before an earlier one), as most real paths do.
    bool jitter_reorders = false;
    // Serialisation at rate_bps (0: unlimited) behind a queue of at most queue_limit_bytes;
    // what would overflow the queue is dropped.
    std::uint64_t rate_bps = 0;
    std::uint32_t queue_limit_bytes = 64 * 1024;
    // Frames whose L3 size (or, for a super-segment, headers plus one segment) exceeds this are
    // dropped, as a router on a narrower path would.
    std::optional<std::uint32_t> mtu;
    // Frames held at once (delayed, queued or reordered); beyond it a frame is dropped.
    std::uint32_t max_held_frames = 4096;
};

struct FaultCounters {
    std::uint64_t frames_in = 0;
    std::uint64_t delivered = 0;
    std::uint64_t lost = 0;
    std::uint64_t duplicated = 0;
    std::uint64_t reordered = 0;
    std::uint64_t corrupted = 0;
    std::uint64_t delayed = 0;       // delivered later than they arrived
    std::uint64_t rate_dropped = 0;  // the rate limiter's queue was full
    std::uint64_t mtu_dropped = 0;
    std::uint64_t held_dropped = 0;  // max_held_frames reached
};

// One direction's faults: frames go in with the time they arrived and come out when due.
class FaultPipeline {
  public:
    FaultPipeline(const FaultConfig& config, LinkType link);

    void submit(ByteSpan frame, const FrameMeta& meta, Instant now);

    // The next frame due at or before now, if any. The span stays valid until the next call.
    struct Due {
        ByteSpan frame;
        FrameMeta meta;
    };
    std::optional<Due> pop_due(Instant now);

    bool has_due(Instant now) const;
    Instant next_deadline() const;
    std::size_t held() const { return used_; }
    const FaultCounters& counters() const { return counters_; }
    const FaultConfig& config() const { return config_; }

  private:
    struct Slot {
        std::vector<std::byte> data;
        FrameMeta meta;
        Instant arrived{0};
    };
    struct Scheduled {
        Instant due;
        std::uint64_t seq;
        std::uint32_t slot;
        bool operator>(const Scheduled& o) const {
            return due != o.due ? due > o.due : seq > o.seq;
        }
    };
    struct HeldBack {
        std::uint32_t slot;
        std::uint32_t overtakes_left;
        Instant release_at;
    };

    std::optional<std::uint32_t> take_slot(ByteSpan frame, const FrameMeta& meta, Instant now);
    void schedule(std::uint32_t slot, Instant due);
    void release_expired(Instant now);
    std::size_t l3_size(ByteSpan frame, const FrameMeta& meta) const;

    FaultConfig config_;
    LinkType link_;
    Xoshiro256 rng_;
    std::vector<Slot> slots_;
    std::vector<std::uint32_t> free_;
    std::size_t used_ = 0;
    std::priority_queue<Scheduled, std::vector<Scheduled>, std::greater<>> queue_;
    std::deque<HeldBack> held_back_;
    std::uint64_t seq_ = 0;
    Instant link_free_at_{0};  // when the rate limiter finishes the frames it holds
    Instant last_due_{0};
    std::uint32_t last_popped_ = UINT32_MAX;
    FaultCounters counters_;
};

class FaultDevice final : public Device {
  public:
    // Faults `egress` on frames sent; `ingress`, when given, on frames received.
    FaultDevice(std::unique_ptr<Device> inner, const FaultConfig& egress,
                std::optional<FaultConfig> ingress = std::nullopt);

    const DeviceCaps& caps() const override { return inner_->caps(); }
    std::string name() const override { return inner_->name(); }
    // Both receive() and send() first hand the inner device every egress frame now due, so an
    // event loop that calls receive() at next_deadline() keeps delayed frames moving.
    DeviceResult<std::size_t> receive(MutableByteSpan buf, FrameMeta& meta, Instant now) override;
    DeviceResult<void> send(ByteSpan frame, const FrameMeta& meta, Instant now) override;
    int fd() const override { return inner_->fd(); }
    // True also when an egress frame is due, so that the loop calls receive() to flush it.
    bool has_pending(Instant now) const override;
    Instant next_deadline() const override;
    // Frames as the stack saw them: handed to send() and returned by receive().
    DeviceCounters counters() const override { return counters_; }

    const FaultCounters& egress_counters() const { return egress_.counters(); }
    const FaultCounters* ingress_counters() const {
        return ingress_ ? &ingress_->counters() : nullptr;
    }
    Device& inner() { return *inner_; }

  private:
    DeviceResult<void> flush_egress(Instant now);

    std::unique_ptr<Device> inner_;
    FaultPipeline egress_;
    std::optional<FaultPipeline> ingress_;
    std::vector<std::byte> scratch_;  // for frames pulled from the inner device
    DeviceCounters counters_;
};

}  // namespace ustack::phy
