#include <gtest/gtest.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <vector>

#include "runtime/clock.hpp"
#include "runtime/event_loop.hpp"
#include "runtime/signals.hpp"

using namespace ustack;
using namespace ustack::runtime;
using namespace std::chrono_literals;

namespace {

// A device without a descriptor, like the in-memory pair: frames wait in a queue.
class QueueDevice final : public phy::Device {
  public:
    const phy::DeviceCaps& caps() const override { return caps_; }
    std::string name() const override { return "queue0"; }
    phy::DeviceResult<std::size_t> receive(MutableByteSpan buf, phy::FrameMeta&, Instant) override {
        if (frames.empty()) return std::size_t{0};
        const auto f = frames.front();
        frames.pop_front();
        const std::size_t n = std::min(buf.size(), f.size());
        std::copy_n(f.begin(), n, buf.begin());
        return n;
    }
    phy::DeviceResult<void> send(ByteSpan, const phy::FrameMeta&, Instant) override { return {}; }
    bool has_pending(Instant) const override { return !frames.empty(); }
    Instant next_deadline() const override { return deadline; }

    std::deque<std::vector<std::byte>> frames;
    Instant deadline = kNever;

  private:
    phy::DeviceCaps caps_{};
};

// A device backed by an eventfd, like TUN: readable when the counter is non-zero.
class EventFdDevice final : public phy::Device {
  public:
    EventFdDevice() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
    ~EventFdDevice() override { ::close(fd_); }
    const phy::DeviceCaps& caps() const override { return caps_; }
    std::string name() const override { return "efd0"; }
    phy::DeviceResult<std::size_t> receive(MutableByteSpan, phy::FrameMeta&, Instant) override {
        std::uint64_t v = 0;
        return ::read(fd_, &v, sizeof v) == sizeof v ? std::size_t{1} : std::size_t{0};
    }
    phy::DeviceResult<void> send(ByteSpan, const phy::FrameMeta&, Instant) override { return {}; }
    int fd() const override { return fd_; }
    void make_readable() {
        const std::uint64_t one = 1;
        ASSERT_EQ(::write(fd_, &one, sizeof one), static_cast<ssize_t>(sizeof one));
    }

  private:
    int fd_;
    phy::DeviceCaps caps_{};
};

// Stands in for a Stack: records polls, drains devices, reports a settable deadline.
struct FakeEngine {
    std::vector<phy::Device*> devices;
    std::vector<Instant> polls;
    std::size_t frames = 0;
    Instant deadline = kNever;

    Driven driven() {
        return Driven{[this](Instant now) {
                          polls.push_back(now);
                          std::array<std::byte, 64> buf{};
                          for (auto* d : devices) {
                              phy::FrameMeta meta;
                              // bounded per poll, like StackConfig::rx_batch
                              for (int i = 0; i < 4; ++i) {
                                  auto r = d->receive(buf, meta, now);
                                  if (!r || *r == 0) break;
                                  ++frames;
                              }
                          }
                          if (deadline <= now) deadline = kNever;
                      },
                      [this] { return deadline; }};
    }
};

std::unique_ptr<EventLoop> make_loop(Clock& clock, FakeEngine& engine) {
    auto loop = EventLoop::create(clock, engine.driven());
    EXPECT_TRUE(loop);
    return std::move(loop).value();
}

}  // namespace

TEST(RuntimeClock, VirtualClockMovesOnlyWhenTold) {
    VirtualClock clock(Instant{5s});
    EXPECT_EQ(clock.now(), Instant{5s});
    clock.advance(250ms);
    EXPECT_EQ(clock.now(), Instant{5250ms});
    clock.set(Instant{1s});
    EXPECT_EQ(clock.now(), Instant{1s});
    clock.advance_to(Instant{0s});  // never backwards
    EXPECT_EQ(clock.now(), Instant{1s});
    EXPECT_TRUE(clock.is_virtual());
}

TEST(RuntimeClock, MonotonicClockDoesNotGoBack) {
    MonotonicClock clock;
    const Instant a = clock.now();
    const Instant b = clock.now();
    EXPECT_LE(a, b);
    EXPECT_FALSE(clock.is_virtual());
}

TEST(RuntimeLoop, VirtualTimeJumpsToTheStackDeadline) {
    VirtualClock clock;
    FakeEngine engine;
    engine.deadline = Instant{60s};  // e.g. a TIME_WAIT expiry
    auto loop = make_loop(clock, engine);
    const bool done = loop->run_until(
        [&] { return !engine.polls.empty() && engine.polls.back() >= Instant{60s}; },
        Instant{120s});
    EXPECT_TRUE(done);
    EXPECT_EQ(clock.now(), Instant{60s});
    EXPECT_LE(loop->iterations(), 3u);
}

TEST(RuntimeLoop, VirtualTimeStopsAtTheRunUntilDeadline) {
    VirtualClock clock;
    FakeEngine engine;
    auto loop = make_loop(clock, engine);
    EXPECT_FALSE(loop->run_until([] { return false; }, Instant{10s}));
    EXPECT_EQ(clock.now(), Instant{10s});
    EXPECT_LE(loop->iterations(), 3u);
}

TEST(RuntimeLoop, DeviceDeadlineWakesTheLoop) {
    VirtualClock clock;
    QueueDevice dev;
    dev.deadline = Instant{7s};  // a frame held back by a delay wrapper
    FakeEngine engine;
    engine.devices.push_back(&dev);
    auto loop = make_loop(clock, engine);
    ASSERT_TRUE(loop->add_device(dev));
    ASSERT_TRUE(loop->run_until([&] { return clock.now() >= Instant{7s}; }, Instant{100s}));
    EXPECT_EQ(clock.now(), Instant{7s});
}

TEST(RuntimeLoop, PendingFramesWithoutFdArePolledWithoutWaiting) {
    MonotonicClock clock;
    QueueDevice dev;
    for (int i = 0; i < 10; ++i)
        dev.frames.emplace_back(20, std::byte{0x45});
    FakeEngine engine;
    engine.devices.push_back(&dev);
    auto loop = make_loop(clock, engine);
    ASSERT_TRUE(loop->add_device(dev));
    const auto start = clock.now();
    ASSERT_TRUE(loop->run_until([&] { return engine.frames == 10; }, start + 5s));
    EXPECT_LT(clock.now() - start, 1s);
    EXPECT_LE(loop->iterations(), 4u);  // 4 frames per poll
}

TEST(RuntimeLoop, RealTimeWaitsForTheDeadlineWithoutSpinning) {
    MonotonicClock clock;
    FakeEngine engine;
    auto loop = make_loop(clock, engine);
    const auto start = clock.now();
    engine.deadline = start + 30ms;
    ASSERT_TRUE(loop->run_until(
        [&] { return !engine.polls.empty() && engine.polls.back() >= start + 30ms; }, start + 5s));
    EXPECT_GE(clock.now() - start, 30ms);
    EXPECT_LE(loop->iterations(), 5u);
}

TEST(RuntimeLoop, ReadableDeviceFdWakesTheLoop) {
    MonotonicClock clock;
    EventFdDevice dev;
    FakeEngine engine;
    engine.devices.push_back(&dev);
    auto loop = make_loop(clock, engine);
    ASSERT_TRUE(loop->add_device(dev));
    ASSERT_TRUE(loop->run_once());  // the first iteration polls at once
    const auto polls_before = engine.polls.size();
    dev.make_readable();
    const auto start = clock.now();
    ASSERT_TRUE(loop->run_until([&] { return engine.frames == 1; }, start + 5s));
    EXPECT_LT(clock.now() - start, 1s);
    EXPECT_GT(engine.polls.size(), polls_before);
}

TEST(RuntimeLoop, ExtraFdCallbackCanStopTheLoop) {
    MonotonicClock clock;
    FakeEngine engine;
    auto loop = make_loop(clock, engine);
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    int calls = 0;
    ASSERT_TRUE(loop->add_fd(p[0], EPOLLIN, [&](std::uint32_t ev) {
        EXPECT_TRUE(ev & EPOLLIN);
        char c;
        ASSERT_EQ(::read(p[0], &c, 1), 1);
        ++calls;
        loop->stop();
    }));
    ASSERT_EQ(::write(p[1], "x", 1), 1);
    ASSERT_TRUE(loop->run());
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(loop->stopped());
    loop->remove_fd(p[0]);
    ::close(p[0]);
    ::close(p[1]);
}

TEST(RuntimeLoop, AfterPollRunsAfterEveryPoll) {
    VirtualClock clock;
    FakeEngine engine;
    auto loop = make_loop(clock, engine);
    std::size_t after = 0;
    loop->add_after_poll([&] {
        ++after;
        EXPECT_EQ(after, engine.polls.size());
    });
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(loop->run_once());
    EXPECT_EQ(after, 3u);
}

TEST(RuntimeLoop, TimersFireInOrderAndCanBeCancelled) {
    VirtualClock clock;
    FakeEngine engine;
    auto loop = make_loop(clock, engine);
    std::vector<int> fired;
    loop->add_timer(Instant{3s}, [&] { fired.push_back(3); });
    const auto cancelled = loop->add_timer(Instant{2s}, [&] { fired.push_back(2); });
    loop->add_timer(Instant{1s}, [&] {
        fired.push_back(1);
        loop->add_timer(Instant{4s}, [&] { fired.push_back(4); });  // re-arming from a timer
    });
    loop->cancel_timer(cancelled);
    loop->run_until([&] { return fired.size() == 3; }, Instant{10s});
    EXPECT_EQ(fired, (std::vector<int>{1, 3, 4}));
    EXPECT_EQ(clock.now(), Instant{4s});
}

TEST(RuntimeLoop, SignalFdDeliversSignalsAsEvents) {
    MonotonicClock clock;
    FakeEngine engine;
    auto loop = make_loop(clock, engine);
    auto sig = SignalFd::open({SIGUSR2});
    ASSERT_TRUE(sig);
    int got = 0;
    ASSERT_TRUE(loop->add_fd(sig->fd(), EPOLLIN, [&](std::uint32_t) {
        while (auto s = sig->take())
            got = *s;
    }));
    ASSERT_EQ(::raise(SIGUSR2), 0);
    ASSERT_TRUE(loop->run_until([&] { return got != 0; }, clock.now() + 5s));
    EXPECT_EQ(got, SIGUSR2);
}
