#include "runtime/event_loop.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>

namespace ustack::runtime {

namespace {

LoopError os_error(const char* what) {
    const int code = errno;
    return LoopError{code, std::string(what) + ": " + std::strerror(code)};
}

// Milliseconds to wait for `delta`, rounded up so that the loop never wakes before a deadline
// and then spins until it arrives.
int wait_ms(Duration delta) {
    if (delta <= Duration::zero()) return 0;
    const auto ms = (delta.count() + 999'999) / 1'000'000;
    return static_cast<int>(std::min<std::int64_t>(ms, INT_MAX));
}

}  // namespace

LoopResult<std::unique_ptr<EventLoop>> EventLoop::create(Clock& clock, Driven driven) {
    const int epfd = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) return unexpected(os_error("epoll_create1"));
    return std::unique_ptr<EventLoop>(new EventLoop(clock, std::move(driven), epfd));
}

EventLoop::EventLoop(Clock& clock, Driven driven, int epfd)
    : clock_(clock), driven_(std::move(driven)), epfd_(epfd) {}

EventLoop::~EventLoop() {
    if (epfd_ >= 0) ::close(epfd_);
}

LoopResult<void> EventLoop::add_device(phy::Device& device) {
    const int fd = device.fd();
    if (fd >= 0) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
            return unexpected(os_error("epoll_ctl(device)"));
        }
        device_fds_[fd] = &device;
    }
    devices_.push_back(&device);
    poll_requested_ = true;
    return {};
}

LoopResult<void> EventLoop::add_fd(int fd, std::uint32_t epoll_events, FdCallback cb) {
    epoll_event ev{};
    ev.events = epoll_events;
    ev.data.fd = fd;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) return unexpected(os_error("epoll_ctl"));
    fd_callbacks_[fd] = std::make_shared<FdCallback>(std::move(cb));
    return {};
}

void EventLoop::remove_fd(int fd) {
    if (fd_callbacks_.erase(fd) > 0) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
}

void EventLoop::add_after_poll(Callback cb) {
    after_poll_.push_back(std::move(cb));
}

EventLoop::TimerId EventLoop::add_timer(Instant at, Callback cb) {
    const TimerId id = next_timer_id_++;
    timers_.emplace(std::make_pair(at, id), std::move(cb));
    timer_index_.emplace(id, at);
    return id;
}

void EventLoop::cancel_timer(TimerId id) {
    const auto it = timer_index_.find(id);
    if (it == timer_index_.end()) return;
    timers_.erase(std::make_pair(it->second, id));
    timer_index_.erase(it);
}

Instant EventLoop::next_wakeup(Instant now, bool& immediate) const {
    immediate = poll_requested_;
    Instant wake = driven_.next_deadline ? driven_.next_deadline() : kNever;
    for (const phy::Device* d : devices_) {
        wake = std::min(wake, d->next_deadline());
        if (d->fd() < 0 && d->has_pending(now)) immediate = true;
    }
    if (!timers_.empty()) wake = std::min(wake, timers_.begin()->first.first);
    if (wake <= now) immediate = true;
    return wake;
}

LoopResult<void> EventLoop::run_once(Instant cap) {
    ++iterations_;
    Instant now = clock_.now();
    bool immediate = false;
    const Instant wake = std::min(next_wakeup(now, immediate), cap);
    if (wake <= now) immediate = true;

    int timeout = -1;
    if (immediate || clock_.is_virtual()) {
        timeout = 0;
    } else if (wake != kNever) {
        timeout = wait_ms(wake - now);
    }

    std::array<epoll_event, 32> evs{};
    int n = ::epoll_wait(epfd_, evs.data(), static_cast<int>(evs.size()), timeout);
    if (n < 0) {
        if (errno != EINTR) return unexpected(os_error("epoll_wait"));
        n = 0;
    }
    if (n == 0 && !immediate && clock_.is_virtual() && wake != kNever) clock_.advance_to(wake);
    poll_requested_ = false;

    // Callbacks may remove descriptors (their own or others'): hold the callbacks by shared_ptr
    // and look each one up again before running it.
    std::vector<std::pair<std::shared_ptr<FdCallback>, std::uint32_t>> ready;
    for (int i = 0; i < n; ++i) {
        const int fd = evs[static_cast<std::size_t>(i)].data.fd;
        const std::uint32_t what = evs[static_cast<std::size_t>(i)].events;
        if (auto d = device_fds_.find(fd); d != device_fds_.end()) {
            if ((what & (EPOLLERR | EPOLLHUP)) != 0 && (what & EPOLLIN) == 0) {
                // A device whose descriptor broke would wake us forever: stop watching it.
                ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
                error_ = LoopError{EIO, "device " + d->second->name() + ": descriptor failed"};
                device_fds_.erase(d);
            }
            continue;
        }
        if (auto c = fd_callbacks_.find(fd); c != fd_callbacks_.end()) {
            ready.emplace_back(c->second, what);
        }
    }
    // Poll first, so that the stack's idea of now is fresh when callbacks and timers send.
    if (driven_.poll) driven_.poll(clock_.now());
    for (auto& [cb, what] : ready)
        (*cb)(what);

    now = clock_.now();
    while (!timers_.empty() && timers_.begin()->first.first <= now) {
        auto node = timers_.extract(timers_.begin());
        timer_index_.erase(node.key().second);
        node.mapped()();
    }

    for (auto& cb : after_poll_)
        cb();

    if (error_) return unexpected(*error_);
    return {};
}

LoopResult<void> EventLoop::run() {
    while (!stopped_) {
        auto r = run_once();
        if (!r) return r;
    }
    return {};
}

bool EventLoop::run_until(const std::function<bool()>& pred, Instant deadline) {
    while (!pred()) {
        if (stopped_ || clock_.now() >= deadline) return pred();
        if (!run_once(deadline)) return pred();
    }
    return true;
}

}  // namespace ustack::runtime
