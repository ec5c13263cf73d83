// The packetdrill adapter: packetdrill --so_filename=libustack_packetdrill.so runs its scripts
// against a ustack stack instead of the kernel's.
//
// packetdrill hands us bare IPv4 datagrams (netdev_send) and sniffs what the stack sends
// (netdev_receive); its system calls go to the POSIX layer (posix::Runtime), whose descriptors
// are real eventfds, so the sockets packetdrill leaves open are closed by libc close().
// Time is real time: the stack runs on the monotonic clock, and gettimeofday/usleep are libc's.
//
// The layout of struct packetdrill_interface comes from the packetdrill.h of the packetdrill
// being run (CMake: -DUSTACK_PACKETDRILL_INCLUDE=<dir>); nothing of packetdrill lives here.
//
// --so_flags is a comma-separated key=value list:
//   local=IP, remote=IP        the stack's and the scripted peer's addresses
//                              (packetdrill's defaults: 192.168.0.1 and 192.0.2.1)
//   mtu=N                      the link MTU (1500)
//   receive_timeout=SECONDS    how long netdev_receive waits for the stack to send (10)
//   tcp_*=VALUE                the net.ipv4.tcp_* sysctls a script sets, which cannot reach a
//                              user-space stack through /proc (tests/conformance/run.sh turns
//                              a script's `sysctl -q net.ipv4.tcp_x=v` lines into these):
//                              tcp_timestamps, tcp_sack, tcp_window_scaling, tcp_fastopen,
//                              tcp_syn_retries, tcp_synack_retries, tcp_retries2, tcp_fin_timeout,
//                              tcp_keepalive_time, tcp_keepalive_intvl, tcp_keepalive_probes,
//                              tcp_rmem="min default max", tcp_wmem="min default max".
//                              Unknown tcp_ keys are ignored with a note on stderr.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "packetdrill.h"
#include "posix/runtime.hpp"
#include "stack/stack.hpp"

namespace {

using namespace ustack;

std::int64_t wall_usecs() {
    timeval tv;
    ::gettimeofday(&tv, nullptr);
    return static_cast<std::int64_t>(tv.tv_sec) * 1000000 + tv.tv_usec;
}

// An L3 device whose output packetdrill sniffs; its input is handed straight to the stack.
class SniffDevice final : public phy::Device {
  public:
    explicit SniffDevice(std::uint32_t mtu) {
        caps_.link = phy::LinkType::kIp;
        caps_.mtu = mtu;
        caps_.max_frame = mtu;
    }
    const phy::DeviceCaps& caps() const override { return caps_; }
    std::string name() const override { return "packetdrill"; }
    phy::DeviceResult<std::size_t> receive(MutableByteSpan, phy::FrameMeta&, Instant) override {
        return std::size_t{0};
    }
    phy::DeviceResult<void> send(ByteSpan frame, const phy::FrameMeta&, Instant) override {
        std::lock_guard lk(mu_);
        if (out_.size() >= 4096) return {};  // packetdrill stopped reading: drop
        out_.push_back(Frame{std::vector<std::byte>(frame.begin(), frame.end()), wall_usecs()});
        cv_.notify_all();
        return {};
    }

    // The next frame the stack sent, waiting up to timeout; false when none came.
    bool pop(void* buf, std::size_t* count, long long* time_usecs,
             std::chrono::milliseconds timeout) {
        std::unique_lock lk(mu_);
        if (!cv_.wait_for(lk, timeout, [&] { return !out_.empty(); })) return false;
        Frame f = std::move(out_.front());
        out_.pop_front();
        const std::size_t n = std::min(*count, f.data.size());
        std::memcpy(buf, f.data.data(), n);
        *count = n;
        *time_usecs = f.usecs;
        return true;
    }

  private:
    struct Frame {
        std::vector<std::byte> data;
        std::int64_t usecs;
    };
    phy::DeviceCaps caps_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Frame> out_;
};

struct Instance {
    std::unique_ptr<SniffDevice> device;
    std::unique_ptr<posix::Runtime> runtime;
    std::chrono::milliseconds receive_timeout{10000};
};

Instance* self(void* userdata) {
    return static_cast<Instance*>(userdata);
}
posix::Runtime& rt(void* userdata) {
    return *self(userdata)->runtime;
}

std::vector<std::size_t> numbers(const std::string& v) {
    std::vector<std::size_t> out;
    std::istringstream is(v);
    std::size_t x;
    while (is >> x)
        out.push_back(x);
    return out;
}

// Applies one key=value of --so_flags; false for a malformed value.
bool apply_flag(const std::string& key, const std::string& value, posix::RuntimeOptions& o,
                wire::Ipv4Addr& local, wire::Ipv4Addr& remote, std::uint32_t& mtu, Instance& inst) {
    auto& tc = o.config.tcp;
    char* end = nullptr;
    const long n = std::strtol(value.c_str(), &end, 0);
    const bool is_num = !value.empty() && end && *end == '\0';
    auto secs = [&](Duration& d) {
        if (!is_num || n < 0) return false;
        d = std::chrono::seconds(n);
        return true;
    };
    if (key == "local" || key == "remote") {
        auto a = wire::Ipv4Addr::parse(value);
        if (!a) return false;
        (key == "local" ? local : remote) = *a;
        return true;
    }
    if (key == "mtu") {
        if (!is_num || n < 576 || n > 65535) return false;
        mtu = static_cast<std::uint32_t>(n);
        return true;
    }
    if (key == "receive_timeout") {
        if (!is_num || n <= 0) return false;
        inst.receive_timeout = std::chrono::seconds(n);
        return true;
    }
    if (key == "tcp_timestamps") return is_num && ((tc.timestamps = n != 0), true);
    if (key == "tcp_sack") return is_num && ((tc.sack = n != 0), true);
    if (key == "tcp_window_scaling") return is_num && ((tc.window_scaling = n != 0), true);
    if (key == "tcp_fastopen")
        return is_num && n >= 0 && ((tc.fastopen = static_cast<std::uint32_t>(n)), true);
    if (key == "tcp_syn_retries")
        return is_num && n >= 1 && ((tc.syn_retries = static_cast<std::uint32_t>(n)), true);
    if (key == "tcp_synack_retries")
        return is_num && n >= 0 && ((tc.synack_retries = static_cast<std::uint32_t>(n)), true);
    if (key == "tcp_retries2")
        return is_num && n >= 0 && ((tc.retries2 = static_cast<std::uint32_t>(n)), true);
    if (key == "tcp_fin_timeout") return secs(tc.fin_timeout);
    if (key == "tcp_keepalive_time") return secs(tc.keepalive_idle);
    if (key == "tcp_keepalive_intvl") return secs(tc.keepalive_interval);
    if (key == "tcp_keepalive_probes")
        return is_num && n > 0 && ((tc.keepalive_probes = static_cast<std::uint32_t>(n)), true);
    if (key == "tcp_congestion_control") {
        if (value == "cubic") return (tc.congestion = TcpConfig::Congestion::kCubic), true;
        if (value == "reno") return (tc.congestion = TcpConfig::Congestion::kNewReno), true;
        std::fprintf(stderr, "ustack packetdrill adapter: congestion control %s is not there\n",
                     value.c_str());
        return true;
    }
    if (key == "tcp_rmem" || key == "tcp_wmem") {
        auto v = numbers(value);
        if (v.size() != 3) return false;
        if (key == "tcp_rmem") {
            tc.recv_buffer = v[1];
            tc.max_recv_buffer = v[2];
        } else {
            tc.send_buffer = v[1];
        }
        return true;
    }
    if (key.rfind("tcp_", 0) == 0) {
        std::fprintf(stderr, "ustack packetdrill adapter: %s is not modelled; ignored\n",
                     key.c_str());
        return true;
    }
    return false;
}

// Linux's profile as packetdrill's defaults.sh sets the kernel up.
posix::RuntimeOptions linux_profile() {
    posix::RuntimeOptions o;
    auto& tc = o.config.tcp;
    tc.initial_cwnd = 10;
    tc.initial_rto = std::chrono::seconds(1);
    tc.min_rto = std::chrono::milliseconds(200);
    tc.recv_buffer = 540000;        // tcp_rmem[1]
    tc.max_recv_buffer = 15 << 20;  // tcp_rmem[2]: window scale 8
    tc.send_buffer = 256 << 10;     // tcp_wmem[1]
    tc.syn_retries = 5;
    tc.synack_retries = 5;
    o.config.seed = static_cast<std::uint64_t>(wall_usecs());
    return o;
}

std::uint8_t common_prefix(wire::Ipv4Addr a, wire::Ipv4Addr b) {
    std::uint8_t p = 0;
    while (p < 32 && ((a.value ^ b.value) & (0x80000000u >> p)) == 0)
        ++p;
    return p;
}

// --- the function table ------------------------------------------------------------------------

void pd_free(void* userdata) {
    delete self(userdata);
}

int pd_socket(void* u, int domain, int type, int protocol) {
    return rt(u).socket(domain, type, protocol);
}
int pd_bind(void* u, int fd, const sockaddr* addr, socklen_t len) {
    return rt(u).bind(fd, addr, len);
}
int pd_listen(void* u, int fd, int backlog) {
    return rt(u).listen(fd, backlog);
}
int pd_accept(void* u, int fd, sockaddr* addr, socklen_t* len) {
    return rt(u).accept(fd, addr, len);
}
int pd_connect(void* u, int fd, const sockaddr* addr, socklen_t len) {
    return rt(u).connect(fd, addr, len);
}
ssize_t pd_read(void* u, int fd, void* buf, size_t n) {
    if (!rt(u).owns(fd)) return ::read(fd, buf, n);  // a pipe of the script's
    return rt(u).read(fd, buf, n);
}
ssize_t pd_readv(void* u, int fd, const iovec* iov, int cnt) {
    return rt(u).readv(fd, iov, cnt);
}
ssize_t pd_recv(void* u, int fd, void* buf, size_t n, int flags) {
    return rt(u).recv(fd, buf, n, flags);
}
ssize_t pd_recvfrom(void* u, int fd, void* buf, size_t n, int flags, sockaddr* from,
                    socklen_t* len) {
    return rt(u).recvfrom(fd, buf, n, flags, from, len);
}
ssize_t pd_recvmsg(void* u, int fd, msghdr* msg, int flags) {
    return rt(u).recvmsg(fd, msg, flags);
}
ssize_t pd_write(void* u, int fd, const void* buf, size_t n) {
    if (!rt(u).owns(fd)) return ::write(fd, buf, n);
    return rt(u).write(fd, buf, n);
}
ssize_t pd_writev(void* u, int fd, const iovec* iov, int cnt) {
    return rt(u).writev(fd, iov, cnt);
}
ssize_t pd_send(void* u, int fd, const void* buf, size_t n, int flags) {
    return rt(u).send(fd, buf, n, flags);
}
ssize_t pd_sendto(void* u, int fd, const void* buf, size_t n, int flags, const sockaddr* to,
                  socklen_t len) {
    return rt(u).sendto(fd, buf, n, flags, to, len);
}
ssize_t pd_sendmsg(void* u, int fd, const msghdr* msg, int flags) {
    return rt(u).sendmsg(fd, msg, flags);
}
int pd_fcntl(void* u, int fd, int cmd, ...) {
    va_list ap;
    va_start(ap, cmd);
    const long arg = va_arg(ap, long);
    va_end(ap);
    if (!rt(u).owns(fd)) return ::fcntl(fd, cmd, arg);
    return rt(u).fcntl(fd, cmd, arg);
}
int pd_ioctl(void* u, int fd, unsigned long request, ...) {
    va_list ap;
    va_start(ap, request);
    void* arg = va_arg(ap, void*);
    va_end(ap);
    if (!rt(u).owns(fd)) return ::ioctl(fd, request, arg);
    return rt(u).ioctl(fd, request, arg);
}
int pd_close(void* u, int fd) {
    if (!rt(u).owns(fd)) return ::close(fd);
    return rt(u).close(fd);
}
int pd_shutdown(void* u, int fd, int how) {
    return rt(u).shutdown(fd, how);
}
int pd_getsockopt(void* u, int fd, int level, int name, void* value, socklen_t* len) {
    return rt(u).getsockopt(fd, level, name, value, len);
}
int pd_setsockopt(void* u, int fd, int level, int name, const void* value, socklen_t len) {
    return rt(u).setsockopt(fd, level, name, value, len);
}
int pd_poll(void* u, pollfd* fds, nfds_t n, int timeout) {
    return rt(u).poll(fds, n, timeout);
}
int pd_epoll_create(void* u, int size) {
    return rt(u).epoll_create(size);
}
int pd_epoll_ctl(void* u, int epfd, int op, int fd, epoll_event* ev) {
    return rt(u).epoll_ctl(epfd, op, fd, ev);
}
int pd_epoll_wait(void* u, int epfd, epoll_event* evs, int max, int timeout) {
    return rt(u).epoll_wait(epfd, evs, max, timeout);
}

int pd_netdev_send(void* u, const void* buf, size_t count) {
    ByteSpan frame{static_cast<const std::byte*>(buf), count};
    // Processed fully before returning: the stack's reaction is queued when packetdrill goes on.
    rt(u).run_on_stack(
        [&](Stack& st, Instant now) { st.on_frame(0, frame, phy::FrameMeta{}, now); });
    return 0;
}

int pd_netdev_receive(void* u, void* buf, size_t* count, long long* time_usecs) {
    if (!self(u)->device->pop(buf, count, time_usecs, self(u)->receive_timeout)) *count = 0;
    return 0;
}

int pd_pipe(void*, int fds[2]) {
    return ::pipe(fds);
}

// The stack's sockets are not kernel sockets: the kernel cannot splice from them.
int pd_splice(void*, int, loff_t*, int, loff_t*, size_t, unsigned int) {
    errno = EINVAL;
    return -1;
}

int pd_usleep(void*, useconds_t usec) {
    return ::usleep(usec);
}

int pd_gettimeofday(void*, timeval* tv, struct timezone* tz) {
    return ::gettimeofday(tv, tz);
}

}  // namespace

extern "C" __attribute__((visibility("default"))) void packetdrill_interface_init(
    const char* flags, packetdrill_interface* ifc) {
    auto inst = std::make_unique<Instance>();
    auto opts = linux_profile();
    wire::Ipv4Addr local{192, 168, 0, 1}, remote{192, 0, 2, 1};
    std::uint32_t mtu = 1500;
    std::string all = flags ? flags : "";
    std::size_t pos = 0;
    while (pos <= all.size() && !all.empty()) {
        std::size_t comma = all.find(',', pos);
        std::string item =
            all.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        if (!item.empty()) {
            auto eq = item.find('=');
            std::string key = item.substr(0, eq);
            std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
            if (!apply_flag(key, value, opts, local, remote, mtu, *inst)) {
                std::fprintf(stderr, "ustack packetdrill adapter: bad --so_flags item '%s'\n",
                             item.c_str());
                std::exit(EXIT_FAILURE);
            }
        }
        if (comma == std::string::npos) break;
        pos = comma + 1;
    }
    // One link holds both addresses, so the peer is on-link whatever its address.
    opts.addr = wire::Ipv4Cidr{local, common_prefix(local, remote)};
    opts.mtu = mtu;
    inst->device = std::make_unique<SniffDevice>(mtu);
    inst->runtime = std::make_unique<posix::Runtime>(*inst->device, opts);

    std::memset(ifc, 0, sizeof *ifc);
    ifc->userdata = inst.release();
    ifc->free = pd_free;
    ifc->socket = pd_socket;
    ifc->bind = pd_bind;
    ifc->listen = pd_listen;
    ifc->accept = pd_accept;
    ifc->connect = pd_connect;
    ifc->read = pd_read;
    ifc->readv = pd_readv;
    ifc->recv = pd_recv;
    ifc->recvfrom = pd_recvfrom;
    ifc->recvmsg = pd_recvmsg;
    ifc->write = pd_write;
    ifc->writev = pd_writev;
    ifc->send = pd_send;
    ifc->sendto = pd_sendto;
    ifc->sendmsg = pd_sendmsg;
    ifc->fcntl = pd_fcntl;
    ifc->ioctl = pd_ioctl;
    ifc->close = pd_close;
    ifc->shutdown = pd_shutdown;
    ifc->getsockopt = pd_getsockopt;
    ifc->setsockopt = pd_setsockopt;
    ifc->poll = pd_poll;
    ifc->netdev_send = pd_netdev_send;
    ifc->netdev_receive = pd_netdev_receive;
    ifc->usleep = pd_usleep;
    ifc->gettimeofday = pd_gettimeofday;
    ifc->epoll_create = pd_epoll_create;
    ifc->epoll_ctl = pd_epoll_ctl;
    ifc->epoll_wait = pd_epoll_wait;
    ifc->pipe = pd_pipe;
    ifc->splice = pd_splice;
}
