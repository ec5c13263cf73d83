#include "runtime/signals.hpp"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace ustack::runtime {

LoopResult<SignalFd> SignalFd::open(std::initializer_list<int> signals) {
    sigset_t set;
    sigemptyset(&set);
    for (int s : signals)
        sigaddset(&set, s);
    if (::pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) {
        return unexpected(LoopError{EINVAL, "pthread_sigmask failed"});
    }
    const int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) {
        const int code = errno;
        return unexpected(LoopError{code, std::string("signalfd: ") + std::strerror(code)});
    }
    return SignalFd(fd);
}

SignalFd::SignalFd(SignalFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

SignalFd& SignalFd::operator=(SignalFd&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

SignalFd::~SignalFd() {
    if (fd_ >= 0) ::close(fd_);
}

std::optional<int> SignalFd::take() {
    signalfd_siginfo info{};
    const ssize_t n = ::read(fd_, &info, sizeof info);
    if (n != static_cast<ssize_t>(sizeof info)) return std::nullopt;
    return static_cast<int>(info.ssi_signo);
}

}  // namespace ustack::runtime
