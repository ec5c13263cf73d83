// SignalFd: delivers signals (SIGINT, SIGTERM, SIGUSR1, ...) as readable events on a descriptor,
// so the event loop handles them between polls instead of in a signal handler.
#pragma once

#include <initializer_list>
#include <optional>

#include "runtime/event_loop.hpp"

namespace ustack::runtime {

class SignalFd {
  public:
    // Blocks the signals for this thread and opens a signalfd for them.
    static LoopResult<SignalFd> open(std::initializer_list<int> signals);
    SignalFd(SignalFd&& other) noexcept;
    SignalFd& operator=(SignalFd&& other) noexcept;
    SignalFd(const SignalFd&) = delete;
    SignalFd& operator=(const SignalFd&) = delete;
    ~SignalFd();

    int fd() const { return fd_; }
    // The next pending signal number, or nullopt when none is waiting.
    std::optional<int> take();

  private:
    explicit SignalFd(int fd) : fd_(fd) {}
    int fd_ = -1;
};

}  // namespace ustack::runtime
