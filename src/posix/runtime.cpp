#include "posix/runtime.hpp"

#include <fcntl.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/clock.hpp"
#include "stack/stack.hpp"

namespace ustack::posix {

namespace {

int fail(int e) {
    errno = e;
    return -1;
}

int err_of(std::errc e) {
    return static_cast<int>(e);
}

// Linux's numbering of TCP states (include/net/tcp_states.h), as TCP_INFO reports them for a
// socket the program holds: its connection in TIME-WAIT is CLOSE there (Linux hands TIME-WAIT
// to a separate timewait sock and closes the socket itself).
std::uint8_t linux_state(tcp::State s) {
    switch (s) {
        case tcp::State::kEstablished:
            return 1;
        case tcp::State::kSynSent:
            return 2;
        case tcp::State::kSynReceived:
            return 3;
        case tcp::State::kFinWait1:
            return 4;
        case tcp::State::kFinWait2:
            return 5;
        case tcp::State::kTimeWait:
            return 7;
        case tcp::State::kClosed:
            return 7;
        case tcp::State::kCloseWait:
            return 8;
        case tcp::State::kLastAck:
            return 9;
        case tcp::State::kListen:
            return 10;
        case tcp::State::kClosing:
            return 11;
    }
    return 7;
}

std::uint32_t usec(Duration d) {
    return static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

// Linux clamps SO_SNDBUF/SO_RCVBUF requests to net.core.{w,r}mem_max (RuntimeOptions) and
// stores twice the value; the floors are SOCK_MIN_SNDBUF / SOCK_MIN_RCVBUF.
constexpr int kMinSndbuf = 4608;
constexpr int kMinRcvbuf = 2304;

// Socket timeouts (SO_RCVTIMEO/SO_SNDTIMEO, SO_LINGER) are kept in jiffies as Linux keeps them,
// so what getsockopt reads back is rounded the same way. HZ is 250 on Debian's kernels (and
// this machine's); MAX_SCHEDULE_TIMEOUT (LONG_MAX) means no timeout.
constexpr std::int64_t kHz = 250;
constexpr std::int64_t kMaxTimeout = std::numeric_limits<long>::max();

}  // namespace

struct Sock {
    int fd = -1;
    bool stream = true;
    bool nonblock = false;
    bool closed = false;
    enum class Kind { kFresh, kListener, kConnection, kUdp } kind = Kind::kFresh;
    SocketId sid = 0;
    std::optional<Endpoint> bound;
    bool connecting = false;  // connect() called, not yet reported complete to connect()
    bool connected = false;   // SS_CONNECTED: connect() reported success, or accepted
    // An error to report while the stack has no connection for the socket (a connect in
    // progress abandoned by shutdown: ECONNRESET, as Linux's tcp_disconnect sets sk_err).
    std::errc pending_error{};
    bool port_locked = false;  // bind() named the port (Linux SOCK_BINDPORT_LOCK)
    bool udp_connected = false;
    // shutdown() as asked, kept like Linux's sk_shutdown for poll (also on sockets where
    // shutdown() answered ENOTCONN, as Linux records it there too).
    bool shut_rd = false, shut_wr = false;
    int fl_extra = 0;       // F_SETFL flags kept besides O_NONBLOCK (O_APPEND, O_NOATIME)
    bool recv_inq = false;  // TCP_INQ: recvmsg adds a TCP_CM_INQ control message
    // Options, kept here so they apply when the stack socket is made (listen, connect, accept).
    bool reuse_address = false;
    bool zerocopy = false;  // SO_ZEROCOPY: accepted; MSG_ZEROCOPY sends copy (see README)
    bool nodelay = false;
    bool cork = false;
    int user_mss = 0;               // TCP_MAXSEG
    bool fastopen_connect = false;  // TCP_FASTOPEN_CONNECT
    int syn_count = 0;              // TCP_SYNCNT (0: the stack's)
    unsigned user_timeout = 0;      // TCP_USER_TIMEOUT, ms
    unsigned notsent_lowat = 0;     // TCP_NOTSENT_LOWAT (0: none)
    bool keepalive = false;
    int keep_idle = 7200, keep_intvl = 75, keep_cnt = 9;
    bool linger_on = false;
    std::int64_t linger_jiffies = 0;  // sk_lingertime, kept while linger is off
    int sndbuf = 0, rcvbuf = 0;       // as getsockopt reports them (doubled); 0: the default
    std::int64_t rcvtimeo = kMaxTimeout, sndtimeo = kMaxTimeout;  // jiffies
    // Readiness bookkeeping.
    std::uint64_t version = 1;  // bumped whenever the stack reports news (edge triggers)
    bool efd_readable = false;
};

struct EpollItem {
    int fd = -1;
    std::uint32_t events = 0;
    epoll_data_t data{};
    bool disabled = false;   // EPOLLONESHOT fired
    std::uint64_t seen = 0;  // the socket version last reported (edge-triggered)
};

struct Epoll {
    int fd = -1;
    int flags = 0;  // F_SETFL's O_NONBLOCK etc. (epoll_wait does not look at them, as Linux)
    std::vector<EpollItem> items;  // in the order they were added
};

struct Runtime::Impl {
    phy::Device& device;
    runtime::MonotonicClock clock;
    Stack stack;
    InterfaceId ifc = 0;
    wire::Ipv4Addr local_addr;

    mutable std::mutex mu;
    std::condition_variable cv;
    std::unordered_map<int, std::shared_ptr<Sock>> socks;
    std::unordered_map<SocketId, std::shared_ptr<Sock>> by_sid;
    std::unordered_map<int, std::shared_ptr<Epoll>> epolls;
    std::vector<SocketEvent> events;

    int wmem_max, rmem_max;

    int wake_fd = -1;
    Instant armed = kNever;  // what the stack thread sleeps until (lock held for both sides)
    std::atomic<bool> stop{false};
    std::thread thread;

    Impl(phy::Device& dev, const RuntimeOptions& o)
        : device(dev), stack(o.config), wmem_max(o.wmem_max), rmem_max(o.rmem_max) {
        InterfaceConfig ic;
        ic.addr = o.addr;
        ic.mtu = o.mtu;
        ifc = stack.add_interface(dev, ic);
        if (o.gateway) stack.set_default_gateway(*o.gateway, ifc);
        local_addr = o.addr.addr;
        wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        stack.poll(clock.now());
    }

    // --- the stack thread ---------------------------------------------------------------------
    void run() {
        std::unique_lock lk(mu);
        while (!stop.load()) {
            const Instant now = clock.now();
            stack.poll(now);
            after_poll();
            const Instant deadline = stack.next_deadline();
            armed = deadline;
            lk.unlock();
            pollfd p[2] = {{wake_fd, POLLIN, 0}, {device.fd(), POLLIN, 0}};
            const nfds_t n = device.fd() >= 0 ? 2 : 1;
            if (deadline == kNever) {
                ::ppoll(p, n, nullptr, nullptr);
            } else {
                const Duration wait = std::max(Duration{0}, deadline - now);
                const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
                timespec ts{static_cast<time_t>(ns / 1000000000),
                            static_cast<long>(ns % 1000000000)};
                ::ppoll(p, n, &ts, nullptr);
            }
            std::uint64_t v;
            [[maybe_unused]] auto r = ::read(wake_fd, &v, sizeof v);
            lk.lock();
        }
    }

    void wake() {
        std::uint64_t one = 1;
        [[maybe_unused]] auto r = ::write(wake_fd, &one, sizeof one);
    }

    // Brings the stack's time up to now and takes in what the device holds, as the stack thread
    // would: readiness news is taken in (edge triggers see it at once) and, if what came in needs
    // the stack sooner than the thread's sleep ends (a delayed ACK, say), the thread is woken.
    // Lock held.
    void sync() {
        stack.poll(clock.now());
        after_poll();
        if (stack.next_deadline() < armed) wake();
    }

    // What the stack thread does after a poll, and every call after acting. Lock held.
    // Waiters are woken only when there is news: two waiting threads must not wake each other
    // (each one's look at the stack would otherwise wake the other, a spin).
    void after_poll() {
        events.clear();
        stack.take_events(events);
        // Readiness changes only where the stack reports news, or where a call acted (done()).
        for (const auto& ev : events) {
            auto it = by_sid.find(ev.socket);
            if (it == by_sid.end()) continue;
            ++it->second->version;
            refresh_efd(*it->second);
        }
        if (!events.empty()) cv.notify_all();
    }

    // Ends a call that acted on the stack: readiness updated, waiters woken (whatever the stack
    // reports: a close or a shutdown concerns them too), the thread's deadline re-armed.
    void done(Sock* acted_on = nullptr) {
        after_poll();
        if (acted_on) refresh_efd(*acted_on);
        cv.notify_all();
        wake();
    }

    // --- readiness ----------------------------------------------------------------------------
    std::uint32_t level(const Sock& s) const {
        switch (s.kind) {
            case Sock::Kind::kFresh: {
                // An unconnected TCP socket: Linux (tcp_poll in CLOSE) reports it writable and
                // hung up; a UDP one (datagram_poll) writable. Plus what shutdown() recorded.
                std::uint32_t r = EPOLLOUT | EPOLLWRNORM;
                if (s.stream || (s.shut_rd && s.shut_wr)) r |= EPOLLHUP;
                if (s.pending_error != std::errc{}) r |= EPOLLERR;
                if (s.shut_rd) r |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
                return r;
            }
            case Sock::Kind::kListener:
                return (stack.tcp_poll(s.sid) & events::kReadable) ? (EPOLLIN | EPOLLRDNORM) : 0;
            case Sock::Kind::kUdp: {
                std::uint32_t b = stack.udp_poll(s.sid), r = 0;
                if (b & events::kReadable) r |= EPOLLIN | EPOLLRDNORM;
                if (b & events::kWritable) r |= EPOLLOUT | EPOLLWRNORM;
                if (b & events::kError) r |= EPOLLERR;
                if (s.shut_rd) r |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
                if (s.shut_rd && s.shut_wr) r |= EPOLLHUP;
                return r;
            }
            case Sock::Kind::kConnection:
                break;
        }
        // Linux's tcp_poll: HUP once both directions are shut (or the connection is CLOSE, which
        // shuts both); IN|RDHUP once the receive side is shut (peer's FIN, SHUT_RD, the end);
        // OUT when there is room, and always once the send side is shut (but not in SYN-SENT),
        // so that a writer learns of EPIPE; ERR while an error is not yet reported.
        const std::uint32_t b = stack.tcp_poll(s.sid);
        const bool hangup = b & events::kHangup;
        std::uint32_t r = 0;
        if (b & events::kReadable) r |= EPOLLIN | EPOLLRDNORM;
        if (b & events::kWritable) r |= EPOLLOUT | EPOLLWRNORM;
        if (b & events::kError) r |= EPOLLERR;
        if (hangup) r |= EPOLLHUP;
        if ((b & events::kReadHangup) || hangup || s.shut_rd)
            r |= EPOLLRDHUP | EPOLLIN | EPOLLRDNORM;
        if (hangup || s.shut_wr) r |= EPOLLOUT | EPOLLWRNORM;  // shut_wr: never in SYN-SENT
        return r;
    }

    void refresh_efd(Sock& s) {
        if (s.closed) return;
        const bool readable = (level(s) & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0;
        if (readable == s.efd_readable) return;
        if (readable) {
            std::uint64_t one = 1;
            [[maybe_unused]] auto r = ::write(s.fd, &one, sizeof one);
        } else {
            std::uint64_t v;
            [[maybe_unused]] auto r = ::read(s.fd, &v, sizeof v);
        }
        s.efd_readable = readable;
    }

    // Sleeps until notified or the deadline; false when the deadline passed.
    bool wait(std::unique_lock<std::mutex>& lk,
              std::optional<std::chrono::steady_clock::time_point> until) {
        if (!until) {
            cv.wait(lk);
            return true;
        }
        return cv.wait_until(lk, *until) == std::cv_status::no_timeout ||
               std::chrono::steady_clock::now() < *until;
    }

    // A socket timeout in jiffies as a deadline (none for MAX_SCHEDULE_TIMEOUT; now for 0,
    // which Linux's blocking calls treat as "do not wait").
    static std::optional<std::chrono::steady_clock::time_point> deadline_of(std::int64_t jiffies) {
        if (jiffies >= kMaxTimeout) return std::nullopt;
        return std::chrono::steady_clock::now() +
               std::chrono::microseconds(jiffies * (1000000 / kHz));
    }

    static std::optional<std::chrono::steady_clock::time_point> deadline_ms(int ms) {
        if (ms < 0) return std::nullopt;
        return std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    }

    std::shared_ptr<Sock> find(int fd) const {
        auto it = socks.find(fd);
        return it == socks.end() ? nullptr : it->second;
    }

    // EBADF for a descriptor that does not exist, ENOTSOCK for one that is not a socket of ours.
    int bad_fd(int fd) const {
        if (epolls.count(fd)) return ENOTSOCK;
        if (fd >= 0 && ::fcntl(fd, F_GETFD) >= 0) return ENOTSOCK;
        return EBADF;
    }

    std::shared_ptr<Sock> make_sock(bool stream, bool nonblock, bool cloexec) {
        int efd = ::eventfd(0, EFD_NONBLOCK | (cloexec ? EFD_CLOEXEC : 0));
        if (efd < 0) return nullptr;
        auto s = std::make_shared<Sock>();
        s->fd = efd;
        s->stream = stream;
        s->nonblock = nonblock;
        socks[efd] = s;
        return s;
    }

    void attach(Sock& s, SocketId sid) {
        s.sid = sid;
        by_sid[sid] = socks[s.fd];
    }

    // A new socket's connect (connect(), or sendto() with MSG_FASTOPEN): 0 or an errno.
    int start_connect(Sock& s, Endpoint remote, bool fastopen) {
        if (remote.addr.is_unspecified() || remote.port == 0) return ECONNREFUSED;
        auto r = stack.tcp_connect(remote, s.bound.value_or(Endpoint{}),
                                   static_cast<std::uint16_t>(s.user_mss), fastopen);
        if (!r) return err_of(r.error());
        s.kind = Sock::Kind::kConnection;
        s.connecting = true;
        attach(s, *r);
        apply_options(s);
        done(&s);
        return 0;
    }

    // Applies the options kept on s to its new stack connection.
    void apply_options(Sock& s) {
        if (s.kind != Sock::Kind::kConnection) return;
        (void)stack.tcp_set_nodelay(s.sid, s.nodelay);
        if (s.cork) (void)stack.tcp_set_cork(s.sid, true);
        apply_limits(s);
        if (s.keepalive)
            (void)stack.tcp_set_keepalive(s.sid, true, std::chrono::seconds(s.keep_idle),
                                          std::chrono::seconds(s.keep_intvl),
                                          static_cast<std::uint32_t>(s.keep_cnt));
        if (s.sndbuf || s.rcvbuf) {
            const auto& tc = stack.config().tcp;
            (void)stack.tcp_set_buffers(
                s.sid, s.sndbuf ? static_cast<std::size_t>(s.sndbuf) : tc.send_buffer,
                s.rcvbuf ? static_cast<std::size_t>(s.rcvbuf) : tc.recv_buffer);
        }
        if (s.linger_on) apply_linger(s);
    }

    void apply_limits(Sock& s) {
        if (s.kind != Sock::Kind::kConnection) return;
        (void)stack.tcp_set_limits(s.sid, static_cast<std::uint32_t>(s.syn_count),
                                   std::chrono::milliseconds(s.user_timeout), s.notsent_lowat);
    }

    void apply_linger(Sock& s) {
        if (s.kind != Sock::Kind::kConnection) return;
        if (s.linger_on)
            (void)stack.tcp_set_linger(s.sid, linger_duration(s));
        else
            (void)stack.tcp_set_linger(s.sid, std::nullopt);
    }

    static Duration linger_duration(const Sock& s) {
        if (s.linger_jiffies >= kMaxTimeout) return std::chrono::hours(24 * 365);
        return std::chrono::microseconds(s.linger_jiffies * (1000000 / kHz));
    }

    // Linux's disconnect (connect(AF_UNSPEC), shutdown of a listener or of a connect in
    // progress): the socket is new again, keeping a port bind() named. Lock held.
    void disconnect(Sock& s) {
        switch (s.kind) {
            case Sock::Kind::kUdp:
                (void)stack.udp_disconnect(s.sid);
                s.udp_connected = false;
                if (!s.port_locked) s.bound.reset();
                return;
            case Sock::Kind::kFresh:
                return;
            case Sock::Kind::kListener:
                stack.tcp_close(s.sid);
                break;
            case Sock::Kind::kConnection:
                // tcp_disconnect(): a reset where the peer knows of the connection; a connect
                // still in SYN-SENT ends with ECONNRESET for whoever waits on it.
                if (auto i = stack.tcp_info(s.sid); i && i->state == tcp::State::kSynSent)
                    s.pending_error = std::errc::connection_reset;
                stack.tcp_abort(s.sid);
                break;
        }
        by_sid.erase(s.sid);
        s.sid = 0;
        s.kind = Sock::Kind::kFresh;
        s.connecting = s.connected = false;
        s.shut_rd = s.shut_wr = false;  // tcp_disconnect() clears sk_shutdown
        if (!s.port_locked) s.bound.reset();
    }

    // Whether fd is an open descriptor of the kernel's (not ours).
    static bool kernel_fd(int fd) { return fd >= 0 && ::fcntl(fd, F_GETFD) >= 0; }

    // Whether another socket of ours holds `ep` by bind() alone (listeners and connections are
    // the stack's to judge).
    bool bound_elsewhere(const Sock& self, Endpoint ep) const {
        for (const auto& [fd, o] : socks) {
            if (o.get() == &self || !o->bound || o->stream != self.stream) continue;
            if (o->kind != Sock::Kind::kFresh && o->stream) continue;
            if (o->bound->port != ep.port) continue;
            if (!o->bound->addr.is_unspecified() && !ep.addr.is_unspecified() &&
                o->bound->addr != ep.addr)
                continue;
            if (self.stream && self.reuse_address && o->reuse_address) continue;
            return true;
        }
        return false;
    }

    ssize_t recv(int fd, void* buf, size_t len, int flags, sockaddr* from, socklen_t* fromlen,
                 msghdr* msg = nullptr, std::size_t control_space = 0);

    // TCP_INQ's control message (Linux tcp_inq_hint(): the bytes between what was read and
    // RCV.NXT, so a received FIN counts one). MSG_CTRUNC where it does not fit.
    void put_inq(const Sock& s, msghdr& msg, std::size_t space) {
        int inq = 0;
        if (auto i = stack.tcp_info(s.sid)) inq = static_cast<int>(i->unread);
        if (stack.tcp_poll(s.sid) & events::kReadHangup) ++inq;
        if (!msg.msg_control || space < CMSG_LEN(sizeof inq)) {
            msg.msg_flags |= MSG_CTRUNC;
            return;
        }
        cmsghdr h{};
        h.cmsg_len = CMSG_LEN(sizeof inq);
        h.cmsg_level = IPPROTO_TCP;  // SOL_TCP
        h.cmsg_type = TCP_CM_INQ;
        auto* p = static_cast<unsigned char*>(msg.msg_control);
        std::memcpy(p, &h, sizeof h);
        std::memcpy(p + CMSG_LEN(0), &inq, sizeof inq);
        msg.msg_controllen = std::min<std::size_t>(space, CMSG_SPACE(sizeof inq));
    }

    void raise_sigpipe(int flags) {
        if (!(flags & MSG_NOSIGNAL)) ::pthread_kill(::pthread_self(), SIGPIPE);
    }
};

// --- helpers on addresses ------------------------------------------------------------------------

namespace {

// Pointers: a null pointer where the call would read or write bytes is EFAULT (no probe of
// other bad addresses: those crash as they would in a library, not in the kernel).

// What Linux's move_addr_to_kernel() checks of every address a call is given: EINVAL for a
// negative length or one beyond sockaddr_storage, EFAULT for a missing buffer of some length.
int check_addr_arg(const sockaddr* addr, socklen_t len) {
    if (static_cast<int>(len) < 0 || len > sizeof(sockaddr_storage)) return EINVAL;
    if (len > 0 && !addr) return EFAULT;
    return 0;
}

sa_family_t family_of(const sockaddr* addr) {
    sa_family_t f;
    std::memcpy(&f, addr, sizeof f);
    return f;
}

// An AF_INET address of at least sizeof(sockaddr_in) bytes (the caller checked).
Endpoint endpoint_of(const sockaddr* addr) {
    sockaddr_in in;
    std::memcpy(&in, addr, sizeof in);
    return Endpoint{wire::Ipv4Addr{ntohl(in.sin_addr.s_addr)}, ntohs(in.sin_port)};
}

// EINVAL for a short address, EAFNOSUPPORT for another family (inet_bind's and
// tcp_v4_connect's checks, after check_addr_arg).
int read_addr(const sockaddr* addr, socklen_t len, Endpoint& out) {
    if (len < static_cast<socklen_t>(sizeof(sockaddr_in))) return EINVAL;
    if (family_of(addr) != AF_INET) return EAFNOSUPPORT;
    out = endpoint_of(addr);
    return 0;
}

// Linux's move_addr_to_user(): EFAULT without a length, EINVAL for a negative one, at most
// *len bytes copied, *len set to the address's full size.
int write_addr(Endpoint ep, sockaddr* addr, socklen_t* len) {
    if (!len) return EFAULT;
    if (static_cast<int>(*len) < 0) return EINVAL;
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(ep.port);
    in.sin_addr.s_addr = htonl(ep.addr.value);
    const std::size_t n = std::min<std::size_t>(*len, sizeof in);
    if (n > 0 && !addr) return EFAULT;
    std::memcpy(addr, &in, n);
    *len = sizeof in;
    return 0;
}

template <class T>
int put_opt(const T& v, void* value, socklen_t* len) {
    if (!len) return EFAULT;
    if (static_cast<int>(*len) < 0) return EINVAL;
    const std::size_t n = std::min<std::size_t>(*len, sizeof(T));
    if (n > 0 && !value) return EFAULT;
    if (n > 0) std::memcpy(value, &v, n);
    *len = static_cast<socklen_t>(n);
    return 0;
}

int get_int(const void* value, socklen_t len, int& out) {
    if (len < static_cast<socklen_t>(sizeof(int))) return EINVAL;
    if (!value) return EFAULT;
    std::memcpy(&out, value, sizeof out);
    return 0;
}

}  // namespace

// --- Runtime ------------------------------------------------------------------------------------

Runtime::Runtime(phy::Device& device, RuntimeOptions options)
    : impl_(std::make_unique<Impl>(device, options)) {
    impl_->thread = std::thread([this] { impl_->run(); });
}

Runtime::~Runtime() {
    impl_->stop.store(true);
    impl_->wake();
    impl_->thread.join();
    std::lock_guard lk(impl_->mu);
    for (auto& [fd, s] : impl_->socks)
        ::close(fd);
    for (auto& [fd, e] : impl_->epolls)
        ::close(fd);
    if (impl_->wake_fd >= 0) ::close(impl_->wake_fd);
}

void Runtime::run_on_stack(const std::function<void(Stack&, Instant)>& fn) {
    std::unique_lock lk(impl_->mu);
    fn(impl_->stack, impl_->clock.now());
    impl_->done();
}

void Runtime::wake() {
    impl_->wake();
}

bool Runtime::owns(int fd) const {
    std::lock_guard lk(impl_->mu);
    return impl_->socks.count(fd) || impl_->epolls.count(fd);
}

std::optional<std::uint32_t> Runtime::stack_socket(int fd) const {
    std::lock_guard lk(impl_->mu);
    auto s = impl_->find(fd);
    if (!s || s->sid == 0) return std::nullopt;
    return s->sid;
}

int Runtime::socket(int domain, int type, int protocol) {
    if (domain != AF_INET) return fail(EAFNOSUPPORT);
    const int kind = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    bool stream;
    if (kind == SOCK_STREAM) {
        if (protocol != 0 && protocol != IPPROTO_TCP) return fail(EPROTONOSUPPORT);
        stream = true;
    } else if (kind == SOCK_DGRAM) {
        if (protocol != 0 && protocol != IPPROTO_UDP) return fail(EPROTONOSUPPORT);
        stream = false;
    } else if (kind == SOCK_RAW || kind == SOCK_SEQPACKET || kind == SOCK_RDM) {
        return fail(kind == SOCK_RAW ? EPROTONOSUPPORT : ESOCKTNOSUPPORT);
    } else {
        return fail(EINVAL);
    }
    std::unique_lock lk(impl_->mu);
    impl_->sync();
    auto s = impl_->make_sock(stream, type & SOCK_NONBLOCK, type & SOCK_CLOEXEC);
    if (!s) return fail(errno);
    if (!stream) {
        auto id = impl_->stack.udp_open();
        if (!id) {
            impl_->socks.erase(s->fd);
            ::close(s->fd);
            return fail(err_of(id.error()));
        }
        s->kind = Sock::Kind::kUdp;
        impl_->attach(*s, *id);
    }
    impl_->done(s.get());
    return s->fd;
}

int Runtime::bind(int fd, const sockaddr* addr, socklen_t len) {
    std::unique_lock lk(impl_->mu);
    auto s = impl_->find(fd);
    if (!s) return fail(impl_->bad_fd(fd));
    // inet_bind(): the length, the family (AF_UNSPEC passes for INADDR_ANY, for old
    // programs), the address, then whether the socket is bound already.
    if (int e = check_addr_arg(addr, len)) return fail(e);
    if (len < static_cast<socklen_t>(sizeof(sockaddr_in))) return fail(EINVAL);
    const Endpoint ep0 = endpoint_of(addr);
    if (family_of(addr) != AF_INET && (family_of(addr) != AF_UNSPEC || !ep0.addr.is_unspecified()))
        return fail(EAFNOSUPPORT);
    Endpoint ep = ep0;
    if (!ep.addr.is_unspecified() && ep.addr != impl_->local_addr) return fail(EADDRNOTAVAIL);
    if (s->bound || s->kind == Sock::Kind::kListener || s->kind == Sock::Kind::kConnection)
        return fail(EINVAL);
    impl_->sync();
    if (s->kind == Sock::Kind::kUdp) {
        auto r = impl_->stack.udp_bind(s->sid, ep);
        if (!r) return fail(err_of(r.error()));
        auto l = impl_->stack.udp_local(s->sid);
        s->bound = l ? *l : ep;
        s->port_locked = ep.port != 0;
        return 0;
    }
    auto port = impl_->stack.tcp_check_bind(ep, s->reuse_address);
    if (!port) return fail(err_of(port.error()));
    ep.port = *port;
    if (impl_->bound_elsewhere(*s, ep)) return fail(EADDRINUSE);
    s->port_locked = ep0.port != 0;
    s->bound = ep;
    return 0;
}

int Runtime::listen(int fd, int backlog) {
    std::unique_lock lk(impl_->mu);
    auto s = impl_->find(fd);
    if (!s) return fail(impl_->bad_fd(fd));
    if (s->kind == Sock::Kind::kUdp) return fail(EOPNOTSUPP);
    if (s->kind == Sock::Kind::kListener) return 0;  // Linux only updates the backlog
    if (s->kind == Sock::Kind::kConnection) return fail(EINVAL);
    impl_->sync();
    if (!s->bound) {  // autobind, as Linux does
        auto port = impl_->stack.tcp_check_bind(Endpoint{}, false);
        if (!port) return fail(err_of(port.error()));
        s->bound = Endpoint{{}, *port};
    }
    // Linux compares the backlog unsigned with net.core.somaxconn (4096): -1 means the most.
    const auto bl = std::min<std::uint32_t>(static_cast<std::uint32_t>(backlog), 4096);
    auto id = impl_->stack.tcp_listen(*s->bound, std::max<std::uint32_t>(bl, 1), s->reuse_address);
    if (!id) return fail(err_of(id.error()));
    s->kind = Sock::Kind::kListener;
    impl_->attach(*s, *id);
    if (s->user_mss)
        (void)impl_->stack.tcp_set_maxseg(*id, static_cast<std::uint16_t>(s->user_mss));
    impl_->done(s.get());
    return 0;
}

int Runtime::accept(int fd, sockaddr* addr, socklen_t* len) {
    return accept4(fd, addr, len, 0);
}

int Runtime::accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return fail(EINVAL);
    std::unique_lock lk(impl_->mu);
    auto s = impl_->find(fd);
    if (!s) return fail(impl_->bad_fd(fd));
    if (s->kind == Sock::Kind::kUdp) return fail(EOPNOTSUPP);
    const auto until = Impl::deadline_of(s->rcvtimeo);
    for (;;) {
        if (s->closed) return fail(EBADF);
        // Not (or no longer: shutdown(SHUT_RD) from another thread) listening.
        if (s->kind != Sock::Kind::kListener) return fail(EINVAL);
        impl_->sync();
        Endpoint peer;
        auto r = impl_->stack.tcp_accept(s->sid, &peer);
        if (r) {
            auto c = impl_->make_sock(true, flags & SOCK_NONBLOCK, flags & SOCK_CLOEXEC);
            if (!c) {
                impl_->stack.tcp_abort(*r);
                return fail(errno);
            }
            c->kind = Sock::Kind::kConnection;
            c->connected = true;
            // Accepted sockets inherit the listener's options, as on Linux.
            c->nodelay = s->nodelay;
            c->cork = s->cork;
            c->user_timeout = s->user_timeout;
            c->notsent_lowat = s->notsent_lowat;
            c->user_mss = s->user_mss;
            c->keepalive = s->keepalive;
            c->keep_idle = s->keep_idle;
            c->keep_intvl = s->keep_intvl;
            c->keep_cnt = s->keep_cnt;
            c->sndbuf = s->sndbuf;
            c->rcvbuf = s->rcvbuf;
            c->linger_on = s->linger_on;
            c->linger_jiffies = s->linger_jiffies;
            c->rcvtimeo = s->rcvtimeo;
            c->sndtimeo = s->sndtimeo;
            c->syn_count = s->syn_count;
            c->recv_inq = s->recv_inq;
            c->reuse_address = s->reuse_address;
            impl_->attach(*c, *r);
            impl_->apply_options(*c);
            // Linux checks the address arguments only now: a bad one loses the connection.
            if (addr || len) {
                if (int e = write_addr(peer, addr, len)) {
                    impl_->by_sid.erase(c->sid);
                    impl_->stack.tcp_close(c->sid);
                    impl_->socks.erase(c->fd);
                    ::close(c->fd);
                    impl_->done(s.get());
                    return fail(e);
                }
            }
            impl_->done(s.get());
            impl_->refresh_efd(*c);
            return c->fd;
        }
        if (r.error() != std::errc::resource_unavailable_try_again) return fail(err_of(r.error()));
        if (s->nonblock) return fail(EAGAIN);
        if (!impl_->wait(lk, until)) return fail(EAGAIN);
    }
}

int Runtime::connect(int fd, const sockaddr* addr, socklen_t len) {
    std::unique_lock lk(impl_->mu);
    auto s = impl_->find(fd);
    if (!s) return fail(impl_->bad_fd(fd));
    // inet_stream_connect()/inet_dgram_connect(): the length; AF_UNSPEC disconnects; then the
    // socket's state (EISCONN, EALREADY) before the address itself is looked at.
    if (int e = check_addr_arg(addr, len)) return fail(e);
    if (len < static_cast<socklen_t>(sizeof(sa_family_t))) return fail(EINVAL);
    impl_->sync();
    if (family_of(addr) == AF_UNSPEC) {
        impl_->disconnect(*s);
        impl_->done(s.get());
        return 0;
    }
    Endpoint remote;
    if (s->kind == Sock::Kind::kUdp) {
        if (int e = read_addr(addr, len, remote)) return fail(e);
        auto r = impl_->stack.udp_connect(s->sid, remote);
        if (!r) return fail(err_of(r.error()));
        s->udp_connected = true;
        if (auto l = impl_->stack.udp_local(s->sid)) s->bound = *l;
        return 0;
    }
    if (s->kind == Sock::Kind::kListener) return fail(EISCONN);
    if (s->kind == Sock::Kind::kConnection && s->connected) return fail(EISCONN);
    if (s->kind == Sock::Kind::kFresh) {
        if (int e = read_addr(addr, len, remote)) return fail(e);
        if (int e = impl_->start_connect(*s, remote, s->fastopen_connect)) return fail(e);
        // TCP_FASTOPEN_CONNECT with a cookie: connected for the caller; the SYN goes with the
        // first write (Linux's defer_connect).
        if (impl_->stack.tcp_fastopen_deferred(s->sid)) {
            s->connecting = false;
            s->connected = true;
            return 0;
        }
        if (s->nonblock) return fail(EINPROGRESS);
    } else if (s->nonblock && !(impl_->stack.tcp_poll(s->sid) &
                                (events::kWritable | events::kError | events::kHangup))) {
        return fail(EALREADY);
    }
    // Wait for the handshake to end (blocking), or report how it ended (a repeated call).
    const auto until = Impl::deadline_of(s->sndtimeo);
    for (;;) {
        if (s->closed) return fail(EBADF);
        if (s->kind != Sock::Kind::kConnection) {  // abandoned by another thread's shutdown
            const std::errc e = std::exchange(s->pending_error, std::errc{});
            return fail(e != std::errc{} ? err_of(e) : ECONNABORTED);
        }
        impl_->sync();
        auto info = impl_->stack.tcp_info(s->sid);
        const auto ev = impl_->stack.tcp_poll(s->sid);
        if (ev & events::kError || !info || info->state == tcp::State::kClosed) {
            auto e = impl_->stack.tcp_error(s->sid);
            s->connecting = false;
            // A failed connect leaves the socket as new: it may connect again. The port goes
            // back unless bind() named it (Linux: tcp_set_state(CLOSE) -> inet_put_port).
            impl_->by_sid.erase(s->sid);
            impl_->stack.tcp_close(s->sid);
            s->kind = Sock::Kind::kFresh;
            s->sid = 0;
            if (!s->port_locked) s->bound.reset();
            impl_->done(s.get());
            return fail(e && *e != std::errc{} ? err_of(*e) : ECONNABORTED);
        }
        if (info->state != tcp::State::kSynSent && info->state != tcp::State::kSynReceived) {
            s->connecting = false;
            s->connected = true;
            return 0;
        }
        if (s->nonblock) return fail(EALREADY);
        if (!impl_->wait(lk, until)) return fail(EINPROGRESS);
    }
}

ssize_t Runtime::read(int fd, void* buf, size_t count) {
    return recv(fd, buf, count, 0);
}

ssize_t Runtime::readv(int fd, const iovec* iov, int iovcnt) {
    msghdr m{};
    m.msg_iov = const_cast<iovec*>(iov);
    m.msg_iovlen = static_cast<size_t>(iovcnt);
    if (iovcnt < 0 || iovcnt > IOV_MAX) return fail(EINVAL);
    return recvmsg(fd, &m, 0);
}

ssize_t Runtime::recv(int fd, void* buf, size_t len, int flags) {
    return recvfrom(fd, buf, len, flags, nullptr, nullptr);
}

// recvfrom/recvmsg. With msg (recvmsg): msg_flags gets MSG_TRUNC for a datagram cut short, and
// TCP_INQ's control message goes into msg_control's control_space bytes.
ssize_t Runtime::Impl::recv(int fd, void* buf, size_t len, int flags, sockaddr* from,
                            socklen_t* fromlen, msghdr* msg, std::size_t control_space) {
    std::unique_lock lk(mu);
    auto s = find(fd);
    if (!s) return fail(bad_fd(fd));
    // MSG_TRUNC on TCP discards what it reads (no buffer needed).
    const bool discard = s->stream && (flags & MSG_TRUNC);
    if (len > 0 && !buf && !discard) return fail(EFAULT);
    if (flags & MSG_ERRQUEUE) return fail(EAGAIN);  // nothing is ever queued there
    const bool dontwait = s->nonblock || (flags & MSG_DONTWAIT);
    const auto until = deadline_of(s->rcvtimeo);
    auto* out = static_cast<std::byte*>(buf);
    if (s->kind == Sock::Kind::kUdp) {
        for (;;) {
            sync();
            auto r = stack.udp_recvfrom(s->sid, MutableByteSpan{out, len}, (flags & MSG_PEEK) != 0);
            if (r) {
                if (from) write_addr(r->from, from, fromlen);
                if (msg && r->size < r->full_size) msg->msg_flags |= MSG_TRUNC;
                done(s.get());
                return static_cast<ssize_t>((flags & MSG_TRUNC) ? r->full_size : r->size);
            }
            if (r.error() != std::errc::resource_unavailable_try_again)
                return fail(err_of(r.error()));
            if (s->shut_rd) return 0;
            if (dontwait || !wait(lk, until)) return fail(EAGAIN);
            if (s->closed) return fail(EBADF);
        }
    }
    if (s->kind == Sock::Kind::kListener) return fail(ENOTCONN);
    // Urgent data is never kept (URG is not implemented), so there is none to read: Linux's
    // answer then is EINVAL.
    if (flags & MSG_OOB) return fail(EINVAL);
    if (s->kind != Sock::Kind::kConnection) {
        if (s->pending_error != std::errc{})
            return fail(err_of(std::exchange(s->pending_error, std::errc{})));
        return s->shut_rd ? 0 : fail(ENOTCONN);
    }
    const bool peek = flags & MSG_PEEK;
    // TCP has no source address to give: Linux sets the length to 0.
    if (from && fromlen) {
        if (static_cast<int>(*fromlen) < 0) return fail(EINVAL);
    }
    std::vector<std::byte> scratch;
    if (discard) scratch.resize(std::min<std::size_t>(len, 65536));
    std::size_t got = 0;
    for (;;) {
        if (s->closed) return fail(EBADF);
        sync();
        MutableByteSpan into{out + got, len - got};
        if (discard) into = MutableByteSpan{scratch.data(), std::min(scratch.size(), len - got)};
        auto r = stack.tcp_recv(s->sid, into, peek);
        if (r) {
            got += *r;
            done(s.get());
            // MSG_WAITALL (and a discard larger than the scratch) keeps going for the rest
            // unless the stream ended.
            const bool more = (flags & MSG_WAITALL) || (discard && *r == into.size());
            if (*r == 0 || got == len || !more || peek || len == 0) {
                if (from && fromlen) *fromlen = 0;
                if (msg && s->recv_inq) put_inq(*s, *msg, control_space);
                return static_cast<ssize_t>(got);
            }
            if (discard && !(flags & MSG_WAITALL) && !(stack.tcp_poll(s->sid) & events::kReadable))
                return static_cast<ssize_t>(got);
            continue;
        }
        if (r.error() != std::errc::resource_unavailable_try_again) {
            if (got) return static_cast<ssize_t>(got);
            done(s.get());
            return fail(err_of(r.error()));
        }
        if (s->connecting && dontwait && got == 0) return fail(EAGAIN);
        if (dontwait) return got ? static_cast<ssize_t>(got) : fail(EAGAIN);
        if (!wait(lk, until)) return got ? static_cast<ssize_t>(got) : fail(EAGAIN);
    }
}

ssize_t Runtime::recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* from,
                          socklen_t* fromlen) {
    return impl_->recv(fd, buf, len, flags, from, fromlen);
}

ssize_t Runtime::recvmsg(int fd, msghdr* msg, int flags) {
    if (!msg) return fail(EFAULT);
    if (msg->msg_iovlen > IOV_MAX) return fail(EMSGSIZE);
    std::size_t total = 0;
    for (std::size_t i = 0; i < msg->msg_iovlen; ++i) {
        if (!msg->msg_iov) return fail(EFAULT);
        total += msg->msg_iov[i].iov_len;
    }
    // On failure Linux writes nothing back (msg_flags, msg_controllen stay as given).
    const std::size_t control_space = msg->msg_controllen;
    const int given_flags = msg->msg_flags;
    msg->msg_flags = 0;
    msg->msg_controllen = 0;
    auto* name = static_cast<sockaddr*>(msg->msg_name);
    socklen_t* namelen = msg->msg_name ? &msg->msg_namelen : nullptr;
    const bool one = msg->msg_iovlen == 1;
    std::vector<std::byte> tmp(one ? 0 : total);
    ssize_t n = one ? impl_->recv(fd, msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len, flags,
                                  name, namelen, msg, control_space)
                    : impl_->recv(fd, tmp.data(), total, flags, name, namelen, msg, control_space);
    if (n < 0) {
        const int e = errno;
        msg->msg_flags = given_flags;
        msg->msg_controllen = control_space;
        errno = e;
    }
    if (n <= 0 || one) return n;
    std::size_t off = 0;
    for (std::size_t i = 0; i < msg->msg_iovlen && off < static_cast<std::size_t>(n); ++i) {
        const std::size_t k = std::min(msg->msg_iov[i].iov_len, static_cast<std::size_t>(n) - off);
        std::memcpy(msg->msg_iov[i].iov_base, tmp.data() + off, k);
        off += k;
    }
    return n;
}

ssize_t Runtime::write(int fd, const void* buf, size_t count) {
    return send(fd, buf, count, 0);
}

ssize_t Runtime::writev(int fd, const iovec* iov, int iovcnt) {
    if (iovcnt < 0 || iovcnt > IOV_MAX) return fail(EINVAL);
    msghdr m{};
    m.msg_iov = const_cast<iovec*>(iov);
    m.msg_iovlen = static_cast<size_t>(iovcnt);
    return sendmsg(fd, &m, 0);
}

ssize_t Runtime::send(int fd, const void* buf, size_t len, int flags) {
    return sendto(fd, buf, len, flags, nullptr, 0);
}

ssize_t Runtime::sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* to,
                        socklen_t tolen) {
    std::unique_lock lk(impl_->mu);
    auto s = impl_->find(fd);
    if (!s) return fail(impl_->bad_fd(fd));
    if (to) {
        if (int e = check_addr_arg(to, tolen)) return fail(e);
    }
    if (len > 0 && !buf) return fail(EFAULT);
    const bool dontwait = s->nonblock || (flags & MSG_DONTWAIT);
    const auto* in = static_cast<const std::byte*>(buf);
    impl_->sync();
    if (s->kind == Sock::Kind::kUdp) {
        SockResult<std::size_t> r = std::size_t{0};
        if (to) {
            // udp_sendmsg(): AF_UNSPEC is taken for AF_INET.
            if (tolen < static_cast<socklen_t>(sizeof(sockaddr_in))) return fail(EINVAL);
            const auto fam = family_of(to);
            if (fam != AF_INET && fam != AF_UNSPEC) return fail(EAFNOSUPPORT);
            r = impl_->stack.udp_sendto(s->sid, ByteSpan{in, len}, endpoint_of(to));
        } else {
            r = impl_->stack.udp_send(s->sid, ByteSpan{in, len});
            if (!r && r.error() == std::errc::not_connected) return fail(EDESTADDRREQ);
        }
        impl_->done(s.get());
        if (!r) return fail(err_of(r.error()));
        return static_cast<ssize_t>(*r);
    }
    if (s->kind == Sock::Kind::kFresh && (flags & MSG_FASTOPEN)) {
        // TCP Fast Open (RFC 7413): connect and send in one call. With a cookie the SYN carries
        // the data; without one it asks for a cookie and the data waits for the handshake
        // (EINPROGRESS when non-blocking, as Linux).
        if (!to) return fail(EDESTADDRREQ);
        if (family_of(to) == AF_UNSPEC) return fail(EOPNOTSUPP);  // Linux: no disconnect here
        Endpoint remote;
        if (int e = read_addr(to, tolen, remote)) return fail(e);
        if (!impl_->stack.config().tcp.fastopen_client()) return fail(EOPNOTSUPP);
        if (int e = impl_->start_connect(*s, remote, true)) return fail(e);
        // Nothing to carry: the SYN goes with the cookie alone.
        if (len == 0 && impl_->stack.tcp_fastopen_deferred(s->sid))
            (void)impl_->stack.tcp_send(s->sid, ByteSpan{});
        if (!impl_->stack.tcp_fastopen_deferred(s->sid) && dontwait) {
            // The SYN went (asking for a cookie, or with one but no data): the data waits
            // for the handshake, EINPROGRESS (Linux).
            impl_->done(s.get());
            return fail(EINPROGRESS);
        }
        s->connecting = false;
        s->connected = true;
    }
    if (s->kind != Sock::Kind::kConnection) {
        if (s->pending_error != std::errc{})
            return fail(err_of(std::exchange(s->pending_error, std::errc{})));
        impl_->raise_sigpipe(flags);
        return fail(EPIPE);
    }
    const auto until = Impl::deadline_of(s->sndtimeo);
    std::size_t sent = 0;
    for (;;) {
        if (s->closed) return fail(EBADF);
        auto r = impl_->stack.tcp_send(s->sid, ByteSpan{in + sent, len - sent},
                                       (flags & MSG_MORE) != 0, (flags & MSG_EOR) != 0);
        if (r) {
            sent += *r;
            impl_->done(s.get());
            if (sent == len || dontwait) return static_cast<ssize_t>(sent);
        } else if (r.error() != std::errc::resource_unavailable_try_again) {
            impl_->done(s.get());
            if (sent) return static_cast<ssize_t>(sent);
            if (r.error() == std::errc::broken_pipe) impl_->raise_sigpipe(flags);
            return fail(err_of(r.error()));
        } else if (dontwait) {
            return sent ? static_cast<ssize_t>(sent) : fail(EAGAIN);
        }
        if (len == 0) return 0;
        if (!impl_->wait(lk, until)) return sent ? static_cast<ssize_t>(sent) : fail(EAGAIN);
        impl_->sync();
    }
}

ssize_t Runtime::sendmsg(int fd, const msghdr* msg, int flags) {
    if (!msg) return fail(EFAULT);
    if (msg->msg_iovlen > IOV_MAX) return fail(EMSGSIZE);
    if (msg->msg_iovlen == 1)
        return sendto(fd, msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len, flags,
                      static_cast<const sockaddr*>(msg->msg_name), msg->msg_namelen);
    std::vector<std::byte> tmp;
    for (std::size_t i = 0; i < msg->msg_iovlen; ++i) {
        if (!msg->msg_iov || (msg->msg_iov[i].iov_len && !msg->msg_iov[i].iov_base))
            return fail(EFAULT);
        const auto* p = static_cast<const std::byte*>(msg->msg_iov[i].iov_base);
        tmp.insert(tmp.end(), p, p + msg->msg_iov[i].iov_len);
    }
    return sendto(fd, tmp.data(), tmp.size(), flags, static_cast<const sockaddr*>(msg->msg_name),
                  msg->msg_namelen);
}

int Runtime::shutdown(int fd, int how) {
    std::unique_lock lk(impl_->mu);
    auto s = impl_->find(fd);
    if (!s) return fail(impl_->bad_fd(fd));
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) return fail(EINVAL);
    impl_->sync();
    const bool rd = how != SHUT_WR, wr = how != SHUT_RD;
    // inet_shutdown(), by the socket's state.
    switch (s->kind) {
        case Sock::Kind::kFresh:
            // CLOSE: ENOTCONN, yet the shutdown is recorded (poll shows it).
            s->shut_rd |= rd;
            s->shut_wr |= wr;
            impl_->done(s.get());
            return fail(ENOTCONN);
        case Sock::Kind::kUdp:
            s->shut_rd |= rd;
            s->shut_wr |= wr;
            impl_->done(s.get());
            return s->udp_connected ? 0 : fail(ENOTCONN);
        case Sock::Kind::kListener:
            // SHUT_WR does nothing; SHUT_RD stops listening (pending connections are reset).
            if (rd) impl_->disconnect(*s);
            impl_->done(s.get());
            return 0;
        case Sock::Kind::kConnection:
            break;
    }
    auto info = impl_->stack.tcp_info(s->sid);
    const auto state = info ? info->state : tcp::State::kClosed;
    if (state == tcp::State::kSynSent) {  // a connect in progress is abandoned
        impl_->disconnect(*s);
        impl_->done(s.get());
        return 0;
    }
    if (state == tcp::State::kClosed || state == tcp::State::kTimeWait) {
        // What Linux calls CLOSE (a socket whose connection is in TIME-WAIT is CLOSE too).
        impl_->done(s.get());
        return fail(ENOTCONN);
    }
    const auto h = !wr ? tcp::Shutdown::kRead : !rd ? tcp::Shutdown::kWrite : tcp::Shutdown::kBoth;
    auto r = impl_->stack.tcp_shutdown(s->sid, h);
    if (r) {
        s->shut_rd |= rd;
        s->shut_wr |= wr;
    }
    impl_->done(s.get());
    if (!r) return fail(err_of(r.error()));
    return 0;
}

int Runtime::close(int fd) {
    std::unique_lock lk(impl_->mu);
    if (auto e = impl_->epolls.find(fd); e != impl_->epolls.end()) {
        impl_->epolls.erase(e);
        ::close(fd);
        return 0;
    }
    auto s = impl_->find(fd);
    if (!s) return fail(EBADF);
    impl_->sync();
    s->closed = true;
    switch (s->kind) {
        case Sock::Kind::kUdp:
            impl_->stack.udp_close(s->sid);
            break;
        case Sock::Kind::kListener:
        case Sock::Kind::kConnection:
            impl_->apply_linger(*s);
            impl_->stack.tcp_close(s->sid);
            break;
        case Sock::Kind::kFresh:
            break;
    }
    if (s->sid) impl_->by_sid.erase(s->sid);
    impl_->socks.erase(fd);
    for (auto& [efd, ep] : impl_->epolls)
        std::erase_if(ep->items, [fd](const EpollItem& i) { return i.fd == fd; });
    ::close(fd);
    impl_->done(s.get());
    // SO_LINGER with a time: close() waits (blocking or not, as Linux's sk_stream_wait_close)
    // until the FIN is acknowledged or the time is up.
    if (s->kind == Sock::Kind::kConnection && s->linger_on && s->linger_jiffies > 0) {
        const auto until = Impl::deadline_of(s->linger_jiffies);
        for (;;) {
            impl_->sync();
            auto i = impl_->stack.tcp_info(s->sid);
            if (!i || (i->state != tcp::State::kFinWait1 && i->state != tcp::State::kClosing &&
                       i->state != tcp::State::kLastAck))
                break;
            if (!impl_->wait(lk, until)) break;
        }
    }
    return 0;
}

int Runtime::getsockname(int fd, sockaddr* addr, socklen_t* len) {
    std::unique_lock lk(impl_->mu);
    auto s = impl_->find(fd);
    if (!s) return fail(impl_->bad_fd(fd));
    Endpoint ep = s->bound.value_or(Endpoint{});
    if (s->kind == Sock::Kind::kConnection) {
        if (auto i = impl_->stack.tcp_info(s->sid)) ep = Endpoint{i->local.addr, i->local.port};
    } else if (s->kind == Sock::Kind::kUdp) {
        if (auto l = impl_->stack.udp_local(s->sid)) ep = *l;
    }
    if (int e = write_addr(ep, addr, len)) return fail(e);
    return 0;
}

int Runtime::getpeername(int fd, sockaddr* addr, socklen_t* len) {
    std::unique_lock lk(impl_->mu);
    auto s = impl_->find(fd);
    if (!s) return fail(impl_->bad_fd(fd));
    if (s->kind == Sock::Kind::kUdp) {
        auto p = impl_->stack.udp_peer(s->sid);
        if (!p) return fail(ENOTCONN);
        if (int e = write_addr(*p, addr, len)) return fail(e);
        return 0;
    }
    if (s->kind != Sock::Kind::kConnection) return fail(ENOTCONN);
    // Linux: ENOTCONN in SYN-SENT and CLOSE (a socket whose connection is in TIME-WAIT is CLOSE).
    auto i = impl_->stack.tcp_info(s->sid);
    if (!i || i->state == tcp::State::kSynSent || i->state == tcp::State::kClosed ||
        i->state == tcp::State::kTimeWait)
        return fail(ENOTCONN);
    if (int e = write_addr(Endpoint{i->remote.addr, i->remote.port}, addr, len)) return fail(e);
    return 0;
}

int Runtime::getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
    std::unique_lock lk(impl_->mu);
    auto s = impl_->find(fd);
    if (!s) return fail(impl_->bad_fd(fd));
    if (!len) return fail(EFAULT);
    if (static_cast<int>(*len) < 0) return fail(EINVAL);
    impl_->sync();
    const auto& tc = impl_->stack.config().tcp;
    auto put_int = [&](int v) {
        int e = put_opt(v, value, len);
        return e ? fail(e) : 0;
    };
    const bool conn = s->kind == Sock::Kind::kConnection;
    if (level == SOL_SOCKET) {
        switch (name) {
            case SO_TYPE:
                return put_int(s->stream ? SOCK_STREAM : SOCK_DGRAM);
            case SO_DOMAIN:
                return put_int(AF_INET);
            case SO_PROTOCOL:
                return put_int(s->stream ? IPPROTO_TCP : IPPROTO_UDP);
            case SO_ACCEPTCONN:
                return put_int(s->kind == Sock::Kind::kListener);
            case SO_REUSEADDR:
                return put_int(s->reuse_address);
            case SO_ZEROCOPY:
                return put_int(s->zerocopy);
            case SO_KEEPALIVE:
                return put_int(s->keepalive);
            case SO_SNDBUF:
                return put_int(s->sndbuf ? s->sndbuf : static_cast<int>(tc.send_buffer));
            case SO_RCVBUF:
                return put_int(s->rcvbuf ? s->rcvbuf : static_cast<int>(tc.recv_buffer));
            case SO_ERROR: {
                int e = err_of(s->pending_error);
                s->pending_error = {};
                if (conn) {
                    if (auto r = impl_->stack.tcp_error(s->sid); r && *r != std::errc{})
                        e = err_of(*r);
                }
                return put_int(e);
            }
            case SO_MEMINFO: {
                // Linux's sk_meminfo, in bytes of data (ustack has no skb overhead to count).
                std::uint32_t m[SK_MEMINFO_VARS] = {};
                m[SK_MEMINFO_RCVBUF] = static_cast<std::uint32_t>(tc.recv_buffer);
                m[SK_MEMINFO_SNDBUF] = static_cast<std::uint32_t>(tc.send_buffer);
                if (conn) {
                    if (auto i = impl_->stack.tcp_info(s->sid)) {
                        m[SK_MEMINFO_RMEM_ALLOC] = i->unread;
                        m[SK_MEMINFO_RCVBUF] = i->rcv_buffer;
                        m[SK_MEMINFO_SNDBUF] = i->snd_buffer;
                        m[SK_MEMINFO_WMEM_ALLOC] = i->bytes_in_flight;
                        m[SK_MEMINFO_WMEM_QUEUED] = i->bytes_in_flight + i->unsent;
                    }
                }
                if (!value) return fail(EFAULT);
                const std::size_t n = std::min<std::size_t>(*len, sizeof m);
                std::memcpy(value, m, n);
                *len = static_cast<socklen_t>(n);
                return 0;
            }
            case SO_LINGER: {
                // l_onoff as a flag, l_linger as sk_lingertime / HZ in an int, as Linux.
                linger l{s->linger_on ? 1 : 0, static_cast<int>(s->linger_jiffies / kHz)};
                int e = put_opt(l, value, len);
                return e ? fail(e) : 0;
            }
            case SO_RCVTIMEO:
            case SO_SNDTIMEO: {
                // sock_get_timeout(): jiffies back to a timeval; none reads as zero.
                const std::int64_t j = name == SO_RCVTIMEO ? s->rcvtimeo : s->sndtimeo;
                timeval tv{};
                if (j < kMaxTimeout) {
                    tv.tv_sec = static_cast<time_t>(j / kHz);
                    tv.tv_usec = static_cast<suseconds_t>((j % kHz) * 1000000 / kHz);
                }
                int e = put_opt(tv, value, len);
                return e ? fail(e) : 0;
            }
            default:
                return fail(ENOPROTOOPT);
        }
    }
    if (level == IPPROTO_TCP) {
        if (!s->stream) return fail(EOPNOTSUPP);
        switch (name) {
            case TCP_NODELAY:
                return put_int(s->nodelay);
            case TCP_CORK:
                return put_int(s->cork);
            case TCP_SYNCNT:
                return put_int(s->syn_count ? s->syn_count : static_cast<int>(tc.syn_retries));
            case TCP_USER_TIMEOUT:
                return put_int(static_cast<int>(s->user_timeout));
            case TCP_NOTSENT_LOWAT:
                return put_int(static_cast<int>(s->notsent_lowat));
            case TCP_INQ:
                return put_int(s->recv_inq);
            case TCP_KEEPIDLE:
                return put_int(s->keep_idle);
            case TCP_KEEPINTVL:
                return put_int(s->keep_intvl);
            case TCP_KEEPCNT:
                return put_int(s->keep_cnt);
            case TCP_FASTOPEN_CONNECT:
                return put_int(s->fastopen_connect);
            case TCP_MAXSEG: {
                if (conn) {
                    if (auto i = impl_->stack.tcp_info(s->sid);
                        i && i->snd_mss && i->state != tcp::State::kSynSent)
                        return put_int(static_cast<int>(i->snd_mss));
                }
                // Before a connection: the value set, else TCP_MSS_DEFAULT (Linux).
                return put_int(s->user_mss ? s->user_mss : tc.default_mss);
            }
            case TCP_CC_INFO: {
                // NewReno has no congestion-control info: Linux answers such a request with
                // success and a length of 0.
                if (!value) return fail(EFAULT);
                *len = 0;
                return 0;
            }
            case TCP_INFO: {
                tcp_info ti{};
                tcp::TcpInfo i;
                if (conn || s->kind == Sock::Kind::kListener) {
                    if (auto r = impl_->stack.tcp_info(s->sid)) i = *r;
                }
                ti.tcpi_state = linux_state(i.state);
                ti.tcpi_ca_state = i.in_recovery ? 3 : 0;  // TCP_CA_Recovery : TCP_CA_Open
                ti.tcpi_retransmits =
                    static_cast<std::uint8_t>(std::min<std::uint32_t>(i.retransmits, 255));
                ti.tcpi_options = static_cast<std::uint8_t>(
                    (i.timestamps ? TCPI_OPT_TIMESTAMPS : 0) | (i.sack ? TCPI_OPT_SACK : 0) |
                    (i.window_scale ? TCPI_OPT_WSCALE : 0) |
                    (i.syn_data_acked ? TCPI_OPT_SYN_DATA : 0));
                ti.tcpi_snd_wscale = i.snd_wscale & 0xf;
                ti.tcpi_rcv_wscale = i.rcv_wscale & 0xf;
                ti.tcpi_rto = usec(i.rto);
                ti.tcpi_snd_mss = i.snd_mss;
                ti.tcpi_advmss = i.adv_mss;
                ti.tcpi_rcv_mss = i.rcv_mss;
                const std::uint32_t mss = i.snd_mss ? i.snd_mss : 1;
                ti.tcpi_unacked = (i.bytes_in_flight + mss - 1) / mss;
                ti.tcpi_rtt = usec(i.srtt);
                ti.tcpi_rttvar = usec(i.rttvar);
                // Linux reports an unset ssthresh as TCP_INFINITE_SSTHRESH.
                ti.tcpi_snd_ssthresh = i.ssthresh == UINT32_MAX ? 0x7fffffffu : i.ssthresh / mss;
                ti.tcpi_snd_cwnd = i.cwnd / mss;
                ti.tcpi_total_retrans = i.total_retrans;
                ti.tcpi_bytes_acked = i.bytes_acked;
                ti.tcpi_bytes_received = i.bytes_received;
                ti.tcpi_segs_out = static_cast<std::uint32_t>(i.segs_out);
                ti.tcpi_segs_in = static_cast<std::uint32_t>(i.segs_in);
                ti.tcpi_notsent_bytes = i.unsent;
                ti.tcpi_min_rtt = usec(i.min_rtt);
                ti.tcpi_bytes_sent = i.bytes_sent;
                ti.tcpi_bytes_retrans = i.bytes_retrans;
                ti.tcpi_snd_wnd = i.snd_wnd;
                // Callers built against newer kernel headers ask for a longer struct (Linux 6.x
                // has grown it past this header's): the fields beyond ours read 0.
                constexpr std::size_t kTcpInfoMax = 512;
                static_assert(sizeof ti <= kTcpInfoMax);
                if (!value) return fail(EFAULT);
                unsigned char out[kTcpInfoMax] = {};
                std::memcpy(out, &ti, sizeof ti);
                const std::size_t n = std::min<std::size_t>(*len, kTcpInfoMax);
                std::memcpy(value, out, n);
                *len = static_cast<socklen_t>(n);
                return 0;
            }
            default:
                return fail(ENOPROTOOPT);
        }
    }
    // Other levels go to ip_getsockopt(): none of its options is kept here (ENOPROTOOPT), and
    // a level that is not IP at all is EOPNOTSUPP there.
    return fail(level == IPPROTO_IP ? ENOPROTOOPT : EOPNOTSUPP);
}

int Runtime::setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
    std::unique_lock lk(impl_->mu);
    auto s = impl_->find(fd);
    if (!s) return fail(impl_->bad_fd(fd));
    if (static_cast<int>(len) < 0) return fail(EINVAL);
    impl_->sync();
    const bool conn = s->kind == Sock::Kind::kConnection;
    int v = 0;
    auto done = [&] {
        impl_->done(s.get());
        return 0;
    };
    if (level == SOL_SOCKET) {
        switch (name) {
            case SO_REUSEADDR:
                if (int e = get_int(value, len, v)) return fail(e);
                s->reuse_address = v != 0;
                return 0;
            case SO_ZEROCOPY:
                // Sends copy into the stack's buffer at once, so a MSG_ZEROCOPY buffer is free
                // when the call returns; no completion is queued (MSG_ERRQUEUE finds none).
                if (int e = get_int(value, len, v)) return fail(e);
                if (!s->stream) return fail(EOPNOTSUPP);
                s->zerocopy = v != 0;
                return 0;
            case SO_KEEPALIVE:
                if (int e = get_int(value, len, v)) return fail(e);
                s->keepalive = v != 0;
                if (conn)
                    (void)impl_->stack.tcp_set_keepalive(s->sid, s->keepalive,
                                                         std::chrono::seconds(s->keep_idle),
                                                         std::chrono::seconds(s->keep_intvl),
                                                         static_cast<std::uint32_t>(s->keep_cnt));
                return done();
            case SO_SNDBUF:
            case SO_RCVBUF: {
                if (int e = get_int(value, len, v)) return fail(e);
                // Compared unsigned with the maximum (a negative value asks for the most).
                const auto max = static_cast<std::uint32_t>(name == SO_SNDBUF ? impl_->wmem_max
                                                                              : impl_->rmem_max);
                const int doubled =
                    static_cast<int>(std::min(static_cast<std::uint32_t>(v), max) * 2);
                if (name == SO_SNDBUF)
                    s->sndbuf = std::max(doubled, kMinSndbuf);
                else
                    s->rcvbuf = std::max(doubled, kMinRcvbuf);
                impl_->apply_options(*s);
                return done();
            }
            case SO_LINGER: {
                if (len < static_cast<socklen_t>(sizeof(linger))) return fail(EINVAL);
                if (!value) return fail(EFAULT);
                linger l;
                std::memcpy(&l, value, sizeof l);
                // sk_setsockopt(): off keeps the time; on takes l_linger as unsigned seconds,
                // MAX_SCHEDULE_TIMEOUT from LONG_MAX / HZ up (a negative one too).
                if (!l.l_onoff) {
                    s->linger_on = false;
                } else {
                    const auto secs = static_cast<unsigned long>(static_cast<long>(l.l_linger));
                    s->linger_jiffies = secs >= static_cast<unsigned long>(kMaxTimeout / kHz)
                                            ? kMaxTimeout
                                            : static_cast<std::int64_t>(secs) * kHz;
                    s->linger_on = true;
                }
                return 0;  // applied at close
            }
            case SO_RCVTIMEO:
            case SO_SNDTIMEO: {
                if (len < static_cast<socklen_t>(sizeof(timeval))) return fail(EINVAL);
                if (!value) return fail(EFAULT);
                timeval tv;
                std::memcpy(&tv, value, sizeof tv);
                if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) return fail(EDOM);
                // sock_set_timeout(): a negative time is a timeout of 0 (calls do not wait);
                // zero is none; otherwise jiffies, rounded up.
                std::int64_t j = kMaxTimeout;
                if (tv.tv_sec < 0)
                    j = 0;
                else if ((tv.tv_sec || tv.tv_usec) && tv.tv_sec < kMaxTimeout / kHz - 1)
                    j = static_cast<std::int64_t>(tv.tv_sec) * kHz +
                        (tv.tv_usec + (1000000 / kHz) - 1) / (1000000 / kHz);
                (name == SO_RCVTIMEO ? s->rcvtimeo : s->sndtimeo) = j;
                return 0;
            }
            default:
                return fail(ENOPROTOOPT);
        }
    }
    if (level == IPPROTO_TCP) {
        if (!s->stream) return fail(ENOPROTOOPT);  // udp_setsockopt() -> ip_setsockopt()
        switch (name) {
            case TCP_NODELAY:
                if (int e = get_int(value, len, v)) return fail(e);
                s->nodelay = v != 0;
                if (conn) (void)impl_->stack.tcp_set_nodelay(s->sid, s->nodelay);
                return done();
            case TCP_KEEPIDLE:
            case TCP_KEEPINTVL:
            case TCP_KEEPCNT: {
                if (int e = get_int(value, len, v)) return fail(e);
                const int max = name == TCP_KEEPCNT ? 127 : 32767;  // MAX_TCP_KEEP*
                if (v < 1 || v > max) return fail(EINVAL);
                (name == TCP_KEEPIDLE    ? s->keep_idle
                 : name == TCP_KEEPINTVL ? s->keep_intvl
                                         : s->keep_cnt) = v;
                if (conn && s->keepalive)
                    (void)impl_->stack.tcp_set_keepalive(s->sid, true,
                                                         std::chrono::seconds(s->keep_idle),
                                                         std::chrono::seconds(s->keep_intvl),
                                                         static_cast<std::uint32_t>(s->keep_cnt));
                return done();
            }
            case TCP_CORK:
                if (int e = get_int(value, len, v)) return fail(e);
                s->cork = v != 0;
                if (conn) (void)impl_->stack.tcp_set_cork(s->sid, s->cork);
                return done();
            case TCP_FASTOPEN_CONNECT:
                // Linux: 0 or 1; only on a socket not yet connected; EOPNOTSUPP when the
                // client side of Fast Open is off (tcp_fastopen & 1).
                if (int e = get_int(value, len, v)) return fail(e);
                if (v < 0 || v > 1) return fail(EINVAL);
                if (!impl_->stack.config().tcp.fastopen_client()) return fail(EOPNOTSUPP);
                if (s->kind != Sock::Kind::kFresh) return fail(EINVAL);
                s->fastopen_connect = v != 0;
                return 0;
            case TCP_MAXSEG:
                if (int e = get_int(value, len, v)) return fail(e);
                // Linux: 0 clears it; otherwise TCP_MIN_MSS (88) .. MAX_TCP_WINDOW (32767).
                if (v != 0 && (v < 88 || v > 32767)) return fail(EINVAL);
                s->user_mss = v;
                if (conn || s->kind == Sock::Kind::kListener)
                    (void)impl_->stack.tcp_set_maxseg(s->sid, static_cast<std::uint16_t>(v));
                return done();
            case TCP_SYNCNT:
                if (int e = get_int(value, len, v)) return fail(e);
                if (v < 1 || v > 127) return fail(EINVAL);  // MAX_TCP_SYNCNT
                s->syn_count = v;
                impl_->apply_limits(*s);
                return done();
            case TCP_USER_TIMEOUT:
                if (int e = get_int(value, len, v)) return fail(e);
                if (v < 0) return fail(EINVAL);
                s->user_timeout = static_cast<unsigned>(v);
                impl_->apply_limits(*s);
                return done();
            case TCP_NOTSENT_LOWAT:
                if (int e = get_int(value, len, v)) return fail(e);
                s->notsent_lowat = static_cast<unsigned>(v);
                impl_->apply_limits(*s);
                return done();
            case TCP_INQ:
                if (int e = get_int(value, len, v)) return fail(e);
                if (v < 0 || v > 1) return fail(EINVAL);  // Linux: 0 or 1
                s->recv_inq = v != 0;
                return 0;
            default:
                // TCP_CONGESTION, TCP_FASTOPEN (the server side), TCP_QUICKACK and the rest are
                // not implemented:
                // say so rather than pretend.
                return fail(ENOPROTOOPT);
        }
    }
    return fail(ENOPROTOOPT);
}

int Runtime::fcntl(int fd, int cmd, long arg) {
    std::unique_lock lk(impl_->mu);
    auto s = impl_->find(fd);
    const bool is_epoll = impl_->epolls.count(fd) != 0;
    if (!s && !is_epoll) return fail(EBADF);
    auto e = is_epoll ? impl_->epolls[fd] : nullptr;
    switch (cmd) {
        case F_GETFL:
            if (e) return O_RDWR | e->flags;
            return O_RDWR | (s->nonblock ? O_NONBLOCK : 0) | s->fl_extra;
        case F_SETFL: {
            // setfl(): O_APPEND, O_NONBLOCK and O_NOATIME are kept; O_DIRECT is EINVAL on a
            // socket. O_ASYNC (SIGIO) is not implemented: EINVAL rather than a silent no-op.
            if (arg & (O_DIRECT | O_ASYNC)) return fail(EINVAL);
            const int kept = static_cast<int>(arg) & (O_APPEND | O_NONBLOCK | O_NOATIME);
            if (e) {
                e->flags = kept;
            } else {
                s->nonblock = (kept & O_NONBLOCK) != 0;
                s->fl_extra = kept & ~O_NONBLOCK;
            }
            return 0;
        }
        case F_GETFD:
        case F_SETFD:
            return ::fcntl(fd, cmd, arg);
        default:
            return fail(EINVAL);
    }
}

int Runtime::ioctl(int fd, unsigned long request, void* arg) {
    std::unique_lock lk(impl_->mu);
    auto s = impl_->find(fd);
    if (auto e = impl_->epolls.find(fd); e != impl_->epolls.end()) {
        // Only the calls every file has (FIONBIO); an epoll instance has no ioctls of its own.
        if (request != FIONBIO) return fail(ENOTTY);
        if (!arg) return fail(EFAULT);
        int v;
        std::memcpy(&v, arg, sizeof v);
        e->second->flags = v ? (e->second->flags | O_NONBLOCK) : (e->second->flags & ~O_NONBLOCK);
        return 0;
    }
    if (!s) return fail(EBADF);
    impl_->sync();
    switch (request) {
        case FIONBIO: {
            if (!arg) return fail(EFAULT);
            int v;
            std::memcpy(&v, arg, sizeof v);
            s->nonblock = v != 0;
            return 0;
        }
        case SIOCINQ:
        case SIOCOUTQ:
        case SIOCOUTQNSD: {
            if (s->kind == Sock::Kind::kListener) return fail(EINVAL);
            int v = 0;
            if (s->kind == Sock::Kind::kUdp) {
                // udp_ioctl(): the first datagram's size in; nothing is ever held out.
                if (request == SIOCOUTQNSD) return fail(ENOTTY);
                if (request == SIOCINQ) v = static_cast<int>(impl_->stack.udp_next_size(s->sid));
            } else if (s->kind == Sock::Kind::kConnection) {
                if (auto i = impl_->stack.tcp_info(s->sid); i && i->state != tcp::State::kSynSent)
                    v = static_cast<int>(request == SIOCINQ    ? i->unread
                                         : request == SIOCOUTQ ? i->bytes_in_flight + i->unsent
                                                               : i->unsent);
            }
            if (!arg) return fail(EFAULT);
            std::memcpy(arg, &v, sizeof v);
            return 0;
        }
        default:
            return fail(ENOTTY);
    }
}

int Runtime::poll(pollfd* fds, nfds_t nfds, int timeout_ms) {
    if (nfds > 0 && !fds) return fail(EFAULT);
    std::unique_lock lk(impl_->mu);
    const auto until = Impl::deadline_ms(timeout_ms);
    for (;;) {
        impl_->sync();
        int ready = 0;
        for (nfds_t i = 0; i < nfds; ++i) {
            fds[i].revents = 0;
            if (fds[i].fd < 0) continue;
            auto s = impl_->find(fds[i].fd);
            if (!s) {
                // Not one of ours: this layer cannot wait on kernel descriptors.
                fds[i].revents = POLLNVAL;
            } else {
                const std::uint32_t want =
                    static_cast<std::uint16_t>(fds[i].events) | POLLERR | POLLHUP;
                fds[i].revents = static_cast<short>(impl_->level(*s) & want);
            }
            if (fds[i].revents) ++ready;
        }
        if (ready || timeout_ms == 0) return ready;
        if (!impl_->wait(lk, until)) {
            if (timeout_ms >= 0 && std::chrono::steady_clock::now() >= *until) return 0;
        }
    }
}

int Runtime::epoll_create(int size) {
    if (size <= 0) return fail(EINVAL);
    return epoll_create1(0);
}

int Runtime::epoll_create1(int flags) {
    if (flags & ~EPOLL_CLOEXEC) return fail(EINVAL);
    int efd = ::eventfd(0, EFD_NONBLOCK | ((flags & EPOLL_CLOEXEC) ? EFD_CLOEXEC : 0));
    if (efd < 0) return -1;
    std::lock_guard lk(impl_->mu);
    auto e = std::make_shared<Epoll>();
    e->fd = efd;
    impl_->epolls[efd] = e;
    return efd;
}

int Runtime::epoll_ctl(int epfd, int op, int fd, epoll_event* event) {
    // Linux's order: the event is copied in (EFAULT); both descriptors exist (EBADF); the target
    // can be polled (EPERM: here, kernel descriptors cannot be watched); epfd is an epoll
    // other than the target (EINVAL); EPOLLEXCLUSIVE's limits (EINVAL); then the operation.
    const bool has_event = op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD;
    if (has_event && !event) return fail(EFAULT);
    std::unique_lock lk(impl_->mu);
    auto eit = impl_->epolls.find(epfd);
    if (eit == impl_->epolls.end() && !impl_->socks.count(epfd) && !Impl::kernel_fd(epfd))
        return fail(EBADF);
    auto s = impl_->find(fd);
    const bool target_epoll = impl_->epolls.count(fd) != 0;
    if (!s && !target_epoll) return fail(Impl::kernel_fd(fd) ? EPERM : EBADF);
    if (eit == impl_->epolls.end() || fd == epfd) return fail(EINVAL);
    if (target_epoll) return fail(EPERM);  // nested epoll instances are not supported
    if (has_event && (event->events & EPOLLEXCLUSIVE)) {
        constexpr std::uint32_t kExclusiveOk =
            EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
        if (op == EPOLL_CTL_MOD || (event->events & ~kExclusiveOk)) return fail(EINVAL);
    }
    auto& items = eit->second->items;
    auto it =
        std::find_if(items.begin(), items.end(), [fd](const EpollItem& i) { return i.fd == fd; });
    switch (op) {
        case EPOLL_CTL_ADD: {
            if (it != items.end()) return fail(EEXIST);
            EpollItem i;
            i.fd = fd;
            i.events = event->events;
            i.data = event->data;
            i.seen = s->version - 1;  // a ready socket is reported at once, edge-triggered too
            items.push_back(i);
            break;
        }
        case EPOLL_CTL_MOD:
            if (it == items.end()) return fail(ENOENT);
            if (it->events & EPOLLEXCLUSIVE) return fail(EINVAL);  // added exclusive: fixed
            it->events = event->events;
            it->data = event->data;
            it->disabled = false;
            it->seen = s->version - 1;
            break;
        case EPOLL_CTL_DEL:
            if (it == items.end()) return fail(ENOENT);
            items.erase(it);
            break;
        default:
            return fail(EINVAL);
    }
    impl_->cv.notify_all();
    return 0;
}

int Runtime::epoll_wait(int epfd, epoll_event* events, int maxevents, int timeout_ms) {
    // EP_MAX_EVENTS is INT_MAX / sizeof(epoll_event).
    if (maxevents <= 0 || maxevents > static_cast<int>(INT_MAX / sizeof(epoll_event)))
        return fail(EINVAL);
    if (!events) return fail(EFAULT);
    std::unique_lock lk(impl_->mu);
    const auto until = Impl::deadline_ms(timeout_ms);
    for (;;) {
        auto eit = impl_->epolls.find(epfd);
        if (eit == impl_->epolls.end()) {
            // Closed under us, or never one of ours: EINVAL for any other open descriptor.
            return fail(impl_->socks.count(epfd) || Impl::kernel_fd(epfd) ? EINVAL : EBADF);
        }
        impl_->sync();
        int n = 0;
        for (auto& item : eit->second->items) {
            if (n == maxevents) break;
            if (item.disabled) continue;
            auto s = impl_->find(item.fd);
            if (!s) continue;
            const std::uint32_t want =
                (item.events & ~(EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP)) |
                EPOLLERR | EPOLLHUP;
            const std::uint32_t got = impl_->level(*s) & want;
            if (!got) continue;
            if ((item.events & EPOLLET) && item.seen == s->version) continue;
            item.seen = s->version;
            if (item.events & EPOLLONESHOT) item.disabled = true;
            events[n].events = got;
            events[n].data = item.data;
            ++n;
        }
        if (n || timeout_ms == 0) return n;
        if (!impl_->wait(lk, until) && std::chrono::steady_clock::now() >= *until) return 0;
    }
}

}  // namespace ustack::posix
