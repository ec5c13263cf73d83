// The POSIX layer against the Linux kernel: each scenario runs the same calls once on kernel
// sockets over loopback and once on two Runtimes joined by a ThreadLink, records every result
// (the value, or the errno's name) and asserts the two records are equal line for line. The
// kernel is the reference: where this file and the layer disagree with it, the layer is wrong.
// A scenario records only what both sides can share (no descriptor numbers or ephemeral ports).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "phy/thread_link.hpp"
#include "posix/runtime.hpp"
#include "stack/stack.hpp"

using namespace ustack;
using posix::Runtime;

namespace {

// The calls a scenario makes, on the kernel or on a Runtime.
struct Api {
    virtual ~Api() = default;
    virtual int socket(int d, int t, int p) = 0;
    virtual int bind(int fd, const sockaddr* a, socklen_t l) = 0;
    virtual int listen(int fd, int b) = 0;
    virtual int accept4(int fd, sockaddr* a, socklen_t* l, int f) = 0;
    virtual int connect(int fd, const sockaddr* a, socklen_t l) = 0;
    virtual ssize_t recvfrom(int fd, void* b, size_t n, int f, sockaddr* a, socklen_t* l) = 0;
    virtual ssize_t sendto(int fd, const void* b, size_t n, int f, const sockaddr* a,
                           socklen_t l) = 0;
    virtual ssize_t recvmsg(int fd, msghdr* m, int f) = 0;
    virtual ssize_t sendmsg(int fd, const msghdr* m, int f) = 0;
    virtual ssize_t readv(int fd, const iovec* v, int n) = 0;
    virtual ssize_t writev(int fd, const iovec* v, int n) = 0;
    virtual int shutdown(int fd, int how) = 0;
    virtual int close(int fd) = 0;
    virtual int getsockname(int fd, sockaddr* a, socklen_t* l) = 0;
    virtual int getpeername(int fd, sockaddr* a, socklen_t* l) = 0;
    virtual int getsockopt(int fd, int lv, int n, void* v, socklen_t* l) = 0;
    virtual int setsockopt(int fd, int lv, int n, const void* v, socklen_t l) = 0;
    virtual int fcntl(int fd, int cmd, long arg) = 0;
    virtual int ioctl(int fd, unsigned long req, void* arg) = 0;
    virtual int poll(pollfd* p, nfds_t n, int ms) = 0;
    virtual int epoll_create(int size) = 0;
    virtual int epoll_create1(int flags) = 0;
    virtual int epoll_ctl(int ep, int op, int fd, epoll_event* e) = 0;
    virtual int epoll_wait(int ep, epoll_event* e, int n, int ms) = 0;
};

struct KernelApi final : Api {
    int socket(int d, int t, int p) override { return ::socket(d, t, p); }
    int bind(int fd, const sockaddr* a, socklen_t l) override { return ::bind(fd, a, l); }
    int listen(int fd, int b) override { return ::listen(fd, b); }
    int accept4(int fd, sockaddr* a, socklen_t* l, int f) override {
        return ::accept4(fd, a, l, f);
    }
    int connect(int fd, const sockaddr* a, socklen_t l) override { return ::connect(fd, a, l); }
    ssize_t recvfrom(int fd, void* b, size_t n, int f, sockaddr* a, socklen_t* l) override {
        return ::recvfrom(fd, b, n, f, a, l);
    }
    ssize_t sendto(int fd, const void* b, size_t n, int f, const sockaddr* a,
                   socklen_t l) override {
        return ::sendto(fd, b, n, f, a, l);
    }
    ssize_t recvmsg(int fd, msghdr* m, int f) override { return ::recvmsg(fd, m, f); }
    ssize_t sendmsg(int fd, const msghdr* m, int f) override { return ::sendmsg(fd, m, f); }
    ssize_t readv(int fd, const iovec* v, int n) override { return ::readv(fd, v, n); }
    ssize_t writev(int fd, const iovec* v, int n) override { return ::writev(fd, v, n); }
    int shutdown(int fd, int how) override { return ::shutdown(fd, how); }
    int close(int fd) override { return ::close(fd); }
    int getsockname(int fd, sockaddr* a, socklen_t* l) override { return ::getsockname(fd, a, l); }
    int getpeername(int fd, sockaddr* a, socklen_t* l) override { return ::getpeername(fd, a, l); }
    int getsockopt(int fd, int lv, int n, void* v, socklen_t* l) override {
        return ::getsockopt(fd, lv, n, v, l);
    }
    int setsockopt(int fd, int lv, int n, const void* v, socklen_t l) override {
        return ::setsockopt(fd, lv, n, v, l);
    }
    int fcntl(int fd, int cmd, long arg) override { return ::fcntl(fd, cmd, arg); }
    int ioctl(int fd, unsigned long req, void* arg) override { return ::ioctl(fd, req, arg); }
    int poll(pollfd* p, nfds_t n, int ms) override { return ::poll(p, n, ms); }
    int epoll_create(int size) override { return ::epoll_create(size); }
    int epoll_create1(int flags) override { return ::epoll_create1(flags); }
    int epoll_ctl(int ep, int op, int fd, epoll_event* e) override {
        return ::epoll_ctl(ep, op, fd, e);
    }
    int epoll_wait(int ep, epoll_event* e, int n, int ms) override {
        return ::epoll_wait(ep, e, n, ms);
    }
};

struct RuntimeApi final : Api {
    explicit RuntimeApi(Runtime& r) : rt(r) {}
    Runtime& rt;
    int socket(int d, int t, int p) override { return rt.socket(d, t, p); }
    int bind(int fd, const sockaddr* a, socklen_t l) override { return rt.bind(fd, a, l); }
    int listen(int fd, int b) override { return rt.listen(fd, b); }
    int accept4(int fd, sockaddr* a, socklen_t* l, int f) override {
        return rt.accept4(fd, a, l, f);
    }
    int connect(int fd, const sockaddr* a, socklen_t l) override { return rt.connect(fd, a, l); }
    ssize_t recvfrom(int fd, void* b, size_t n, int f, sockaddr* a, socklen_t* l) override {
        return rt.recvfrom(fd, b, n, f, a, l);
    }
    ssize_t sendto(int fd, const void* b, size_t n, int f, const sockaddr* a,
                   socklen_t l) override {
        return rt.sendto(fd, b, n, f, a, l);
    }
    ssize_t recvmsg(int fd, msghdr* m, int f) override { return rt.recvmsg(fd, m, f); }
    ssize_t sendmsg(int fd, const msghdr* m, int f) override { return rt.sendmsg(fd, m, f); }
    ssize_t readv(int fd, const iovec* v, int n) override { return rt.readv(fd, v, n); }
    ssize_t writev(int fd, const iovec* v, int n) override { return rt.writev(fd, v, n); }
    int shutdown(int fd, int how) override { return rt.shutdown(fd, how); }
    int close(int fd) override { return rt.close(fd); }
    int getsockname(int fd, sockaddr* a, socklen_t* l) override { return rt.getsockname(fd, a, l); }
    int getpeername(int fd, sockaddr* a, socklen_t* l) override { return rt.getpeername(fd, a, l); }
    int getsockopt(int fd, int lv, int n, void* v, socklen_t* l) override {
        return rt.getsockopt(fd, lv, n, v, l);
    }
    int setsockopt(int fd, int lv, int n, const void* v, socklen_t l) override {
        return rt.setsockopt(fd, lv, n, v, l);
    }
    int fcntl(int fd, int cmd, long arg) override { return rt.fcntl(fd, cmd, arg); }
    int ioctl(int fd, unsigned long req, void* arg) override { return rt.ioctl(fd, req, arg); }
    int poll(pollfd* p, nfds_t n, int ms) override { return rt.poll(p, n, ms); }
    int epoll_create(int size) override { return rt.epoll_create(size); }
    int epoll_create1(int flags) override { return rt.epoll_create1(flags); }
    int epoll_ctl(int ep, int op, int fd, epoll_event* e) override {
        return rt.epoll_ctl(ep, op, fd, e);
    }
    int epoll_wait(int ep, epoll_event* e, int n, int ms) override {
        return rt.epoll_wait(ep, e, n, ms);
    }
};

// One side of a scenario: the calls and this side's address.
struct Side {
    Api& api;
    in_addr_t ip;  // network order
};

// What a scenario records.
class Record {
  public:
    // A call's result: its value, or -1 and the errno's name.
    long r(const std::string& what, long ret) {
        const int e = errno;
        add(what + " = " + (ret < 0 ? std::string("-1 ") + name(e) : std::to_string(ret)));
        errno = e;
        return ret;
    }
    // A call returning a descriptor: "fd", not its number.
    int fd(const std::string& what, int ret) {
        const int e = errno;
        add(what + " = " + (ret < 0 ? std::string("-1 ") + name(e) : "fd"));
        errno = e;
        return ret;
    }
    void note(const std::string& line) { add(line); }
    const std::vector<std::string>& lines() const { return lines_; }
    const std::vector<long>& times() const { return times_; }

  private:
    static std::string name(int e) {
        const char* n = ::strerrorname_np(e);
        return n ? n : std::to_string(e);
    }
    void add(std::string line) {
        lines_.push_back(std::move(line));
        times_.push_back(static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::steady_clock::now() - start_)
                                               .count()));
    }
    std::vector<std::string> lines_;
    std::vector<long> times_;  // ms since the record began, per line (for the dump)
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

std::string hex(unsigned v) {
    char b[16];
    std::snprintf(b, sizeof b, "0x%x", v);
    return b;
}

sockaddr_in sin_of(in_addr_t ip, std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = ip;
    return a;
}

const sockaddr* sa(const sockaddr_in& a) {
    return reinterpret_cast<const sockaddr*>(&a);
}

// Waits (with a deadline) until fd shows one of `want`, then returns all it shows, for a record
// that does not depend on how fast each side is.
short settle(Api& api, int fd, short want, short events = POLLIN | POLLOUT | POLLRDHUP) {
    pollfd p{fd, static_cast<short>(want), 0};
    api.poll(&p, 1, 2000);
    pollfd q{fd, events, 0};
    api.poll(&q, 1, 0);
    return q.revents;
}

// Waits (up to 2 s) until fd's TCP_INFO state is `state` (Linux numbering), returning it. The
// kernel over loopback gets there within the call that causes it; ustack a moment later.
int settle_state(Api& api, int fd, int state) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    tcp_info ti{};
    for (;;) {
        socklen_t len = sizeof ti;
        if (api.getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) return -1;
        if (ti.tcpi_state == state || std::chrono::steady_clock::now() >= until)
            return ti.tcpi_state;
        ::poll(nullptr, 0, 1);  // the next look, 1 ms on
    }
}

// A connected pair: client fd on c (to the server at port), accepted fd on s.
std::pair<int, int> connected(Side c, Side s, std::uint16_t port) {
    int l = s.api.socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    s.api.setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    auto a = sin_of(s.ip, port);
    EXPECT_EQ(s.api.bind(l, sa(a), sizeof a), 0) << strerror(errno);
    EXPECT_EQ(s.api.listen(l, 8), 0);
    int fd = c.api.socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_EQ(c.api.connect(fd, sa(a), sizeof a), 0) << strerror(errno);
    int acc = s.api.accept4(l, nullptr, nullptr, 0);
    EXPECT_GE(acc, 0);
    s.api.close(l);
    return {fd, acc};
}

using Scenario = void (*)(Record&, Side c, Side s, std::uint16_t port, int file_fd);

// --- scenarios ----------------------------------------------------------------------------------

void socket_args(Record& R, Side c, Side, std::uint16_t, int) {
    Api& a = c.api;
    int fd = R.fd("socket(INET, STREAM, 0)", a.socket(AF_INET, SOCK_STREAM, 0));
    a.close(fd);
    fd = R.fd("socket(INET, STREAM, TCP)", a.socket(AF_INET, SOCK_STREAM, IPPROTO_TCP));
    a.close(fd);
    fd = R.fd("socket(INET, DGRAM, 0)", a.socket(AF_INET, SOCK_DGRAM, 0));
    a.close(fd);
    R.fd("socket(INET, STREAM, UDP)", a.socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
    R.fd("socket(INET, DGRAM, TCP)", a.socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));
    R.fd("socket(INET, STREAM, 253)", a.socket(AF_INET, SOCK_STREAM, 253));
    R.fd("socket(INET, 99, 0)", a.socket(AF_INET, 99, 0));
    R.fd("socket(INET, SEQPACKET, 0)", a.socket(AF_INET, SOCK_SEQPACKET, 0));
    R.fd("socket(INET, RDM, 0)", a.socket(AF_INET, SOCK_RDM, 0));
    R.fd("socket(INET, STREAM|0x100, 0)", a.socket(AF_INET, SOCK_STREAM | 0x100, 0));
    R.fd("socket(12345, STREAM, 0)", a.socket(12345, SOCK_STREAM, 0));
    R.fd("socket(-1, STREAM, 0)", a.socket(-1, SOCK_STREAM, 0));
    fd = R.fd("socket(INET, STREAM|NONBLOCK|CLOEXEC, 0)",
              a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    R.r("fcntl(F_GETFL)", a.fcntl(fd, F_GETFL, 0));
    R.r("fcntl(F_GETFD)", a.fcntl(fd, F_GETFD, 0));
    a.close(fd);
}

void bind_args(Record& R, Side c, Side, std::uint16_t port, int file_fd) {
    Api& a = c.api;
    int fd = a.socket(AF_INET, SOCK_STREAM, 0);
    auto ok = sin_of(c.ip, port);
    R.r("bind(-1)", a.bind(-1, sa(ok), sizeof ok));
    R.r("bind(99999)", a.bind(99999, sa(ok), sizeof ok));
    R.r("bind(file)", a.bind(file_fd, sa(ok), sizeof ok));
    R.r("bind(NULL, 16)", a.bind(fd, nullptr, sizeof ok));
    R.r("bind(NULL, 0)", a.bind(fd, nullptr, 0));
    R.r("bind(addr, 8)", a.bind(fd, sa(ok), 8));
    R.r("bind(addr, -1)", a.bind(fd, sa(ok), static_cast<socklen_t>(-1)));
    sockaddr_storage big{};
    std::memcpy(&big, &ok, sizeof ok);
    R.r("bind(addr, 200)", a.bind(fd, reinterpret_cast<sockaddr*>(&big), 200));
    auto unix_family = ok;
    unix_family.sin_family = AF_UNIX;
    R.r("bind(AF_UNIX)", a.bind(fd, sa(unix_family), sizeof ok));
    auto unspec = ok;
    unspec.sin_family = AF_UNSPEC;
    R.r("bind(AF_UNSPEC, local addr)", a.bind(fd, sa(unspec), sizeof ok));
    auto far = sin_of(htonl(0x0afffe01), port);
    R.r("bind(not local)", a.bind(fd, sa(far), sizeof far));
    R.r("bind(ok)", a.bind(fd, sa(ok), sizeof ok));
    R.r("bind(again)", a.bind(fd, sa(ok), sizeof ok));
    sockaddr_in got{};
    socklen_t len = sizeof got;
    R.r("getsockname", a.getsockname(fd, reinterpret_cast<sockaddr*>(&got), &len));
    R.note("port matches: " + std::to_string(ntohs(got.sin_port) == port) +
           " len: " + std::to_string(len));
    int fd2 = a.socket(AF_INET, SOCK_STREAM, 0);
    R.r("bind(same port)", a.bind(fd2, sa(ok), sizeof ok));
    auto any = sin_of(htonl(INADDR_ANY), port);
    R.r("bind(any, same port)", a.bind(fd2, sa(any), sizeof any));
    a.close(fd2);
    a.close(fd);

    // SO_REUSEADDR on both: two bound sockets share a port until one listens.
    int one = 1;
    int r1 = a.socket(AF_INET, SOCK_STREAM, 0), r2 = a.socket(AF_INET, SOCK_STREAM, 0),
        r3 = a.socket(AF_INET, SOCK_STREAM, 0);
    for (int f : {r1, r2, r3})
        a.setsockopt(f, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    auto p1 = sin_of(c.ip, port + 1);
    R.r("reuse: bind 1", a.bind(r1, sa(p1), sizeof p1));
    R.r("reuse: bind 2", a.bind(r2, sa(p1), sizeof p1));
    R.r("reuse: listen 1", a.listen(r1, 4));
    R.r("reuse: bind 3", a.bind(r3, sa(p1), sizeof p1));
    for (int f : {r1, r2, r3})
        a.close(f);

    // UDP
    int u = a.socket(AF_INET, SOCK_DGRAM, 0);
    auto up = sin_of(c.ip, port + 2);
    R.r("udp bind", a.bind(u, sa(up), sizeof up));
    R.r("udp bind again", a.bind(u, sa(up), sizeof up));
    int u2 = a.socket(AF_INET, SOCK_DGRAM, 0);
    R.r("udp bind same port", a.bind(u2, sa(up), sizeof up));
    a.close(u2);
    a.close(u);
}

void listen_accept_args(Record& R, Side c, Side, std::uint16_t port, int file_fd) {
    Api& a = c.api;
    R.r("listen(-1)", a.listen(-1, 1));
    R.r("listen(file)", a.listen(file_fd, 1));
    int u = a.socket(AF_INET, SOCK_DGRAM, 0);
    R.r("listen(udp)", a.listen(u, 1));
    R.fd("accept(udp)", a.accept4(u, nullptr, nullptr, 0));
    a.close(u);
    int fd = a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    R.fd("accept(not listening)", a.accept4(fd, nullptr, nullptr, 0));
    R.r("listen(unbound)", a.listen(fd, 1));
    sockaddr_in got{};
    socklen_t len = sizeof got;
    a.getsockname(fd, reinterpret_cast<sockaddr*>(&got), &len);
    R.note("autobound port nonzero: " + std::to_string(got.sin_port != 0));
    R.r("listen(again)", a.listen(fd, 5));
    R.r("listen(again, -1)", a.listen(fd, -1));
    R.fd("accept(empty, nonblocking)", a.accept4(fd, nullptr, nullptr, 0));
    R.fd("accept4(bad flags)", a.accept4(fd, nullptr, nullptr, 0x1));
    R.fd("accept(addr, NULL len)", a.accept4(fd, reinterpret_cast<sockaddr*>(&got), nullptr, 0));
    socklen_t neg = static_cast<socklen_t>(-1);
    R.fd("accept(len -1)", a.accept4(fd, reinterpret_cast<sockaddr*>(&got), &neg, 0));
    R.fd("accept(-1)", a.accept4(-1, nullptr, nullptr, 0));
    R.fd("accept(file)", a.accept4(file_fd, nullptr, nullptr, 0));
    R.r("bind(listener)", a.bind(fd, sa(sin_of(c.ip, port)), sizeof(sockaddr_in)));
    pollfd p{fd, POLLIN | POLLOUT, 0};
    R.r("poll(listener)", a.poll(&p, 1, 0));
    R.note("revents " + hex(static_cast<unsigned short>(p.revents)));
    R.r("shutdown(listener, WR)", a.shutdown(fd, SHUT_WR));
    R.r("shutdown(listener, RD)", a.shutdown(fd, SHUT_RD));
    R.fd("accept(after shutdown RD)", a.accept4(fd, nullptr, nullptr, 0));
    a.close(fd);
}

void connect_args(Record& R, Side c, Side s, std::uint16_t port, int file_fd) {
    Api& a = c.api;
    auto srv = sin_of(s.ip, port);
    R.r("connect(-1)", a.connect(-1, sa(srv), sizeof srv));
    R.r("connect(file)", a.connect(file_fd, sa(srv), sizeof srv));
    int fd = a.socket(AF_INET, SOCK_STREAM, 0);
    R.r("connect(NULL, 16)", a.connect(fd, nullptr, sizeof srv));
    R.r("connect(NULL, 0)", a.connect(fd, nullptr, 0));
    R.r("connect(addr, 1)", a.connect(fd, sa(srv), 1));
    R.r("connect(addr, 8)", a.connect(fd, sa(srv), 8));
    auto unix_family = srv;
    unix_family.sin_family = AF_UNIX;
    R.r("connect(AF_UNIX)", a.connect(fd, sa(unix_family), sizeof srv));
    auto unspec = srv;
    unspec.sin_family = AF_UNSPEC;
    R.r("connect(AF_UNSPEC)", a.connect(fd, sa(unspec), sizeof srv));
    // Nobody listens on port: refused, blocking, and again.
    R.r("connect(refused)", a.connect(fd, sa(srv), sizeof srv));
    R.r("connect(refused again)", a.connect(fd, sa(srv), sizeof srv));
    int err = -1;
    socklen_t len = sizeof err;
    R.r("SO_ERROR", a.getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len));
    R.note("SO_ERROR value " + std::to_string(err));
    a.close(fd);

    // Non-blocking, refused: EINPROGRESS, then the error through poll and SO_ERROR.
    fd = a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    R.r("nb connect(refused)", a.connect(fd, sa(srv), sizeof srv));
    R.note("revents " + hex(static_cast<unsigned short>(settle(a, fd, POLLERR))));
    len = sizeof err;
    R.r("SO_ERROR", a.getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len));
    R.note("SO_ERROR value " + std::to_string(err));
    len = sizeof err;
    R.r("SO_ERROR again", a.getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len));
    R.note("SO_ERROR value " + std::to_string(err));
    R.r("nb connect after SO_ERROR", a.connect(fd, sa(srv), sizeof srv));
    a.close(fd);

    fd = a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    R.r("nb connect(refused) 2", a.connect(fd, sa(srv), sizeof srv));
    settle(a, fd, POLLERR);
    R.r("nb connect, error unread", a.connect(fd, sa(srv), sizeof srv));
    R.r("nb connect, then", a.connect(fd, sa(srv), sizeof srv));
    a.close(fd);

    // Non-blocking to a listener: in progress, then 0, then EISCONN.
    int l = s.api.socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    s.api.setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    s.api.bind(l, sa(srv), sizeof srv);
    s.api.listen(l, 4);
    fd = a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    R.r("nb connect", a.connect(fd, sa(srv), sizeof srv));
    R.note("revents " + hex(static_cast<unsigned short>(settle(a, fd, POLLOUT))));
    R.r("nb connect, completed", a.connect(fd, sa(srv), sizeof srv));
    R.r("nb connect, again", a.connect(fd, sa(srv), sizeof srv));
    auto other = sin_of(s.ip, port + 1);
    R.r("connect(elsewhere)", a.connect(fd, sa(other), sizeof other));
    R.r("connect(listener)", s.api.connect(l, sa(srv), sizeof srv));
    a.close(fd);
    s.api.close(l);

    // UDP: connect, disconnect with AF_UNSPEC.
    int u = a.socket(AF_INET, SOCK_DGRAM, 0);
    R.r("udp connect", a.connect(u, sa(srv), sizeof srv));
    sockaddr_in peer{};
    len = sizeof peer;
    R.r("udp getpeername", a.getpeername(u, reinterpret_cast<sockaddr*>(&peer), &len));
    R.r("udp connect(AF_UNSPEC)", a.connect(u, sa(unspec), sizeof unspec));
    len = sizeof peer;
    R.r("udp getpeername after", a.getpeername(u, reinterpret_cast<sockaddr*>(&peer), &len));
    R.r("udp send unconnected", a.sendto(u, "x", 1, 0, nullptr, 0));
    a.close(u);
}

void unconnected_io(Record& R, Side c, Side, std::uint16_t, int file_fd) {
    Api& a = c.api;
    char buf[16];
    int fd = a.socket(AF_INET, SOCK_STREAM, 0);
    R.r("recv(fresh)", a.recvfrom(fd, buf, sizeof buf, 0, nullptr, nullptr));
    R.r("recv(fresh, DONTWAIT)", a.recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, nullptr, nullptr));
    R.r("send(fresh)", a.sendto(fd, "x", 1, MSG_NOSIGNAL, nullptr, 0));
    R.r("send(fresh, 0 bytes)", a.sendto(fd, "x", 0, MSG_NOSIGNAL, nullptr, 0));
    R.r("shutdown(fresh, WR)", a.shutdown(fd, SHUT_WR));
    R.r("shutdown(fresh, 7)", a.shutdown(fd, 7));
    R.r("shutdown(fresh, -1)", a.shutdown(fd, -1));
    R.r("shutdown(-1)", a.shutdown(-1, SHUT_WR));
    R.r("shutdown(file)", a.shutdown(file_fd, SHUT_WR));
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    R.r("getpeername(fresh)", a.getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len));
    len = sizeof peer;
    R.r("getsockname(fresh)", a.getsockname(fd, reinterpret_cast<sockaddr*>(&peer), &len));
    R.note("len " + std::to_string(len) + " port " + std::to_string(peer.sin_port));
    R.r("getsockname(NULL len)", a.getsockname(fd, reinterpret_cast<sockaddr*>(&peer), nullptr));
    socklen_t neg = static_cast<socklen_t>(-1);
    R.r("getsockname(len -1)", a.getsockname(fd, reinterpret_cast<sockaddr*>(&peer), &neg));
    socklen_t small = 4;
    R.r("getsockname(len 4)", a.getsockname(fd, reinterpret_cast<sockaddr*>(&peer), &small));
    R.note("len " + std::to_string(small));
    R.r("getsockname(-1)", a.getsockname(-1, reinterpret_cast<sockaddr*>(&peer), &len));
    R.r("getsockname(file)", a.getsockname(file_fd, reinterpret_cast<sockaddr*>(&peer), &len));
    pollfd p{fd, POLLIN | POLLOUT | POLLRDHUP, 0};
    R.r("poll(fresh)", a.poll(&p, 1, 0));
    R.note("revents " + hex(static_cast<unsigned short>(p.revents)));
    int v = 0;
    R.r("ioctl(FIONREAD, fresh)", a.ioctl(fd, FIONREAD, &v));
    R.note("value " + std::to_string(v));
    R.r("ioctl(SIOCOUTQ, fresh)", a.ioctl(fd, SIOCOUTQ, &v));
    R.r("ioctl(0x1234)", a.ioctl(fd, 0x1234, &v));
    R.r("ioctl(-1)", a.ioctl(-1, FIONREAD, &v));
    a.close(fd);
    R.r("close(closed)", a.close(fd));
    R.r("close(-1)", a.close(-1));

    // A listener is neither readable nor writable with data.
    fd = a.socket(AF_INET, SOCK_STREAM, 0);
    a.listen(fd, 1);
    R.r("recv(listener)", a.recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, nullptr, nullptr));
    R.r("send(listener)", a.sendto(fd, "x", 1, MSG_NOSIGNAL, nullptr, 0));
    R.r("ioctl(FIONREAD, listener)", a.ioctl(fd, FIONREAD, &v));
    R.r("ioctl(SIOCOUTQ, listener)", a.ioctl(fd, SIOCOUTQ, &v));
    R.r("getpeername(listener)", a.getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len));
    R.r("shutdown(listener, RDWR)", a.shutdown(fd, SHUT_RDWR));
    a.close(fd);

    // UDP without a peer.
    int u = a.socket(AF_INET, SOCK_DGRAM, 0);
    R.r("udp send, no peer", a.sendto(u, "x", 1, 0, nullptr, 0));
    R.r("udp recv, nonblocking", a.recvfrom(u, buf, sizeof buf, MSG_DONTWAIT, nullptr, nullptr));
    R.r("udp shutdown", a.shutdown(u, SHUT_RD));
    R.r("udp getpeername", a.getpeername(u, reinterpret_cast<sockaddr*>(&peer), &len));
    R.r("udp ioctl(FIONREAD)", a.ioctl(u, FIONREAD, &v));
    R.note("value " + std::to_string(v));
    a.close(u);
}

void sockopt_args(Record& R, Side c, Side, std::uint16_t, int file_fd) {
    Api& a = c.api;
    int fd = a.socket(AF_INET, SOCK_STREAM, 0);
    int v = 1;
    socklen_t len = sizeof v;
    R.r("setsockopt(-1)", a.setsockopt(-1, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
    R.r("setsockopt(file)", a.setsockopt(file_fd, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
    R.r("getsockopt(file)", a.getsockopt(file_fd, SOL_SOCKET, SO_TYPE, &v, &len));
    R.r("set SO_REUSEADDR len 2", a.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, 2));
    R.r("set SO_REUSEADDR len 0", a.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, 0));
    R.r("set SO_REUSEADDR NULL", a.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, nullptr, 4));
    R.r("set SO_REUSEADDR len 8", a.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, 8));
    R.r("set SO_ERROR", a.setsockopt(fd, SOL_SOCKET, SO_ERROR, &v, sizeof v));
    R.r("set SO_TYPE", a.setsockopt(fd, SOL_SOCKET, SO_TYPE, &v, sizeof v));
    R.r("set SOL_SOCKET 9999", a.setsockopt(fd, SOL_SOCKET, 9999, &v, sizeof v));
    R.r("set level 9999", a.setsockopt(fd, 9999, 1, &v, sizeof v));
    R.r("set TCP 9999", a.setsockopt(fd, IPPROTO_TCP, 9999, &v, sizeof v));
    len = sizeof v;
    R.r("get level 9999", a.getsockopt(fd, 9999, 1, &v, &len));
    len = sizeof v;
    R.r("get SOL_SOCKET 9999", a.getsockopt(fd, SOL_SOCKET, 9999, &v, &len));
    len = sizeof v;
    R.r("get TCP 9999", a.getsockopt(fd, IPPROTO_TCP, 9999, &v, &len));
    R.r("get NULL len", a.getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, nullptr));
    len = sizeof v;
    R.r("get NULL value", a.getsockopt(fd, SOL_SOCKET, SO_TYPE, nullptr, &len));
    len = 0;
    R.r("get NULL value len 0", a.getsockopt(fd, SOL_SOCKET, SO_TYPE, nullptr, &len));
    len = static_cast<socklen_t>(-1);
    R.r("get SO_TYPE len -1", a.getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len));
    len = static_cast<socklen_t>(-1);
    R.r("get TCP_NODELAY len -1", a.getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len));
    len = 2;
    v = 0;
    R.r("get SO_TYPE len 2", a.getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len));
    R.note("value " + std::to_string(v) + " len " + std::to_string(len));
    long long big = -1;
    len = sizeof big;
    R.r("get SO_TYPE len 8", a.getsockopt(fd, SOL_SOCKET, SO_TYPE, &big, &len));
    R.note("len " + std::to_string(len));
    len = 0;
    R.r("get TCP_NODELAY len 0", a.getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len));
    R.note("len " + std::to_string(len));

    auto get = [&](const char* what, int level, int name) {
        int x = -7;
        socklen_t l = sizeof x;
        R.r(std::string("get ") + what, a.getsockopt(fd, level, name, &x, &l));
        R.note(std::string(what) + " = " + std::to_string(x) + " len " + std::to_string(l));
    };
    auto set = [&](const char* what, int level, int name, int x) {
        R.r(std::string("set ") + what + " " + std::to_string(x),
            a.setsockopt(fd, level, name, &x, sizeof x));
    };
    get("SO_TYPE", SOL_SOCKET, SO_TYPE);
    get("SO_DOMAIN", SOL_SOCKET, SO_DOMAIN);
    get("SO_PROTOCOL", SOL_SOCKET, SO_PROTOCOL);
    get("SO_ACCEPTCONN", SOL_SOCKET, SO_ACCEPTCONN);
    get("SO_ERROR", SOL_SOCKET, SO_ERROR);
    get("SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR);
    set("SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR, 5);
    get("SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR);
    get("SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE);
    set("SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, 3);
    get("SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE);
    for (int x : {21000, 1, 0, -5, 1 << 30}) {
        set("SO_SNDBUF", SOL_SOCKET, SO_SNDBUF, x);
        get("SO_SNDBUF", SOL_SOCKET, SO_SNDBUF);
        set("SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, x);
        get("SO_RCVBUF", SOL_SOCKET, SO_RCVBUF);
    }
    get("TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY);
    set("TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY, 7);
    get("TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY);
    get("TCP_CORK", IPPROTO_TCP, TCP_CORK);
    set("TCP_CORK", IPPROTO_TCP, TCP_CORK, 9);
    get("TCP_CORK", IPPROTO_TCP, TCP_CORK);
    get("TCP_MAXSEG", IPPROTO_TCP, TCP_MAXSEG);
    for (int x : {87, 88, 1000, 32767, 32768, 0, -1}) {
        set("TCP_MAXSEG", IPPROTO_TCP, TCP_MAXSEG, x);
        get("TCP_MAXSEG", IPPROTO_TCP, TCP_MAXSEG);
    }
    get("TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE);
    get("TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL);
    get("TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT);
    for (int x : {0, 1, 32767, 32768}) {
        set("TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE, x);
        set("TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL, x);
    }
    for (int x : {0, 1, 127, 128})
        set("TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT, x);
    get("TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE);
    get("TCP_SYNCNT", IPPROTO_TCP, TCP_SYNCNT);
    for (int x : {0, 1, 127, 128}) {
        set("TCP_SYNCNT", IPPROTO_TCP, TCP_SYNCNT, x);
        get("TCP_SYNCNT", IPPROTO_TCP, TCP_SYNCNT);
    }
    get("TCP_USER_TIMEOUT", IPPROTO_TCP, TCP_USER_TIMEOUT);
    for (int x : {-1, 0, 5000}) {
        set("TCP_USER_TIMEOUT", IPPROTO_TCP, TCP_USER_TIMEOUT, x);
        get("TCP_USER_TIMEOUT", IPPROTO_TCP, TCP_USER_TIMEOUT);
    }
    get("TCP_NOTSENT_LOWAT", IPPROTO_TCP, TCP_NOTSENT_LOWAT);
    for (int x : {-1, 0, 16384}) {
        set("TCP_NOTSENT_LOWAT", IPPROTO_TCP, TCP_NOTSENT_LOWAT, x);
        get("TCP_NOTSENT_LOWAT", IPPROTO_TCP, TCP_NOTSENT_LOWAT);
    }
    R.r("set TCP_NODELAY len 2", a.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, 2));
    R.r("set TCP_NODELAY NULL", a.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, nullptr, 4));
    R.r("set TCP_MAXSEG len 2", a.setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &v, 2));

    linger lg{1, 5};
    R.r("set SO_LINGER", a.setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
    R.r("set SO_LINGER len 4", a.setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, 4));
    lg = {};
    len = sizeof lg;
    R.r("get SO_LINGER", a.getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len));
    R.note("linger " + std::to_string(lg.l_onoff) + "/" + std::to_string(lg.l_linger) + " len " +
           std::to_string(len));
    lg = {7, -3};
    R.r("set SO_LINGER 7/-3", a.setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
    len = sizeof lg;
    R.r("get SO_LINGER", a.getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len));
    R.note("linger " + std::to_string(lg.l_onoff) + "/" + std::to_string(lg.l_linger));

    timeval tv{1, 500000};
    R.r("set SO_RCVTIMEO", a.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    R.r("set SO_RCVTIMEO len 8", a.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, 8));
    tv = {};
    len = sizeof tv;
    R.r("get SO_RCVTIMEO", a.getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len));
    R.note("tv " + std::to_string(tv.tv_sec) + "." + std::to_string(tv.tv_usec));
    tv = {1, 1000000};
    R.r("set SO_SNDTIMEO usec 1e6", a.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
    tv = {-1, 0};
    R.r("set SO_SNDTIMEO -1 s", a.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
    len = sizeof tv;
    R.r("get SO_SNDTIMEO", a.getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len));
    R.note("tv " + std::to_string(tv.tv_sec) + "." + std::to_string(tv.tv_usec));
    tv = {0, 1};
    R.r("set SO_SNDTIMEO 1 us", a.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
    len = sizeof tv;
    R.r("get SO_SNDTIMEO", a.getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len));
    R.note("tv " + std::to_string(tv.tv_sec) + "." + std::to_string(tv.tv_usec));

    tcp_info ti{};
    len = sizeof ti;
    R.r("get TCP_INFO (fresh)", a.getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len));
    R.note("state " + std::to_string(ti.tcpi_state) + " len ok " +
           std::to_string(len == sizeof ti));
    len = 8;
    R.r("get TCP_INFO len 8", a.getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len));
    R.note("len " + std::to_string(len));
    a.close(fd);

    int u = a.socket(AF_INET, SOCK_DGRAM, 0);
    R.r("udp set TCP_NODELAY", a.setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v));
    len = sizeof v;
    R.r("udp get TCP_NODELAY", a.getsockopt(u, IPPROTO_TCP, TCP_NODELAY, &v, &len));
    len = sizeof v;
    R.r("udp get SO_TYPE", a.getsockopt(u, SOL_SOCKET, SO_TYPE, &v, &len));
    R.note("value " + std::to_string(v));
    a.close(u);
}

void fcntl_ioctl(Record& R, Side c, Side s, std::uint16_t port, int) {
    Api& a = c.api;
    int fd = a.socket(AF_INET, SOCK_STREAM, 0);
    R.r("F_GETFL", a.fcntl(fd, F_GETFL, 0));
    R.r("F_SETFL O_NONBLOCK", a.fcntl(fd, F_SETFL, O_NONBLOCK));
    R.r("F_GETFL", a.fcntl(fd, F_GETFL, 0));
    R.r("F_SETFL 0", a.fcntl(fd, F_SETFL, 0));
    R.r("F_GETFL", a.fcntl(fd, F_GETFL, 0));
    R.r("F_SETFL O_NONBLOCK|O_APPEND", a.fcntl(fd, F_SETFL, O_NONBLOCK | O_APPEND));
    R.r("F_GETFL", a.fcntl(fd, F_GETFL, 0));
    R.r("F_GETFD", a.fcntl(fd, F_GETFD, 0));
    R.r("F_SETFD", a.fcntl(fd, F_SETFD, FD_CLOEXEC));
    R.r("F_GETFD", a.fcntl(fd, F_GETFD, 0));
    R.r("fcntl(-1)", a.fcntl(-1, F_GETFL, 0));
    int v = 0;
    R.r("FIONBIO 0", a.ioctl(fd, FIONBIO, &v));
    R.r("F_GETFL", a.fcntl(fd, F_GETFL, 0));
    v = 1;
    R.r("FIONBIO 1", a.ioctl(fd, FIONBIO, &v));
    R.r("F_GETFL", a.fcntl(fd, F_GETFL, 0));
    a.close(fd);

    auto [cl, sv] = connected(c, s, port);
    R.r("server send 10", s.api.sendto(sv, "0123456789", 10, 0, nullptr, 0));
    R.note("revents " + hex(static_cast<unsigned short>(settle(a, cl, POLLIN))));
    R.r("FIONREAD", a.ioctl(cl, FIONREAD, &v));
    R.note("value " + std::to_string(v));
    char buf[32];
    R.r("recv PEEK 4", a.recvfrom(cl, buf, 4, MSG_PEEK, nullptr, nullptr));
    R.r("FIONREAD", a.ioctl(cl, FIONREAD, &v));
    R.note("value " + std::to_string(v));
    iovec iov[2] = {{buf, 3}, {buf + 3, 20}};
    R.r("readv 3+20", a.readv(cl, iov, 2));
    R.r("readv iovcnt -1", a.readv(cl, iov, -1));
    R.r("readv iovcnt 1025", a.readv(cl, iov, 1025));
    R.r("recv DONTWAIT", a.recvfrom(cl, buf, sizeof buf, MSG_DONTWAIT, nullptr, nullptr));
    R.r("recv OOB", a.recvfrom(cl, buf, sizeof buf, MSG_OOB | MSG_DONTWAIT, nullptr, nullptr));
    R.r("recv 0 bytes", a.recvfrom(cl, buf, 0, MSG_DONTWAIT, nullptr, nullptr));
    R.r("send 0 bytes", a.sendto(cl, buf, 0, 0, nullptr, 0));
    R.r("writev iovcnt 0", a.writev(cl, iov, 0));
    R.r("writev iovcnt -1", a.writev(cl, iov, -1));
    R.r("writev iovcnt 1025", a.writev(cl, iov, 1025));
    msghdr m{};
    R.r("sendmsg empty", a.sendmsg(cl, &m, 0));
    m.msg_iov = iov;
    m.msg_iovlen = 1025;
    R.r("sendmsg iovlen 1025", a.sendmsg(cl, &m, 0));
    m.msg_iovlen = 0;
    R.r("recvmsg empty", a.recvmsg(cl, &m, MSG_DONTWAIT));
    R.r("SIOCOUTQ", a.ioctl(cl, SIOCOUTQ, &v));
    R.note("value " + std::to_string(v));
    R.r("F_GETFL (accepted)", s.api.fcntl(sv, F_GETFL, 0));
    a.close(cl);
    s.api.close(sv);
}

void epoll_args(Record& R, Side c, Side, std::uint16_t, int file_fd) {
    Api& a = c.api;
    R.fd("epoll_create(0)", a.epoll_create(0));
    R.fd("epoll_create(-1)", a.epoll_create(-1));
    R.fd("epoll_create1(1)", a.epoll_create1(1));
    int ep = R.fd("epoll_create1(CLOEXEC)", a.epoll_create1(EPOLL_CLOEXEC));
    int fd = a.socket(AF_INET, SOCK_STREAM, 0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    R.r("ctl(-1, ADD)", a.epoll_ctl(-1, EPOLL_CTL_ADD, fd, &ev));
    R.r("ctl(sock, ADD)", a.epoll_ctl(fd, EPOLL_CTL_ADD, fd, &ev));
    R.r("ctl(file, ADD)", a.epoll_ctl(file_fd, EPOLL_CTL_ADD, fd, &ev));
    R.r("ctl(ep, ADD, -1)", a.epoll_ctl(ep, EPOLL_CTL_ADD, -1, &ev));
    R.r("ctl(ep, ADD, ep)", a.epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
    R.r("ctl(ep, ADD, file)", a.epoll_ctl(ep, EPOLL_CTL_ADD, file_fd, &ev));
    R.r("ctl(ep, ADD, NULL)", a.epoll_ctl(ep, EPOLL_CTL_ADD, fd, nullptr));
    R.r("ctl(-1, ADD, NULL)", a.epoll_ctl(-1, EPOLL_CTL_ADD, fd, nullptr));
    R.r("ctl(ep, MOD, missing)", a.epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev));
    R.r("ctl(ep, DEL, missing)", a.epoll_ctl(ep, EPOLL_CTL_DEL, fd, &ev));
    R.r("ctl(ep, 99)", a.epoll_ctl(ep, 99, fd, &ev));
    R.r("ctl(ep, ADD)", a.epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
    R.r("ctl(ep, ADD) again", a.epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    R.r("ctl(ep, MOD, EXCLUSIVE)", a.epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev));
    ev.events = EPOLLIN | EPOLLOUT;
    R.r("ctl(ep, MOD)", a.epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev));
    epoll_event out[4];
    R.r("wait(ep, 0 events)", a.epoll_wait(ep, out, 0, 0));
    R.r("wait(ep, -1 events)", a.epoll_wait(ep, out, -1, 0));
    R.r("wait(-1)", a.epoll_wait(-1, out, 4, 0));
    R.r("wait(sock)", a.epoll_wait(fd, out, 4, 0));
    R.r("wait(file)", a.epoll_wait(file_fd, out, 4, 0));
    int n = static_cast<int>(R.r("wait(ep)", a.epoll_wait(ep, out, 4, 0)));
    for (int i = 0; i < n; ++i)
        R.note("events " + hex(out[i].events));
    R.r("ctl(ep, DEL, NULL)", a.epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr));
    R.r("ctl(ep, DEL) again", a.epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr));
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    R.r("ctl(ep, ADD, EXCLUSIVE)", a.epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
    ev.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
    R.r("ctl(ep, ADD, EXCLUSIVE|ONESHOT)", a.epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
    a.close(fd);
    R.r("wait(ep) after close", a.epoll_wait(ep, out, 4, 0));
    R.r("close(ep)", a.close(ep));
    R.r("wait(closed ep)", a.epoll_wait(ep, out, 4, 0));
}

// Readiness through the life of a connection, by poll and by epoll (level and edge).
void connection_life(Record& R, Side c, Side s, std::uint16_t port, int) {
    Api& a = c.api;
    auto [cl, sv] = connected(c, s, port);
    const short all = POLLIN | POLLOUT | POLLRDHUP | POLLPRI;
    R.note("established " + hex(static_cast<unsigned short>(settle(a, cl, POLLOUT, all))));
    int ep = a.epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLET | EPOLLRDHUP;
    a.epoll_ctl(ep, EPOLL_CTL_ADD, cl, &ev);
    epoll_event out[4];
    R.r("ET wait, nothing", a.epoll_wait(ep, out, 4, 0));
    s.api.sendto(sv, "abc", 3, 0, nullptr, 0);
    R.r("ET wait, data", a.epoll_wait(ep, out, 4, 2000));
    R.note("events " + hex(out[0].events));
    R.r("ET wait, again", a.epoll_wait(ep, out, 4, 0));
    s.api.shutdown(sv, SHUT_WR);
    R.r("ET wait, FIN", a.epoll_wait(ep, out, 4, 2000));
    R.note("events " + hex(out[0].events));
    R.note("peer FIN " + hex(static_cast<unsigned short>(settle(a, cl, POLLRDHUP, all))));
    char buf[16];
    R.r("recv", a.recvfrom(cl, buf, sizeof buf, 0, nullptr, nullptr));
    R.r("recv at EOF", a.recvfrom(cl, buf, sizeof buf, 0, nullptr, nullptr));
    R.r("send after peer FIN", a.sendto(cl, "x", 1, 0, nullptr, 0));
    R.r("shutdown(WR)", a.shutdown(cl, SHUT_WR));
    R.note("both shut " + hex(static_cast<unsigned short>(settle(a, cl, POLLHUP, all))));
    R.note("state " + std::to_string(settle_state(a, cl, 7 /* TCP_CLOSE */)));
    R.r("send after shutdown", a.sendto(cl, "x", 1, MSG_NOSIGNAL, nullptr, 0));
    R.r("shutdown(WR) again", a.shutdown(cl, SHUT_WR));
    R.r("server recv", s.api.recvfrom(sv, buf, sizeof buf, 0, nullptr, nullptr));
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    R.r("getpeername", a.getpeername(cl, reinterpret_cast<sockaddr*>(&peer), &len));
    a.close(ep);
    a.close(cl);
    s.api.close(sv);
}

// Close with unread data resets the peer: ECONNRESET once, then EOF; writes EPIPE.
void reset_by_peer(Record& R, Side c, Side s, std::uint16_t port, int) {
    Api& a = c.api;
    auto [cl, sv] = connected(c, s, port);
    a.sendto(cl, "unread", 6, 0, nullptr, 0);
    pollfd p{sv, POLLIN, 0};
    s.api.poll(&p, 1, 2000);
    R.r("server close with unread", s.api.close(sv));
    const short all = POLLIN | POLLOUT | POLLRDHUP;
    R.note("reset " + hex(static_cast<unsigned short>(settle(a, cl, POLLERR, all))));
    int err = -1;
    socklen_t len = sizeof err;
    tcp_info ti{};
    len = sizeof ti;
    a.getsockopt(cl, IPPROTO_TCP, TCP_INFO, &ti, &len);
    R.note("tcpi_state " + std::to_string(ti.tcpi_state));
    char buf[16];
    R.r("recv after RST", a.recvfrom(cl, buf, sizeof buf, 0, nullptr, nullptr));
    R.note("after recv " + hex(static_cast<unsigned short>(settle(a, cl, POLLIN, all))));
    R.r("recv again", a.recvfrom(cl, buf, sizeof buf, 0, nullptr, nullptr));
    R.r("send", a.sendto(cl, "x", 1, MSG_NOSIGNAL, nullptr, 0));
    len = sizeof err;
    R.r("SO_ERROR", a.getsockopt(cl, SOL_SOCKET, SO_ERROR, &err, &len));
    R.note("SO_ERROR value " + std::to_string(err));
    sockaddr_in peer{};
    len = sizeof peer;
    R.r("getpeername", a.getpeername(cl, reinterpret_cast<sockaddr*>(&peer), &len));
    R.r("shutdown(RDWR)", a.shutdown(cl, SHUT_RDWR));
    R.r("connect again", a.connect(cl, sa(sin_of(s.ip, port)), sizeof(sockaddr_in)));
    a.close(cl);

    // The same with a reset that comes while the client has not read yet, send first.
    auto [cl2, sv2] = connected(c, s, port);
    a.sendto(cl2, "unread", 6, 0, nullptr, 0);
    pollfd q{sv2, POLLIN, 0};
    s.api.poll(&q, 1, 2000);
    s.api.close(sv2);
    settle(a, cl2, POLLERR, all);
    R.r("send after RST", a.sendto(cl2, "x", 1, MSG_NOSIGNAL, nullptr, 0));
    R.r("send again", a.sendto(cl2, "x", 1, MSG_NOSIGNAL, nullptr, 0));
    R.r("recv", a.recvfrom(cl2, buf, sizeof buf, 0, nullptr, nullptr));
    a.close(cl2);

    // SO_LINGER {1, 0}: close sends RST; the peer sees ECONNRESET.
    auto [cl3, sv3] = connected(c, s, port);
    linger lg{1, 0};
    a.setsockopt(cl3, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    R.r("close with linger 0", a.close(cl3));
    settle(s.api, sv3, POLLERR, all);
    R.r("peer recv", s.api.recvfrom(sv3, buf, sizeof buf, 0, nullptr, nullptr));
    s.api.close(sv3);
}

void udp_basics(Record& R, Side c, Side s, std::uint16_t port, int) {
    Api& a = c.api;
    int su = s.api.socket(AF_INET, SOCK_DGRAM, 0);
    auto srv = sin_of(s.ip, port);
    s.api.bind(su, sa(srv), sizeof srv);
    int cu = a.socket(AF_INET, SOCK_DGRAM, 0);
    R.r("sendto", a.sendto(cu, "hello", 5, 0, sa(srv), sizeof srv));
    R.r("sendto len 8", a.sendto(cu, "hello", 5, 0, sa(srv), 8));
    R.r("sendto NULL addr, len 16", a.sendto(cu, "hello", 5, 0, nullptr, sizeof srv));
    R.note("server " + hex(static_cast<unsigned short>(settle(s.api, su, POLLIN))));
    int v = 0;
    R.r("FIONREAD", s.api.ioctl(su, FIONREAD, &v));
    R.note("value " + std::to_string(v));
    char buf[3];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    R.r("recvfrom 3 TRUNC",
        s.api.recvfrom(su, buf, sizeof buf, MSG_TRUNC, reinterpret_cast<sockaddr*>(&from), &len));
    R.note("from len " + std::to_string(len));
    R.r("recvfrom nonblocking",
        s.api.recvfrom(su, buf, sizeof buf, MSG_DONTWAIT, nullptr, nullptr));
    a.close(cu);
    s.api.close(su);
}

// Flags and shapes of data calls on a connection.
void data_paths(Record& R, Side c, Side s, std::uint16_t port, int) {
    Api& a = c.api;
    auto [cl, sv] = connected(c, s, port);
    char buf[64];
    sockaddr_in from{};
    from.sin_port = 77;
    socklen_t flen = sizeof from;
    s.api.sendto(sv, "0123456789", 10, 0, nullptr, 0);
    settle(a, cl, POLLIN);
    R.r("recvfrom with address",
        a.recvfrom(cl, buf, 2, 0, reinterpret_cast<sockaddr*>(&from), &flen));
    R.note("fromlen " + std::to_string(flen) + " port untouched " +
           std::to_string(from.sin_port == 77));
    R.r("recv PEEK|DONTWAIT", a.recvfrom(cl, buf, 3, MSG_PEEK | MSG_DONTWAIT, nullptr, nullptr));
    R.r("recv TRUNC (discard 3)", a.recvfrom(cl, nullptr, 3, MSG_TRUNC, nullptr, nullptr));
    R.r("recv WAITALL 5", a.recvfrom(cl, buf, 5, MSG_WAITALL, nullptr, nullptr));
    R.note(std::string("got ") + std::string(buf, 5));
    msghdr m{};
    iovec v{buf, sizeof buf};
    m.msg_iov = &v;
    m.msg_iovlen = 1;
    m.msg_name = &from;
    m.msg_namelen = sizeof from;
    m.msg_flags = 0x7;
    s.api.sendto(sv, "ab", 2, 0, nullptr, 0);
    settle(a, cl, POLLIN);
    R.r("recvmsg", a.recvmsg(cl, &m, 0));
    R.note("namelen " + std::to_string(m.msg_namelen) + " flags " + hex(m.msg_flags));

    auto other = sin_of(s.ip, port + 9);
    R.r("sendto with address (TCP)", a.sendto(cl, "xy", 2, 0, sa(other), sizeof other));
    R.r("sendto with short address (TCP)", a.sendto(cl, "xy", 2, 0, sa(other), 4));
    R.r("sendto address len 200 (TCP)", a.sendto(cl, "xy", 2, 0, sa(other), 200));
    settle(s.api, sv, POLLIN);
    R.r("server reads 4", s.api.recvfrom(sv, buf, 4, MSG_WAITALL, nullptr, nullptr));

    int v1 = -1;
    socklen_t len = sizeof v1;
    R.r("SO_ERROR connected", a.getsockopt(cl, SOL_SOCKET, SO_ERROR, &v1, &len));
    R.note("value " + std::to_string(v1));
    tcp_info ti{};
    len = sizeof ti;
    R.r("TCP_INFO connected", a.getsockopt(cl, IPPROTO_TCP, TCP_INFO, &ti, &len));
    R.note(
        "state " + std::to_string(ti.tcpi_state) + " options " +
        std::to_string(ti.tcpi_options & (TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE)));
    sockaddr_in me{};
    len = sizeof me;
    R.r("getsockname connected", a.getsockname(cl, reinterpret_cast<sockaddr*>(&me), &len));
    R.note("addr is ours " + std::to_string(me.sin_addr.s_addr == c.ip) + " port set " +
           std::to_string(me.sin_port != 0));
    len = sizeof me;
    R.r("getpeername connected", a.getpeername(cl, reinterpret_cast<sockaddr*>(&me), &len));
    R.note("peer port " + std::to_string(ntohs(me.sin_port) == port));

    // TCP_INQ: recvmsg tells what is left to read (a received FIN counts one).
    int on = 1;
    R.r("set TCP_INQ", a.setsockopt(cl, IPPROTO_TCP, TCP_INQ, &on, sizeof on));
    R.r("set TCP_INQ 2", a.setsockopt(cl, IPPROTO_TCP, TCP_INQ, &(on = 2), sizeof on));
    on = -1;
    len = sizeof on;
    R.r("get TCP_INQ", a.getsockopt(cl, IPPROTO_TCP, TCP_INQ, &on, &len));
    R.note("value " + std::to_string(on));
    auto inq_recv = [&, cl = cl](const char* what, std::size_t n, std::size_t control) {
        alignas(cmsghdr) unsigned char cbuf[64] = {};
        msghdr mm{};
        iovec vv{buf, n};
        mm.msg_iov = &vv;
        mm.msg_iovlen = 1;
        mm.msg_control = control ? cbuf : nullptr;
        mm.msg_controllen = control;
        R.r(what, a.recvmsg(cl, &mm, MSG_DONTWAIT));
        std::string line = std::string("controllen ") + std::to_string(mm.msg_controllen) +
                           " flags " + hex(mm.msg_flags);
        if (cmsghdr* h = mm.msg_controllen ? CMSG_FIRSTHDR(&mm) : nullptr) {
            int inq;
            std::memcpy(&inq, CMSG_DATA(h), sizeof inq);
            line += " level " + std::to_string(h->cmsg_level) + " type " +
                    std::to_string(h->cmsg_type) + " inq " + std::to_string(inq);
        }
        R.note(line);
    };
    s.api.sendto(sv, "0123456789", 10, 0, nullptr, 0);
    settle(a, cl, POLLIN);
    inq_recv("recvmsg INQ 4", 4, 64);
    inq_recv("recvmsg INQ, no control room", 2, 0);
    inq_recv("recvmsg INQ rest", 10, 64);
    inq_recv("recvmsg INQ, nothing", 10, 64);
    s.api.sendto(sv, "ab", 2, 0, nullptr, 0);
    s.api.shutdown(sv, SHUT_WR);
    settle(a, cl, POLLRDHUP);
    inq_recv("recvmsg INQ 1 before FIN", 1, 64);
    inq_recv("recvmsg INQ last before FIN", 1, 64);
    inq_recv("recvmsg INQ at EOF", 10, 64);

    // SHUT_RD: reads end at once.
    R.r("shutdown(RD)", a.shutdown(cl, SHUT_RD));
    R.r("recv after SHUT_RD", a.recvfrom(cl, buf, sizeof buf, 0, nullptr, nullptr));
    R.note("after SHUT_RD " +
           hex(static_cast<unsigned short>(settle(a, cl, POLLIN, POLLIN | POLLOUT | POLLRDHUP))));
    R.r("send after SHUT_RD", a.sendto(cl, "z", 1, 0, nullptr, 0));
    a.close(cl);
    s.api.close(sv);

    // The peer closes cleanly: EOF, one more write is taken (and answered with RST), then
    // ECONNRESET, then EPIPE.
    auto [c2, s2] = connected(c, s, port);
    R.r("peer close", s.api.close(s2));
    settle(a, c2, POLLRDHUP);
    R.r("recv EOF", a.recvfrom(c2, buf, sizeof buf, 0, nullptr, nullptr));
    R.r("write to closed peer", a.sendto(c2, "x", 1, MSG_NOSIGNAL, nullptr, 0));
    R.note("after RST " +
           hex(static_cast<unsigned short>(settle(a, c2, POLLERR, POLLIN | POLLOUT | POLLRDHUP))));
    R.r("write again", a.sendto(c2, "x", 1, MSG_NOSIGNAL, nullptr, 0));
    R.r("write again", a.sendto(c2, "x", 1, MSG_NOSIGNAL, nullptr, 0));
    R.r("recv", a.recvfrom(c2, buf, sizeof buf, 0, nullptr, nullptr));
    a.close(c2);
}

// Blocking calls and their timeouts.
void timeouts(Record& R, Side c, Side s, std::uint16_t port, int) {
    Api& a = c.api;
    auto [cl, sv] = connected(c, s, port);
    char buf[8];
    using clk = std::chrono::steady_clock;
    auto ms_since = [](clk::time_point t) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(clk::now() - t).count();
    };
    timeval tv{0, 50000};
    a.setsockopt(cl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    auto t = clk::now();
    R.r("recv, 50 ms timeout", a.recvfrom(cl, buf, sizeof buf, 0, nullptr, nullptr));
    const auto waited = ms_since(t);
    R.note("waited 50 ms: " + std::to_string(waited >= 45 && waited < 1000));
    tv = {-1, 0};
    a.setsockopt(cl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    t = clk::now();
    R.r("recv, negative timeout", a.recvfrom(cl, buf, sizeof buf, 0, nullptr, nullptr));
    R.note("at once: " + std::to_string(ms_since(t) < 40));
    a.close(cl);
    s.api.close(sv);

    int l = s.api.socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    s.api.setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    auto srv = sin_of(s.ip, port);
    s.api.bind(l, sa(srv), sizeof srv);
    s.api.listen(l, 1);
    tv = {0, 30000};
    s.api.setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    t = clk::now();
    R.fd("accept, 30 ms timeout", s.api.accept4(l, nullptr, nullptr, 0));
    R.note("waited: " + std::to_string(ms_since(t) >= 25));
    // Accepted sockets inherit the listener's options (not O_NONBLOCK).
    s.api.setsockopt(l, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    s.api.setsockopt(l, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int fd = a.socket(AF_INET, SOCK_STREAM, 0);
    a.connect(fd, sa(srv), sizeof srv);
    int acc = R.fd("accept4 NONBLOCK", s.api.accept4(l, nullptr, nullptr, SOCK_NONBLOCK));
    R.r("F_GETFL accepted", s.api.fcntl(acc, F_GETFL, 0));
    int v = -1;
    socklen_t len = sizeof v;
    s.api.getsockopt(acc, SOL_SOCKET, SO_KEEPALIVE, &v, &len);
    R.note("SO_KEEPALIVE inherited " + std::to_string(v));
    len = sizeof v;
    s.api.getsockopt(acc, IPPROTO_TCP, TCP_NODELAY, &v, &len);
    R.note("TCP_NODELAY inherited " + std::to_string(v));
    timeval got{};
    len = sizeof got;
    s.api.getsockopt(acc, SOL_SOCKET, SO_RCVTIMEO, &got, &len);
    R.note("SO_RCVTIMEO inherited " + std::to_string(got.tv_usec));
    len = sizeof v;
    s.api.getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &len);
    R.note("SO_ACCEPTCONN listener " + std::to_string(v));
    tcp_info ti{};
    len = sizeof ti;
    s.api.getsockopt(l, IPPROTO_TCP, TCP_INFO, &ti, &len);
    R.note("listener state " + std::to_string(ti.tcpi_state));
    R.fd("accept, nonblocking, empty",
         s.api.accept4(l, nullptr, nullptr, 0) >= 0 ? 0 : (errno == EAGAIN ? -1 : -2));
    a.close(fd);
    s.api.close(acc);
    s.api.close(l);
}

// poll and epoll beyond the error paths.
void readiness(Record& R, Side c, Side s, std::uint16_t port, int) {
    Api& a = c.api;
    pollfd none[2] = {{-1, POLLIN, 5}, {-7, POLLOUT, 5}};
    R.r("poll negative fds", a.poll(none, 2, 0));
    R.note("revents " + std::to_string(none[0].revents) + " " + std::to_string(none[1].revents));
    R.r("poll nothing", a.poll(nullptr, 0, 0));
    int gone = a.socket(AF_INET, SOCK_STREAM, 0);
    a.close(gone);
    pollfd closed{gone, POLLIN, 0};
    R.r("poll closed fd", a.poll(&closed, 1, 0));
    R.note("revents " + hex(static_cast<unsigned short>(closed.revents)));
    int fresh = a.socket(AF_INET, SOCK_STREAM, 0);
    pollfd p0{fresh, 0, 0};
    R.r("poll fresh, no events asked", a.poll(&p0, 1, 0));
    R.note("revents " + hex(static_cast<unsigned short>(p0.revents)));

    int ep = a.epoll_create1(0);
    epoll_event ev{};
    ev.events = 0;
    a.epoll_ctl(ep, EPOLL_CTL_ADD, fresh, &ev);
    epoll_event out[4];
    int n = static_cast<int>(R.r("epoll fresh, no events asked", a.epoll_wait(ep, out, 4, 0)));
    if (n > 0) R.note("events " + hex(out[0].events));
    a.epoll_ctl(ep, EPOLL_CTL_DEL, fresh, nullptr);
    a.close(fresh);

    auto [cl, sv] = connected(c, s, port);
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.u64 = 42;
    a.epoll_ctl(ep, EPOLL_CTL_ADD, cl, &ev);
    s.api.sendto(sv, "a", 1, 0, nullptr, 0);
    n = static_cast<int>(R.r("ONESHOT wait", a.epoll_wait(ep, out, 4, 2000)));
    if (n > 0) R.note("data " + std::to_string(out[0].data.u64));
    R.r("ONESHOT wait again", a.epoll_wait(ep, out, 4, 0));
    R.r("ONESHOT DEL+ADD? no: MOD", a.epoll_ctl(ep, EPOLL_CTL_MOD, cl, &ev));
    R.r("ONESHOT re-armed", a.epoll_wait(ep, out, 4, 0));
    ev.events = EPOLLOUT | EPOLLET;
    a.epoll_ctl(ep, EPOLL_CTL_MOD, cl, &ev);
    n = static_cast<int>(R.r("ET OUT", a.epoll_wait(ep, out, 4, 0)));
    if (n > 0) R.note("events " + hex(out[0].events));
    R.r("ET OUT again", a.epoll_wait(ep, out, 4, 0));
    ev.events = EPOLLIN;
    a.epoll_ctl(ep, EPOLL_CTL_MOD, cl, &ev);
    R.r("LT IN", a.epoll_wait(ep, out, 4, 0));
    R.r("LT IN again", a.epoll_wait(ep, out, 4, 0));
    char b;
    a.recvfrom(cl, &b, 1, 0, nullptr, nullptr);
    R.r("LT IN after read", a.epoll_wait(ep, out, 4, 0));
    ev.events = EPOLLIN | EPOLLRDHUP;
    a.epoll_ctl(ep, EPOLL_CTL_MOD, cl, &ev);
    s.api.shutdown(sv, SHUT_WR);
    n = static_cast<int>(R.r("RDHUP", a.epoll_wait(ep, out, 4, 2000)));
    if (n > 0) R.note("events " + hex(out[0].events));
    // The same socket in two epoll sets.
    int ep2 = a.epoll_create1(0);
    ev.events = EPOLLIN;
    R.r("second set ADD", a.epoll_ctl(ep2, EPOLL_CTL_ADD, cl, &ev));
    R.r("second set wait", a.epoll_wait(ep2, out, 4, 0));
    a.close(cl);
    R.r("wait after close", a.epoll_wait(ep, out, 4, 0));
    a.close(ep2);
    a.close(ep);
    s.api.close(sv);
}

// A connect that stays in SYN-SENT (the listener's accept queue is full, so its SYNs are dropped)
// and what each call says meanwhile; shutdown abandons it.
void connect_in_progress(Record& R, Side c, Side s, std::uint16_t port, int) {
    Api& a = c.api;
    int l = s.api.socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    s.api.setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    auto srv = sin_of(s.ip, port);
    s.api.bind(l, sa(srv), sizeof srv);
    R.r("listen backlog 0", s.api.listen(l, 0));
    int first = a.socket(AF_INET, SOCK_STREAM, 0);
    R.r("first connect", a.connect(first, sa(srv), sizeof srv));
    pollfd lp{l, POLLIN, 0};
    s.api.poll(&lp, 1, 2000);
    int fd = a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    R.r("connect, queue full", a.connect(fd, sa(srv), sizeof srv));
    pollfd p{fd, POLLOUT, 0};
    R.r("poll for 100 ms", a.poll(&p, 1, 100));
    p = {fd, POLLIN | POLLOUT | POLLRDHUP, 0};
    a.poll(&p, 1, 0);
    R.note("SYN-SENT revents " + hex(static_cast<unsigned short>(p.revents)));
    R.r("connect again", a.connect(fd, sa(srv), sizeof srv));
    char buf[4];
    R.r("recv", a.recvfrom(fd, buf, sizeof buf, 0, nullptr, nullptr));
    R.r("send", a.sendto(fd, "x", 1, MSG_NOSIGNAL, nullptr, 0));
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    R.r("getpeername", a.getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len));
    int v = -1;
    len = sizeof v;
    R.r("SIOCOUTQ", a.ioctl(fd, SIOCOUTQ, &v));
    R.note("value " + std::to_string(v));
    tcp_info ti{};
    len = sizeof ti;
    a.getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
    R.note("state " + std::to_string(ti.tcpi_state));
    R.r("shutdown(WR) in SYN-SENT", a.shutdown(fd, SHUT_WR));
    p = {fd, POLLIN | POLLOUT | POLLRDHUP, 0};
    a.poll(&p, 1, 0);
    R.note("after revents " + hex(static_cast<unsigned short>(p.revents)));
    len = sizeof v;
    R.r("SO_ERROR", a.getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &len));
    R.note("value " + std::to_string(v));
    len = sizeof ti;
    a.getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
    R.note("state " + std::to_string(ti.tcpi_state));
    R.r("connect after shutdown", a.connect(fd, sa(srv), sizeof srv));
    a.close(fd);
    a.close(first);
    s.api.close(l);
}

int sysctl_int(const char* path, int fallback) {
    FILE* f = std::fopen(path, "r");
    if (!f) return fallback;
    int v = fallback;
    if (std::fscanf(f, "%d", &v) != 1) v = fallback;
    std::fclose(f);
    return v;
}

struct Named {
    const char* name;
    Scenario fn;
};

const Named kScenarios[] = {
    {"socket_args", socket_args},
    {"bind_args", bind_args},
    {"listen_accept_args", listen_accept_args},
    {"connect_args", connect_args},
    {"unconnected_io", unconnected_io},
    {"sockopt_args", sockopt_args},
    {"fcntl_ioctl", fcntl_ioctl},
    {"epoll_args", epoll_args},
    {"connection_life", connection_life},
    {"reset_by_peer", reset_by_peer},
    {"udp_basics", udp_basics},
    {"data_paths", data_paths},
    {"timeouts", timeouts},
    {"readiness", readiness},
    {"connect_in_progress", connect_in_progress},
};

class VersusKernel : public ::testing::TestWithParam<Named> {
  protected:
    static void SetUpTestSuite() { ::signal(SIGPIPE, SIG_IGN); }
};

TEST_P(VersusKernel, SameResultsAsLinux) {
    const Named& sc = GetParam();
    char path[] = "/tmp/ustack-posix-vs-kernel-XXXXXX";
    int file_fd = ::mkstemp(path);
    ASSERT_GE(file_fd, 0);
    ::unlink(path);

    // The kernel over loopback, on a port nobody uses.
    int probe = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in any = sin_of(htonl(INADDR_LOOPBACK), 0);
    ASSERT_EQ(::bind(probe, sa(any), sizeof any), 0);
    socklen_t len = sizeof any;
    ::getsockname(probe, reinterpret_cast<sockaddr*>(&any), &len);
    ::close(probe);
    const std::uint16_t kport = ntohs(any.sin_port);
    Record kernel;
    {
        KernelApi k;
        Side side{k, htonl(INADDR_LOOPBACK)};
        sc.fn(kernel, side, side, kport, file_fd);
    }

    Record ours;
    {
        auto pair = phy::ThreadLink::make_pair();
        ASSERT_TRUE(pair.has_value());
        posix::RuntimeOptions oa, ob;
        oa.addr = *wire::Ipv4Cidr::parse("10.0.0.1/24");
        ob.addr = *wire::Ipv4Cidr::parse("10.0.0.2/24");
        oa.config.seed = 1;
        ob.config.seed = 2;
        // The limits the kernel here applies to SO_SNDBUF/SO_RCVBUF.
        oa.wmem_max = ob.wmem_max = sysctl_int("/proc/sys/net/core/wmem_max", 212992);
        oa.rmem_max = ob.rmem_max = sysctl_int("/proc/sys/net/core/rmem_max", 212992);
        Runtime ra(*pair->first, oa), rb(*pair->second, ob);
        RuntimeApi a(ra), b(rb);
        sc.fn(ours, Side{a, htonl(0x0a000001)}, Side{b, htonl(0x0a000002)}, 7000, file_fd);
        if (std::getenv("USTACK_VS_KERNEL_COUNTERS")) {
            ra.run_on_stack([](Stack& st, Instant) { st.print_counters(std::cout); });
            rb.run_on_stack([](Stack& st, Instant) { st.print_counters(std::cout); });
        }
    }
    ::close(file_fd);

    std::string diff;
    const auto& k = kernel.lines();
    const auto& o = ours.lines();
    for (std::size_t i = 0; i < std::max(k.size(), o.size()); ++i) {
        const std::string kl = i < k.size() ? k[i] : "(none)";
        const std::string ol = i < o.size() ? o[i] : "(none)";
        if (kl != ol) diff += "  linux:  " + kl + "\n  ustack: " + ol + "\n";
    }
    if (std::getenv("USTACK_VS_KERNEL_DUMP")) {
        for (std::size_t i = 0; i < std::max(k.size(), o.size()); ++i)
            std::printf("%5ld %-56s | %5ld %s\n", i < k.size() ? kernel.times()[i] : 0L,
                        i < k.size() ? k[i].c_str() : "", i < o.size() ? ours.times()[i] : 0L,
                        i < o.size() ? o[i].c_str() : "");
    }
    EXPECT_TRUE(diff.empty()) << sc.name << ": differs from Linux\n" << diff;
}

INSTANTIATE_TEST_SUITE_P(Posix, VersusKernel, ::testing::ValuesIn(kScenarios),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
