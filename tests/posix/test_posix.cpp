// The POSIX socket layer: two Runtimes (each a stack on its own thread) joined by a ThreadLink.
// Waits are poll/epoll calls with deadlines or blocking calls another thread completes; nothing
// sleeps in place of a condition.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "phy/thread_link.hpp"
#include "posix/runtime.hpp"
#include "stack/stack.hpp"

using namespace ustack;
using posix::Runtime;

namespace {

sockaddr_in addr_of(const char* ip, std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(wire::Ipv4Addr::parse(ip)->value);
    return a;
}

const sockaddr* sa(const sockaddr_in& a) {
    return reinterpret_cast<const sockaddr*>(&a);
}

std::vector<std::uint8_t> pattern(std::size_t n, std::uint32_t seed) {
    std::vector<std::uint8_t> v(n);
    std::uint32_t x = seed;
    for (auto& b : v) {
        x = x * 1664525u + 1013904223u;
        b = static_cast<std::uint8_t>(x >> 24);
    }
    return v;
}

class PosixTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto pair = phy::ThreadLink::make_pair();
        ASSERT_TRUE(pair.has_value());
        dev_a_ = std::move(pair->first);
        dev_b_ = std::move(pair->second);
        posix::RuntimeOptions oa, ob;
        oa.addr = *wire::Ipv4Cidr::parse("10.0.0.1/24");
        ob.addr = *wire::Ipv4Cidr::parse("10.0.0.2/24");
        oa.config.seed = 1;
        ob.config.seed = 2;
        a_ = std::make_unique<Runtime>(*dev_a_, oa);
        b_ = std::make_unique<Runtime>(*dev_b_, ob);
    }
    void TearDown() override {
        a_.reset();
        b_.reset();
    }

    // A listener on b at port, returning its fd.
    int listen_b(std::uint16_t port, int backlog = 16) {
        int l = b_->socket(AF_INET, SOCK_STREAM, 0);
        EXPECT_GE(l, 0);
        auto addr = addr_of("0.0.0.0", port);
        EXPECT_EQ(b_->bind(l, sa(addr), sizeof addr), 0);
        EXPECT_EQ(b_->listen(l, backlog), 0);
        return l;
    }

    // A connected pair: client fd on a, accepted fd on b.
    std::pair<int, int> connected(std::uint16_t port) {
        int l = listen_b(port);
        int c = a_->socket(AF_INET, SOCK_STREAM, 0);
        auto to = addr_of("10.0.0.2", port);
        EXPECT_EQ(a_->connect(c, sa(to), sizeof to), 0);
        int s = b_->accept(l, nullptr, nullptr);
        EXPECT_GE(s, 0);
        EXPECT_EQ(b_->close(l), 0);
        return {c, s};
    }

    std::unique_ptr<phy::ThreadLinkDevice> dev_a_, dev_b_;
    std::unique_ptr<Runtime> a_, b_;
};

TEST_F(PosixTest, BlockingAcceptConnectReadWriteAcrossThreads) {
    const auto data = pattern(2 << 20, 7);
    int l = listen_b(7000);
    std::vector<std::uint8_t> echoed;
    std::thread server([&] {
        sockaddr_in peer{};
        socklen_t plen = sizeof peer;
        int s = b_->accept(l, reinterpret_cast<sockaddr*>(&peer), &plen);
        ASSERT_GE(s, 0);
        EXPECT_EQ(plen, sizeof(sockaddr_in));
        EXPECT_EQ(ntohl(peer.sin_addr.s_addr), wire::Ipv4Addr::parse("10.0.0.1")->value);
        std::vector<std::uint8_t> buf(65536);
        for (;;) {  // echo until the client's FIN
            ssize_t n = b_->read(s, buf.data(), buf.size());
            ASSERT_GE(n, 0) << std::strerror(errno);
            if (n == 0) break;
            ASSERT_EQ(b_->write(s, buf.data(), static_cast<size_t>(n)), n);
        }
        EXPECT_EQ(b_->close(s), 0);
    });
    int c = a_->socket(AF_INET, SOCK_STREAM, 0);
    auto to = addr_of("10.0.0.2", 7000);
    ASSERT_EQ(a_->connect(c, sa(to), sizeof to), 0);
    std::thread reader([&] {
        std::vector<std::uint8_t> buf(65536);
        for (;;) {
            ssize_t n = a_->recv(c, buf.data(), buf.size(), 0);
            ASSERT_GE(n, 0) << std::strerror(errno);
            if (n == 0) break;
            echoed.insert(echoed.end(), buf.begin(), buf.begin() + n);
        }
    });
    // A blocking write takes everything, waiting for room as the peer drains.
    ASSERT_EQ(a_->write(c, data.data(), data.size()), static_cast<ssize_t>(data.size()));
    ASSERT_EQ(a_->shutdown(c, SHUT_WR), 0);
    reader.join();
    server.join();
    EXPECT_EQ(echoed, data);
    EXPECT_EQ(a_->close(c), 0);
    EXPECT_EQ(b_->close(l), 0);
}

TEST_F(PosixTest, NonblockingConnectReportsProgressThenSuccessThenIsconn) {
    int l = listen_b(7001);
    int c = a_->socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    auto to = addr_of("10.0.0.2", 7001);
    ASSERT_EQ(a_->connect(c, sa(to), sizeof to), -1);
    EXPECT_EQ(errno, EINPROGRESS);
    pollfd p{c, POLLOUT, 0};
    ASSERT_EQ(a_->poll(&p, 1, 5000), 1);
    EXPECT_EQ(p.revents & (POLLOUT | POLLERR), POLLOUT);
    EXPECT_EQ(a_->connect(c, sa(to), sizeof to), 0);  // Linux: the first call after completion
    EXPECT_EQ(a_->connect(c, sa(to), sizeof to), -1);
    EXPECT_EQ(errno, EISCONN);
    sockaddr_in name{}, peer{};
    socklen_t nl = sizeof name, pl = sizeof peer;
    ASSERT_EQ(a_->getsockname(c, reinterpret_cast<sockaddr*>(&name), &nl), 0);
    ASSERT_EQ(a_->getpeername(c, reinterpret_cast<sockaddr*>(&peer), &pl), 0);
    EXPECT_EQ(ntohl(name.sin_addr.s_addr), wire::Ipv4Addr::parse("10.0.0.1")->value);
    EXPECT_GE(ntohs(name.sin_port), 32768);
    EXPECT_EQ(ntohs(peer.sin_port), 7001);
    a_->close(c);
    b_->close(l);
}

TEST_F(PosixTest, ConnectToSilentHostIsInProgressThenAlready) {
    int c = a_->socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    auto to = addr_of("10.0.0.9", 80);  // nobody answers on the link
    ASSERT_EQ(a_->connect(c, sa(to), sizeof to), -1);
    EXPECT_EQ(errno, EINPROGRESS);
    ASSERT_EQ(a_->connect(c, sa(to), sizeof to), -1);
    EXPECT_EQ(errno, EALREADY);
    pollfd p{c, POLLOUT | POLLIN, 0};
    EXPECT_EQ(a_->poll(&p, 1, 0), 0);
    char b;
    EXPECT_EQ(a_->recv(c, &b, 1, 0), -1);
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_EQ(a_->getpeername(c, nullptr, nullptr), -1);
    EXPECT_EQ(errno, ENOTCONN);
    EXPECT_EQ(a_->close(c), 0);
}

TEST_F(PosixTest, ConnectionRefusedBlockingAndNonblocking) {
    int c = a_->socket(AF_INET, SOCK_STREAM, 0);
    auto to = addr_of("10.0.0.2", 7999);
    EXPECT_EQ(a_->connect(c, sa(to), sizeof to), -1);
    EXPECT_EQ(errno, ECONNREFUSED);
    a_->close(c);

    c = a_->socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ASSERT_EQ(a_->connect(c, sa(to), sizeof to), -1);
    EXPECT_EQ(errno, EINPROGRESS);
    pollfd p{c, POLLOUT, 0};
    ASSERT_EQ(a_->poll(&p, 1, 5000), 1);
    EXPECT_TRUE(p.revents & POLLERR);
    int err = -1;
    socklen_t len = sizeof err;
    ASSERT_EQ(a_->getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len), 0);
    EXPECT_EQ(err, ECONNREFUSED);
    ASSERT_EQ(a_->getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len), 0);
    EXPECT_EQ(err, 0);  // reported once
    a_->close(c);
}

TEST_F(PosixTest, ErrnoPathsOfSocketBindListenAccept) {
    EXPECT_EQ(a_->socket(AF_INET6, SOCK_STREAM, 0), -1);
    EXPECT_EQ(errno, EAFNOSUPPORT);
    EXPECT_EQ(a_->socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), -1);
    EXPECT_EQ(errno, EPROTONOSUPPORT);
    EXPECT_EQ(a_->socket(AF_INET, 99, 0), -1);
    EXPECT_EQ(errno, EINVAL);

    int s = a_->socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(s, 0);
    EXPECT_TRUE(a_->owns(s));
    auto any = addr_of("0.0.0.0", 7100);
    EXPECT_EQ(a_->bind(s, nullptr, sizeof any), -1);
    EXPECT_EQ(errno, EFAULT);
    EXPECT_EQ(a_->bind(s, sa(any), sizeof any - 1), -1);
    EXPECT_EQ(errno, EINVAL);
    auto foreign = addr_of("10.0.0.77", 7100);
    EXPECT_EQ(a_->bind(s, sa(foreign), sizeof foreign), -1);
    EXPECT_EQ(errno, EADDRNOTAVAIL);
    ASSERT_EQ(a_->bind(s, sa(any), sizeof any), 0);
    EXPECT_EQ(a_->bind(s, sa(any), sizeof any), -1);  // already bound
    EXPECT_EQ(errno, EINVAL);
    int t = a_->socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_EQ(a_->bind(t, sa(any), sizeof any), -1);
    EXPECT_EQ(errno, EADDRINUSE);

    EXPECT_EQ(a_->accept(s, nullptr, nullptr), -1);  // not listening
    EXPECT_EQ(errno, EINVAL);
    char b = 0;
    EXPECT_EQ(a_->recv(s, &b, 1, 0), -1);
    EXPECT_EQ(errno, ENOTCONN);
    EXPECT_EQ(a_->send(s, &b, 1, MSG_NOSIGNAL), -1);
    EXPECT_EQ(errno, EPIPE);
    EXPECT_EQ(a_->shutdown(s, SHUT_RDWR), -1);
    EXPECT_EQ(errno, ENOTCONN);
    EXPECT_EQ(a_->shutdown(s, 7), -1);
    EXPECT_EQ(errno, EINVAL);

    ASSERT_EQ(a_->listen(s, 4), 0);
    ASSERT_EQ(a_->fcntl(s, F_SETFL, O_NONBLOCK), 0);
    EXPECT_EQ(a_->fcntl(s, F_GETFL, 0), O_RDWR | O_NONBLOCK);
    EXPECT_EQ(a_->accept(s, nullptr, nullptr), -1);
    EXPECT_EQ(errno, EAGAIN);
    auto to = addr_of("10.0.0.2", 1);
    EXPECT_EQ(a_->connect(s, sa(to), sizeof to), -1);
    EXPECT_EQ(errno, EISCONN);
    EXPECT_EQ(a_->accept4(s, nullptr, nullptr, 0x4000000), -1);
    EXPECT_EQ(errno, EINVAL);

    int u = a_->socket(AF_INET, SOCK_DGRAM, 0);
    EXPECT_EQ(a_->listen(u, 1), -1);
    EXPECT_EQ(errno, EOPNOTSUPP);

    // Descriptors that are not ours: EBADF, or ENOTSOCK for a real descriptor.
    EXPECT_EQ(a_->listen(-1, 1), -1);
    EXPECT_EQ(errno, EBADF);
    int pipefd[2];
    ASSERT_EQ(::pipe(pipefd), 0);
    EXPECT_EQ(a_->listen(pipefd[0], 1), -1);
    EXPECT_EQ(errno, ENOTSOCK);
    EXPECT_EQ(a_->close(pipefd[0]), -1);  // not ours to close
    EXPECT_EQ(errno, EBADF);
    ::close(pipefd[0]);
    ::close(pipefd[1]);

    EXPECT_EQ(a_->close(s), 0);
    EXPECT_EQ(a_->close(s), -1);
    EXPECT_EQ(errno, EBADF);
    EXPECT_FALSE(a_->owns(s));
    a_->close(t);
    a_->close(u);
}

TEST_F(PosixTest, SocketOptionsLikeLinux) {
    int s = a_->socket(AF_INET, SOCK_STREAM, 0);
    int v = 10000;
    socklen_t len = sizeof v;
    ASSERT_EQ(a_->setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v), 0);
    ASSERT_EQ(a_->getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
    EXPECT_EQ(v, 20000);  // Linux doubles
    v = 1;
    ASSERT_EQ(a_->setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof v), 0);
    ASSERT_EQ(a_->getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
    EXPECT_EQ(v, 2304);  // SOCK_MIN_RCVBUF
    v = 1;
    ASSERT_EQ(a_->setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v), 0);
    v = 0;
    ASSERT_EQ(a_->getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
    EXPECT_EQ(v, 1);
    EXPECT_EQ(a_->setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, 2), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(a_->setsockopt(s, IPPROTO_TCP, TCP_NODELAY, nullptr, sizeof v), -1);
    EXPECT_EQ(errno, EFAULT);
    v = 0;
    EXPECT_EQ(a_->setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v), -1);
    EXPECT_EQ(errno, EINVAL);
    v = 30;
    ASSERT_EQ(a_->setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v), 0);
    v = 0;
    ASSERT_EQ(a_->getsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &v, &len), 0);
    EXPECT_EQ(v, 30);
    ASSERT_EQ(a_->getsockopt(s, IPPROTO_TCP, TCP_MAXSEG, &v, &len), 0);
    EXPECT_EQ(v, 536);  // TCP_MSS_DEFAULT before a connection
    ASSERT_EQ(a_->getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len), 0);
    EXPECT_EQ(v, SOCK_STREAM);
    EXPECT_EQ(a_->getsockopt(s, SOL_SOCKET, 9999, &v, &len), -1);
    EXPECT_EQ(errno, ENOPROTOOPT);
    EXPECT_EQ(a_->getsockopt(s, SOL_SOCKET, SO_TYPE, &v, nullptr), -1);
    EXPECT_EQ(errno, EFAULT);
    timeval tv{0, 1000000};
    EXPECT_EQ(a_->setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), -1);
    EXPECT_EQ(errno, EDOM);
    // TCP_SYNCNT 1..127, TCP_MAXSEG 88..32767 (or 0), TCP_USER_TIMEOUT >= 0, as Linux.
    for (int bad : {0, 128}) {
        EXPECT_EQ(a_->setsockopt(s, IPPROTO_TCP, TCP_SYNCNT, &bad, sizeof bad), -1);
        EXPECT_EQ(errno, EINVAL);
    }
    v = 87;
    EXPECT_EQ(a_->setsockopt(s, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof v), -1);
    EXPECT_EQ(errno, EINVAL);
    v = -1;
    EXPECT_EQ(a_->setsockopt(s, IPPROTO_TCP, TCP_USER_TIMEOUT, &v, sizeof v), -1);
    EXPECT_EQ(errno, EINVAL);
    const std::pair<int, int> opts[] = {
        {TCP_SYNCNT, 3}, {TCP_MAXSEG, 1100}, {TCP_USER_TIMEOUT, 2500}, {TCP_NOTSENT_LOWAT, 16384},
        {TCP_CORK, 1},   {TCP_KEEPCNT, 4}};
    for (auto [name, value] : opts) {
        ASSERT_EQ(a_->setsockopt(s, IPPROTO_TCP, name, &value, sizeof value), 0) << name;
        int got = -1;
        len = sizeof got;
        ASSERT_EQ(a_->getsockopt(s, IPPROTO_TCP, name, &got, &len), 0) << name;
        EXPECT_EQ(got, value) << name;
    }
    v = 1;
    EXPECT_EQ(a_->setsockopt(s, IPPROTO_TCP, TCP_CONGESTION, "cubic", 5), -1);
    EXPECT_EQ(errno, ENOPROTOOPT);  // not implemented: said, not pretended
    a_->close(s);
}

TEST_F(PosixTest, CloseWithUnreadDataResetsThePeer) {
    auto [c, s] = connected(7200);
    const char msg[] = "unread";
    ASSERT_EQ(a_->send(c, msg, 6, 0), 6);
    pollfd p{s, POLLIN, 0};
    ASSERT_EQ(b_->poll(&p, 1, 5000), 1);
    ASSERT_EQ(b_->close(s), 0);  // 6 bytes unread: RST (RFC 1122 4.2.2.13)
    pollfd q{c, POLLIN, 0};
    ASSERT_EQ(a_->poll(&q, 1, 5000), 1);
    EXPECT_TRUE(q.revents & (POLLERR | POLLHUP));
    char b;
    EXPECT_EQ(a_->recv(c, &b, 1, 0), -1);
    EXPECT_EQ(errno, ECONNRESET);
    EXPECT_EQ(a_->send(c, &b, 1, MSG_NOSIGNAL), -1);
    EXPECT_EQ(errno, EPIPE);
    a_->close(c);
}

TEST_F(PosixTest, PeekFionreadOutqAndNonblockingRecv) {
    auto [c, s] = connected(7300);
    ASSERT_EQ(b_->fcntl(s, F_SETFL, O_NONBLOCK), 0);
    char buf[16];
    EXPECT_EQ(b_->recv(s, buf, sizeof buf, 0), -1);
    EXPECT_EQ(errno, EAGAIN);
    ASSERT_EQ(a_->send(c, "hello world", 11, 0), 11);
    pollfd p{s, POLLIN, 0};
    ASSERT_EQ(b_->poll(&p, 1, 5000), 1);
    int n = -1;
    ASSERT_EQ(b_->ioctl(s, FIONREAD, &n), 0);
    EXPECT_EQ(n, 11);
    EXPECT_EQ(b_->recv(s, buf, 5, MSG_PEEK), 5);
    EXPECT_EQ(std::string(buf, 5), "hello");
    EXPECT_EQ(b_->recv(s, buf, sizeof buf, 0), 11);
    EXPECT_EQ(std::string(buf, 11), "hello world");
    ASSERT_EQ(b_->ioctl(s, SIOCINQ, &n), 0);
    EXPECT_EQ(n, 0);
    ASSERT_EQ(a_->ioctl(c, SIOCOUTQ, &n), 0);
    EXPECT_GE(n, 0);
    EXPECT_LE(n, 11);
    a_->close(c);
    b_->close(s);
}

TEST_F(PosixTest, EpollLevelEdgeAndOneshot) {
    auto [c, s] = connected(7400);
    int lt = b_->epoll_create1(0), et = b_->epoll_create1(0), os = b_->epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = 1;
    ASSERT_EQ(b_->epoll_ctl(lt, EPOLL_CTL_ADD, s, &ev), 0);
    EXPECT_EQ(b_->epoll_ctl(lt, EPOLL_CTL_ADD, s, &ev), -1);
    EXPECT_EQ(errno, EEXIST);
    ev.events = EPOLLIN | EPOLLET;
    ev.data.u64 = 2;
    ASSERT_EQ(b_->epoll_ctl(et, EPOLL_CTL_ADD, s, &ev), 0);
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.u64 = 3;
    ASSERT_EQ(b_->epoll_ctl(os, EPOLL_CTL_ADD, s, &ev), 0);

    epoll_event out[4];
    EXPECT_EQ(b_->epoll_wait(lt, out, 4, 0), 0);
    ASSERT_EQ(a_->send(c, "abc", 3, 0), 3);
    ASSERT_EQ(b_->epoll_wait(lt, out, 4, 5000), 1);
    EXPECT_EQ(out[0].events, static_cast<std::uint32_t>(EPOLLIN));
    EXPECT_EQ(out[0].data.u64, 1u);
    EXPECT_EQ(b_->epoll_wait(lt, out, 4, 0), 1);  // level: still readable, reported again

    ASSERT_EQ(b_->epoll_wait(et, out, 4, 5000), 1);
    EXPECT_EQ(out[0].data.u64, 2u);
    EXPECT_EQ(b_->epoll_wait(et, out, 4, 0), 0);  // edge: nothing new

    ASSERT_EQ(b_->epoll_wait(os, out, 4, 5000), 1);
    EXPECT_EQ(out[0].data.u64, 3u);
    EXPECT_EQ(b_->epoll_wait(os, out, 4, 0), 0);  // one shot: disarmed

    ASSERT_EQ(a_->send(c, "def", 3, 0), 3);
    ASSERT_EQ(b_->epoll_wait(et, out, 4, 5000), 1);  // edge: new data is a new edge
    EXPECT_EQ(b_->epoll_wait(os, out, 4, 0), 0);     // still disarmed
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.u64 = 4;
    ASSERT_EQ(b_->epoll_ctl(os, EPOLL_CTL_MOD, s, &ev), 0);  // re-armed
    ASSERT_EQ(b_->epoll_wait(os, out, 4, 0), 1);
    EXPECT_EQ(out[0].data.u64, 4u);

    char buf[8];
    EXPECT_EQ(b_->read(s, buf, sizeof buf), 6);
    EXPECT_EQ(b_->epoll_wait(lt, out, 4, 0), 0);

    // EPOLLRDHUP when the peer half-closes.
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = 5;
    ASSERT_EQ(b_->epoll_ctl(lt, EPOLL_CTL_MOD, s, &ev), 0);
    ASSERT_EQ(a_->shutdown(c, SHUT_WR), 0);
    ASSERT_EQ(b_->epoll_wait(lt, out, 4, 5000), 1);
    EXPECT_EQ(out[0].events, static_cast<std::uint32_t>(EPOLLIN | EPOLLRDHUP));
    EXPECT_EQ(b_->read(s, buf, sizeof buf), 0);

    // Errors of epoll_ctl / epoll_wait.
    EXPECT_EQ(b_->epoll_ctl(lt, EPOLL_CTL_DEL, s, nullptr), 0);
    EXPECT_EQ(b_->epoll_ctl(lt, EPOLL_CTL_DEL, s, nullptr), -1);
    EXPECT_EQ(errno, ENOENT);
    EXPECT_EQ(b_->epoll_ctl(lt, EPOLL_CTL_MOD, s, &ev), -1);
    EXPECT_EQ(errno, ENOENT);
    EXPECT_EQ(b_->epoll_ctl(lt, EPOLL_CTL_ADD, lt, &ev), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(b_->epoll_ctl(lt, EPOLL_CTL_ADD, -1, &ev), -1);
    EXPECT_EQ(errno, EBADF);
    EXPECT_EQ(b_->epoll_ctl(lt, 99, s, &ev), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(b_->epoll_ctl(s, EPOLL_CTL_ADD, s, &ev), -1);  // not an epoll instance
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(b_->epoll_ctl(lt, EPOLL_CTL_ADD, s, nullptr), -1);
    EXPECT_EQ(errno, EFAULT);
    int pipefd[2];
    ASSERT_EQ(::pipe(pipefd), 0);
    EXPECT_EQ(b_->epoll_ctl(lt, EPOLL_CTL_ADD, pipefd[0], &ev), -1);
    EXPECT_EQ(errno, EPERM);  // kernel descriptors cannot be watched here
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    EXPECT_EQ(b_->epoll_wait(lt, out, 0, 0), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(b_->epoll_create(0), -1);
    EXPECT_EQ(errno, EINVAL);

    for (int e : {lt, et, os})
        EXPECT_EQ(b_->close(e), 0);
    a_->close(c);
    b_->close(s);
}

TEST_F(PosixTest, BlockingRecvWakesWhenAnotherThreadSends) {
    auto [c, s] = connected(7500);
    std::thread sender([&, c = c] {
        const auto data = pattern(300000, 3);
        ASSERT_EQ(a_->send(c, data.data(), data.size(), 0), 300000);
        ASSERT_EQ(a_->shutdown(c, SHUT_WR), 0);
    });
    // MSG_WAITALL blocks until all 300000 bytes are in, across many arrivals.
    std::vector<std::uint8_t> in(300000);
    ASSERT_EQ(b_->recv(s, in.data(), in.size(), MSG_WAITALL), 300000);
    sender.join();
    EXPECT_EQ(in, pattern(300000, 3));
    char b;
    EXPECT_EQ(b_->recv(s, &b, 1, 0), 0);  // then end of stream
    a_->close(c);
    b_->close(s);
}

TEST_F(PosixTest, ReceiveTimeoutEndsABlockingRecv) {
    auto [c, s] = connected(7600);
    timeval tv{0, 50000};
    ASSERT_EQ(b_->setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    char b;
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(b_->recv(s, &b, 1, 0), -1);
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(50));
    a_->close(c);
    b_->close(s);
}

TEST_F(PosixTest, TcpInfoMatchesTheStacksInfo) {
    auto [c, s] = connected(7700);
    std::vector<std::uint8_t> data(100000, 0x42);
    ASSERT_EQ(a_->send(c, data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));
    std::vector<std::uint8_t> in(data.size());
    ASSERT_EQ(b_->recv(s, in.data(), in.size(), MSG_WAITALL), static_cast<ssize_t>(in.size()));
    // The reply acknowledges everything: once a has it, a has seen that ACK.
    ASSERT_EQ(b_->send(s, "ok", 2, 0), 2);
    char ok[2];
    ASSERT_EQ(a_->recv(c, ok, 2, MSG_WAITALL), 2);
    tcp_info ti{};
    socklen_t len = sizeof ti;
    auto sid = b_->stack_socket(s);
    ASSERT_TRUE(sid.has_value());
    tcp::TcpInfo mine;
    tcp_info got{};
    b_->run_on_stack([&](Stack& st, Instant) { mine = *st.tcp_info(*sid); });
    ASSERT_EQ(b_->getsockopt(s, IPPROTO_TCP, TCP_INFO, &got, &len), 0);
    EXPECT_EQ(len, sizeof(tcp_info));
    EXPECT_EQ(got.tcpi_state, 1);  // TCP_ESTABLISHED
    EXPECT_EQ(got.tcpi_snd_mss, mine.snd_mss);
    EXPECT_EQ(got.tcpi_rcv_mss, mine.rcv_mss);
    EXPECT_EQ(got.tcpi_bytes_received, 100000u);
    EXPECT_EQ(got.tcpi_bytes_received, mine.bytes_received);
    EXPECT_EQ(got.tcpi_rcv_wscale, mine.rcv_wscale);
    EXPECT_EQ(got.tcpi_snd_wscale, mine.snd_wscale);
    EXPECT_EQ(got.tcpi_options & TCPI_OPT_TIMESTAMPS, mine.timestamps ? TCPI_OPT_TIMESTAMPS : 0);
    EXPECT_EQ(got.tcpi_options & TCPI_OPT_SACK, mine.sack ? TCPI_OPT_SACK : 0);
    EXPECT_TRUE(mine.timestamps && mine.sack && mine.window_scale);
    ASSERT_EQ(a_->getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    EXPECT_EQ(ti.tcpi_bytes_acked, 100000u);
    EXPECT_GT(ti.tcpi_rtt, 0u);
    EXPECT_EQ(ti.tcpi_rto, 200000u);  // the floor: a fast link
    EXPECT_GE(ti.tcpi_snd_cwnd, 10u);
    a_->close(c);
    b_->close(s);
}

TEST_F(PosixTest, UdpSendtoRecvfrom) {
    int u = b_->socket(AF_INET, SOCK_DGRAM, 0);
    auto at = addr_of("0.0.0.0", 5353);
    ASSERT_EQ(b_->bind(u, sa(at), sizeof at), 0);
    int v = a_->socket(AF_INET, SOCK_DGRAM, 0);
    char buf[16];
    EXPECT_EQ(a_->send(v, "x", 1, 0), -1);
    EXPECT_EQ(errno, EDESTADDRREQ);
    auto to = addr_of("10.0.0.2", 5353);
    ASSERT_EQ(a_->sendto(v, "datagram", 8, 0, sa(to), sizeof to), 8);
    sockaddr_in from{};
    socklen_t fl = sizeof from;
    ASSERT_EQ(b_->recvfrom(u, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl), 8);
    EXPECT_EQ(std::string(buf, 8), "datagram");
    EXPECT_EQ(ntohl(from.sin_addr.s_addr), wire::Ipv4Addr::parse("10.0.0.1")->value);
    a_->close(v);
    b_->close(u);
}

}  // namespace

namespace {
TEST_F(PosixTest, BlockingWriteBeyondASmallSendBufferCompletes) {
    auto [c, s] = connected(7800);
    int v = 21000;
    ASSERT_EQ(b_->setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v), 0);
    const auto data = pattern(61000, 9);
    std::thread reader([&, c = c] {
        std::vector<std::uint8_t> in(61000);
        ASSERT_EQ(a_->recv(c, in.data(), in.size(), MSG_WAITALL), 61000);
        EXPECT_EQ(in, data);
    });
    ASSERT_EQ(b_->write(s, data.data(), data.size()), 61000);
    reader.join();
    a_->close(c);
    b_->close(s);
}
}  // namespace

namespace {
TEST_F(PosixTest, DescriptorsAreKernelPollableWhileReadable) {
    auto [c, s] = connected(7900);
    pollfd p{s, POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 0), 0);  // the kernel's own poll on our eventfd
    ASSERT_EQ(a_->send(c, "x", 1, 0), 1);
    ASSERT_EQ(::poll(&p, 1, 5000), 1);  // readable once the byte is in
    EXPECT_EQ(p.revents, POLLIN);
    char b;
    ASSERT_EQ(b_->recv(s, &b, 1, 0), 1);
    EXPECT_EQ(::poll(&p, 1, 0), 0);  // and no longer once it is read
    a_->close(c);
    b_->close(s);
}
}  // namespace

namespace {
TEST_F(PosixTest, CcInfoMeminfoAndALongerTcpInfo) {
    auto [c, s] = connected(8000);
    ASSERT_EQ(a_->send(c, "abcdefghij", 10, 0), 10);
    pollfd p{s, POLLIN, 0};
    ASSERT_EQ(b_->poll(&p, 1, 5000), 1);
    std::uint32_t mem[SK_MEMINFO_VARS] = {};
    socklen_t len = sizeof mem;
    ASSERT_EQ(b_->getsockopt(s, SOL_SOCKET, SO_MEMINFO, mem, &len), 0);
    EXPECT_EQ(len, sizeof mem);
    EXPECT_EQ(mem[SK_MEMINFO_RMEM_ALLOC], 10u);  // the unread bytes
    EXPECT_GT(mem[SK_MEMINFO_RCVBUF], 0u);
    unsigned char cc[64];
    len = sizeof cc;
    ASSERT_EQ(b_->getsockopt(s, IPPROTO_TCP, TCP_CC_INFO, cc, &len), 0);
    EXPECT_EQ(len, 0u);  // NewReno has none, as Linux answers for such algorithms
    // A caller built against newer headers asks for more: it gets it, zero beyond our fields.
    unsigned char big[400];
    std::memset(big, 0xff, sizeof big);
    len = sizeof big;
    ASSERT_EQ(b_->getsockopt(s, IPPROTO_TCP, TCP_INFO, big, &len), 0);
    EXPECT_EQ(len, sizeof big);
    EXPECT_EQ(big[0], 1);  // TCP_ESTABLISHED
    EXPECT_EQ(big[sizeof big - 1], 0);
    tcp_info ti;
    std::memcpy(&ti, big, sizeof ti);
    EXPECT_EQ(ti.tcpi_advmss, 1460u);  // offered on a 1500-byte link
    a_->close(c);
    b_->close(s);
}
}  // namespace
