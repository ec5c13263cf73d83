// posix::Runtime: the Berkeley socket calls, with Linux numbers, errno values and blocking
// semantics, over one Stack that runs on its own thread.
//
// Every call may come from any thread. Each socket and each epoll instance is a real kernel
// descriptor (an eventfd), so descriptors are unique in the process, closable with libc close()
// and something to sleep on; the eventfd is readable while the socket is readable, so a program
// may also wait on it with the kernel's own poll/epoll. Calls return what libc returns (-1 and
// errno on failure). Blocking calls sleep on a condition variable until the stack thread says
// their socket changed or their timeout (SO_RCVTIMEO/SO_SNDTIMEO, poll/epoll timeout) passes;
// they never spin.
#pragma once

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "common/time.hpp"
#include "phy/device.hpp"
#include "stack/config.hpp"
#include "wire/addr.hpp"

namespace ustack {
class Stack;
}

namespace ustack::posix {

struct RuntimeOptions {
    StackConfig config;
    wire::Ipv4Cidr addr;                    // the stack's address and on-link prefix
    std::optional<wire::Ipv4Addr> gateway;  // default route, if any
    std::optional<std::uint32_t> mtu;       // default: the device's
    // net.core.wmem_max / rmem_max: the largest SO_SNDBUF / SO_RCVBUF a program may ask for
    // (stored doubled, as Linux does). Linux's defaults.
    int wmem_max = 212992;
    int rmem_max = 212992;
};

class Runtime {
  public:
    // Starts the stack thread over `device`, which must outlive the Runtime. The thread reads
    // the device when its fd is readable or has_pending() says so, runs the stack's timers on
    // the monotonic clock, and wakes blocked callers when their sockets change.
    Runtime(phy::Device& device, RuntimeOptions options);
    // Stops the thread and closes every descriptor still open.
    ~Runtime();
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    // Runs fn on the stack under the runtime's lock, with the current time, then does what the
    // stack thread does after a poll (flushes output, updates readiness, wakes waiters, re-arms
    // the thread's deadline) before returning. For adapters that must hand the stack a frame and
    // know it was processed (packetdrill's netdev_send), and for tests.
    void run_on_stack(const std::function<void(Stack&, Instant now)>& fn);

    // Makes the stack thread look at its device and timers now (for devices without an fd that
    // are fed from another thread).
    void wake();

    // Whether fd is one of this runtime's sockets or epoll instances.
    bool owns(int fd) const;
    // The stack's socket behind fd (none before listen/connect), to reach it in run_on_stack.
    std::optional<std::uint32_t> stack_socket(int fd) const;

    // --- the calls, as libc declares them -------------------------------------------------------
    int socket(int domain, int type, int protocol);
    int bind(int fd, const sockaddr* addr, socklen_t len);
    int listen(int fd, int backlog);
    int accept(int fd, sockaddr* addr, socklen_t* len);
    int accept4(int fd, sockaddr* addr, socklen_t* len, int flags);
    int connect(int fd, const sockaddr* addr, socklen_t len);
    ssize_t read(int fd, void* buf, size_t count);
    ssize_t readv(int fd, const iovec* iov, int iovcnt);
    ssize_t recv(int fd, void* buf, size_t len, int flags);
    ssize_t recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* from, socklen_t* fromlen);
    ssize_t recvmsg(int fd, msghdr* msg, int flags);
    ssize_t write(int fd, const void* buf, size_t count);
    ssize_t writev(int fd, const iovec* iov, int iovcnt);
    ssize_t send(int fd, const void* buf, size_t len, int flags);
    ssize_t sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* to,
                   socklen_t tolen);
    ssize_t sendmsg(int fd, const msghdr* msg, int flags);
    int shutdown(int fd, int how);
    int close(int fd);
    int getsockname(int fd, sockaddr* addr, socklen_t* len);
    int getpeername(int fd, sockaddr* addr, socklen_t* len);
    int getsockopt(int fd, int level, int name, void* value, socklen_t* len);
    int setsockopt(int fd, int level, int name, const void* value, socklen_t len);
    int fcntl(int fd, int cmd, long arg);
    int ioctl(int fd, unsigned long request, void* arg);
    int poll(pollfd* fds, nfds_t nfds, int timeout_ms);
    int epoll_create(int size);
    int epoll_create1(int flags);
    int epoll_ctl(int epfd, int op, int fd, epoll_event* event);
    int epoll_wait(int epfd, epoll_event* events, int maxevents, int timeout_ms);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ustack::posix
