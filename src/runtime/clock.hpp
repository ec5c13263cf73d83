// Clocks for whoever drives a stack. The core never reads a clock: the event loop reads one of
// these and hands the result to Stack::poll(now).
#pragma once

#include <chrono>

#include "common/time.hpp"

namespace ustack::runtime {

class Clock {
  public:
    virtual ~Clock() = default;
    virtual Instant now() const = 0;
    // A virtual clock does not move while the loop waits: the loop jumps it to the next deadline
    // instead of sleeping.
    virtual bool is_virtual() const { return false; }
    // Called by the loop when nothing is ready before `deadline` (virtual clocks only).
    virtual void advance_to(Instant /*deadline*/) {}
};

// CLOCK_MONOTONIC (std::chrono::steady_clock on Linux), as nanoseconds since its own epoch,
// or, anchored, shifted once so that it starts at the wall-clock time (nanoseconds since 1970)
// and then moves monotonically: pcap files written with it carry real dates.
class MonotonicClock final : public Clock {
  public:
    MonotonicClock() = default;
    static MonotonicClock anchored_to_wall_clock() {
        MonotonicClock c;
        c.offset_ = std::chrono::duration_cast<Duration>(
                        std::chrono::system_clock::now().time_since_epoch()) -
                    c.now();
        return c;
    }

    Instant now() const override {
        return std::chrono::duration_cast<Instant>(
                   std::chrono::steady_clock::now().time_since_epoch()) +
               offset_;
    }

  private:
    Duration offset_{0};
};

// Time that moves only when told: tests run a 60 s timeout in microseconds, repeatably.
class VirtualClock final : public Clock {
  public:
    explicit VirtualClock(Instant start = Instant{0}) : now_(start) {}

    Instant now() const override { return now_; }
    bool is_virtual() const override { return true; }
    void advance_to(Instant deadline) override {
        if (deadline > now_) now_ = deadline;
    }

    void advance(Duration d) { now_ += d; }
    void set(Instant t) { now_ = t; }

  private:
    Instant now_;
};

}  // namespace ustack::runtime
