// EventLoop: drives one stack (or anything with poll(now) and next_deadline()) from epoll.
//
// One iteration: wait until a device fd or an extra fd is readable, or until the earliest of the
// stack's next_deadline(), the devices' next_deadline() and the loop's own timers; devices
// without an fd that report has_pending() make the wait zero. Then: poll(now), extra-fd
// callbacks, due timers, after-poll callbacks. Level-triggered, so a device with frames left after
// a bounded poll wakes the loop again at once; nothing else makes it spin.
//
// With a VirtualClock the loop never sleeps: when nothing is ready it jumps the clock to the
// next deadline, so tests of long timeouts run in microseconds.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"
#include "common/time.hpp"
#include "phy/device.hpp"
#include "runtime/clock.hpp"

namespace ustack {
class Stack;
}

namespace ustack::runtime {

struct LoopError {
    int code = 0;  // errno
    std::string what;
};

template <class T>
using LoopResult = Result<T, LoopError>;

// What the loop drives. Normally a Stack (see drive()); tests may drive anything.
struct Driven {
    std::function<void(Instant)> poll;
    std::function<Instant()> next_deadline;
};

// poll/next_deadline of a stack. The stack must outlive the loop.
Driven drive(Stack& stack);

class EventLoop {
  public:
    using Callback = std::function<void()>;
    using FdCallback = std::function<void(std::uint32_t epoll_events)>;
    using TimerId = std::uint64_t;

    // Fails only when the OS refuses an epoll instance.
    static LoopResult<std::unique_ptr<EventLoop>> create(Clock& clock, Driven driven);
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Watches a device: its fd (if any) for readability, has_pending() and next_deadline().
    // The device must outlive the loop.
    LoopResult<void> add_device(phy::Device& device);

    // Watches another descriptor (stdin, a signalfd, a socket); cb runs with the epoll events.
    LoopResult<void> add_fd(int fd, std::uint32_t epoll_events, FdCallback cb);
    void remove_fd(int fd);

    // Runs after every poll: the place to drain sockets and take_events().
    void add_after_poll(Callback cb);

    // One-shot timer at `at` (loop time). Returns an id for cancel_timer.
    TimerId add_timer(Instant at, Callback cb);
    void cancel_timer(TimerId id);

    // Makes the next wait zero (e.g. after the app queued output outside a callback).
    void request_poll() { poll_requested_ = true; }

    // run() returns after the iteration in progress.
    void stop() { stopped_ = true; }
    bool stopped() const { return stopped_; }

    // One iteration, waiting no later than `cap`.
    LoopResult<void> run_once(Instant cap = kNever);
    // Iterations until stop(). Returns an error if waiting fails or a device fd breaks.
    LoopResult<void> run();
    // Iterations until pred() holds (checked before the first and after every iteration), stop()
    // or `deadline` (loop time). Returns pred().
    bool run_until(const std::function<bool()>& pred, Instant deadline);

    Instant now() const { return clock_.now(); }
    Clock& clock() { return clock_; }
    std::uint64_t iterations() const { return iterations_; }
    // The last error run_once() met (a broken device fd), if any.
    const LoopError* last_error() const { return error_ ? &*error_ : nullptr; }

  private:
    EventLoop(Clock& clock, Driven driven, int epfd);
    Instant next_wakeup(Instant now, bool& immediate) const;

    Clock& clock_;
    Driven driven_;
    int epfd_ = -1;
    std::vector<phy::Device*> devices_;
    std::unordered_map<int, phy::Device*> device_fds_;
    std::unordered_map<int, std::shared_ptr<FdCallback>> fd_callbacks_;
    std::vector<Callback> after_poll_;
    std::map<std::pair<Instant, TimerId>, Callback> timers_;
    std::unordered_map<TimerId, Instant> timer_index_;
    TimerId next_timer_id_ = 1;
    bool stopped_ = false;
    bool poll_requested_ = true;  // the first iteration polls at once
    std::uint64_t iterations_ = 0;
    std::optional<LoopError> error_;
};

}  // namespace ustack::runtime
