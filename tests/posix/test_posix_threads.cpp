// The POSIX layer across threads: one thread blocked in a call, another acting on the socket.
// Waits are blocking calls with deadlines; a thread that must be inside its call first is waited
// for by watching the socket's state, never by sleeping.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <time.h>

#include <chrono>
#include <thread>

#include "phy/thread_link.hpp"
#include "posix/runtime.hpp"
#include "stack/stack.hpp"

using namespace ustack;
using posix::Runtime;

namespace {

sockaddr_in addr_of(std::uint32_t ip, std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(ip);
    return a;
}

const sockaddr* sa(const sockaddr_in& a) {
    return reinterpret_cast<const sockaddr*>(&a);
}

class PosixThreads : public ::testing::Test {
  protected:
    void SetUp() override {
        auto pair = phy::ThreadLink::make_pair();
        ASSERT_TRUE(pair.has_value());
        dev_a_ = std::move(pair->first);
        dev_b_ = std::move(pair->second);
        posix::RuntimeOptions oa, ob;
        oa.addr = *wire::Ipv4Cidr::parse("10.0.0.1/24");
        ob.addr = *wire::Ipv4Cidr::parse("10.0.0.2/24");
        oa.config.seed = 11;
        ob.config.seed = 12;
        a_ = std::make_unique<Runtime>(*dev_a_, oa);
        b_ = std::make_unique<Runtime>(*dev_b_, ob);
    }

    std::pair<int, int> connected(std::uint16_t port) {
        int l = b_->socket(AF_INET, SOCK_STREAM, 0);
        auto to = addr_of(0x0a000002, port);
        EXPECT_EQ(b_->bind(l, sa(to), sizeof to), 0);
        EXPECT_EQ(b_->listen(l, 4), 0);
        int c = a_->socket(AF_INET, SOCK_STREAM, 0);
        EXPECT_EQ(a_->connect(c, sa(to), sizeof to), 0);
        int s = b_->accept(l, nullptr, nullptr);
        EXPECT_GE(s, 0);
        b_->close(l);
        return {c, s};
    }

    // Waits (up to 5 s) until fd's connection is in `state` on runtime r.
    static bool wait_state(Runtime& r, int fd, tcp::State state) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (std::chrono::steady_clock::now() < until) {
            bool there = false;
            if (auto sid = r.stack_socket(fd)) {
                r.run_on_stack([&](Stack& st, Instant) {
                    auto i = st.tcp_info(*sid);
                    there = i && i->state == state;
                });
            }
            if (there) return true;
            ::poll(nullptr, 0, 1);  // look again 1 ms on
        }
        return false;
    }

    std::unique_ptr<phy::ThreadLinkDevice> dev_a_, dev_b_;
    std::unique_ptr<Runtime> a_, b_;
};

// A call's own look at the stack may take in the frame that matters (here the peer's data or
// FIN) before the stack thread does; an edge-triggered wait must still see it at once, not at
// the stack's next timer (it used to wait up to a second when the socket was readable already).
TEST_F(PosixThreads, EdgeTriggeredWaitSeesNewsACallTookIn) {
    auto [c, s] = connected(7100);
    int one = 1;  // each byte goes at once, whatever the ACKs do
    ASSERT_EQ(b_->setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0);
    int ep = a_->epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLET | EPOLLRDHUP;
    ASSERT_EQ(a_->epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev), 0);
    epoll_event out[2];
    std::chrono::milliseconds worst{0};
    char buf[4];
    for (int i = 0; i < 30; ++i) {
        ASSERT_EQ(b_->send(s, "x", 1, 0), 1);
        const auto t = std::chrono::steady_clock::now();
        ASSERT_EQ(a_->epoll_wait(ep, out, 2, 5000), 1) << "round " << i;
        worst = std::max(worst, std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::steady_clock::now() - t));
        // Unread data stays: each arrival is an edge all the same (as Linux's wakeups are).
        if (i % 2) {
            ASSERT_EQ(a_->recv(c, buf, sizeof buf, 0), 2);
        }
    }
    ASSERT_EQ(b_->shutdown(s, SHUT_WR), 0);
    const auto t = std::chrono::steady_clock::now();
    ASSERT_EQ(a_->epoll_wait(ep, out, 2, 5000), 1);
    EXPECT_TRUE(out[0].events & EPOLLRDHUP);
    worst = std::max(worst, std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - t));
    // Far below the stack's timers (delayed ACK 40 ms and up, RTO 200 ms and up).
    EXPECT_LT(worst.count(), 150);
    a_->close(ep);
    a_->close(c);
    b_->close(s);
}

// shutdown(SHUT_RD) of a listener stops it; an accept() blocked on it returns EINVAL (Linux).
TEST_F(PosixThreads, ListenerShutdownEndsABlockedAccept) {
    int l = b_->socket(AF_INET, SOCK_STREAM, 0);
    auto at = addr_of(0x0a000002, 7200);
    ASSERT_EQ(b_->bind(l, sa(at), sizeof at), 0);
    ASSERT_EQ(b_->listen(l, 4), 0);
    int result = 0, err = 0;
    std::thread acceptor([&] {
        result = b_->accept(l, nullptr, nullptr);
        err = errno;
    });
    // The acceptor may not be waiting yet; either way its accept must end with EINVAL.
    ASSERT_EQ(b_->shutdown(l, SHUT_RD), 0);
    acceptor.join();
    EXPECT_EQ(result, -1);
    EXPECT_EQ(err, EINVAL);
    // It may listen again on the port it was bound to.
    EXPECT_EQ(b_->listen(l, 4), 0);
    int c = a_->socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_EQ(a_->connect(c, sa(at), sizeof at), 0);
    int s = b_->accept(l, nullptr, nullptr);
    EXPECT_GE(s, 0);
    for (int fd : {c})
        a_->close(fd);
    for (int fd : {s, l})
        b_->close(fd);
}

// A blocking connect to a host that never answers, abandoned by shutdown() from another thread:
// the connect returns ECONNRESET and the socket is new again (Linux's tcp_disconnect).
TEST_F(PosixThreads, ShutdownEndsABlockedConnect) {
    int c = a_->socket(AF_INET, SOCK_STREAM, 0);
    auto silent = addr_of(0x0a000003, 80);  // on the link, nobody there
    int result = 0, err = 0;
    std::thread connector([&] {
        result = a_->connect(c, sa(silent), sizeof silent);
        err = errno;
    });
    ASSERT_TRUE(wait_state(*a_, c, tcp::State::kSynSent));
    EXPECT_EQ(a_->shutdown(c, SHUT_RDWR), 0);
    connector.join();
    EXPECT_EQ(result, -1);
    EXPECT_EQ(err, ECONNRESET);
    int v = -1;
    socklen_t len = sizeof v;
    EXPECT_EQ(a_->getsockopt(c, SOL_SOCKET, SO_ERROR, &v, &len), 0);
    EXPECT_EQ(v, 0);  // the blocked connect reported it
    // New again: it connects elsewhere.
    int l = b_->socket(AF_INET, SOCK_STREAM, 0);
    auto at = addr_of(0x0a000002, 7300);
    ASSERT_EQ(b_->bind(l, sa(at), sizeof at), 0);
    ASSERT_EQ(b_->listen(l, 4), 0);
    EXPECT_EQ(a_->connect(c, sa(at), sizeof at), 0);
    a_->close(c);
    b_->close(l);
}

// SO_LINGER with a time: close() returns once the FIN is acknowledged, not before.
TEST_F(PosixThreads, LingerCloseWaitsForTheFinsAck) {
    auto [c, s] = connected(7400);
    linger lg{1, 5};
    ASSERT_EQ(a_->setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    ASSERT_EQ(a_->send(c, "bye", 3, 0), 3);
    auto sid = a_->stack_socket(c);
    ASSERT_TRUE(sid.has_value());
    ASSERT_EQ(a_->close(c), 0);
    tcp::State after = tcp::State::kFinWait1;
    a_->run_on_stack([&](Stack& st, Instant) {
        if (auto i = st.tcp_info(*sid))
            after = i->state;
        else
            after = tcp::State::kClosed;
    });
    EXPECT_NE(after, tcp::State::kFinWait1);  // FIN-WAIT-2 (or gone), not waiting for the ACK
    char buf[8];
    EXPECT_EQ(b_->recv(s, buf, sizeof buf, 0), 3);
    EXPECT_EQ(b_->recv(s, buf, sizeof buf, 0), 0);
    b_->close(s);
}

// Threads blocked in poll, epoll_wait and recv sleep: they must not wake one another (each
// one's look at the stack used to wake the others, which then looked again: a spin).
TEST_F(PosixThreads, BlockedThreadsSleep) {
    auto [c, s] = connected(7500);
    int u1 = a_->socket(AF_INET, SOCK_DGRAM, 0), u2 = a_->socket(AF_INET, SOCK_DGRAM, 0);
    int ep = a_->epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ASSERT_EQ(a_->epoll_ctl(ep, EPOLL_CTL_ADD, u2, &ev), 0);
    timeval tv{0, 300000};
    ASSERT_EQ(a_->setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    auto cpu = [] {
        timespec ts;
        ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
    };
    const auto cpu0 = cpu();
    const auto wall0 = std::chrono::steady_clock::now();
    std::thread t1([&] {
        pollfd p{u1, POLLIN, 0};
        EXPECT_EQ(a_->poll(&p, 1, 300), 0);
    });
    std::thread t2([&] {
        epoll_event out;
        EXPECT_EQ(a_->epoll_wait(ep, &out, 1, 300), 0);
    });
    std::thread t3([&, c = c] {
        char b;
        EXPECT_EQ(a_->recv(c, &b, 1, 0), -1);
        EXPECT_EQ(errno, EAGAIN);
    });
    t1.join();
    t2.join();
    t3.join();
    const auto wall = std::chrono::steady_clock::now() - wall0;
    const auto used = cpu() - cpu0;
    EXPECT_GE(wall, std::chrono::milliseconds(290));
    // Three waiters and two idle stack threads over 0.3 s: a spin would use about that much.
    EXPECT_LT(used, std::chrono::milliseconds(60));
    for (int fd : {u1, u2, ep, c})
        a_->close(fd);
    b_->close(s);
}

}  // namespace
