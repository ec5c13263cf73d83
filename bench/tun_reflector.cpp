// tun_reflector: the ceiling of the TUN path. Joins two TUN devices and copies every packet read
// from one into the other, both ways, doing nothing else, until SIGTERM or SIGINT.
//
//   tun_reflector [--no-offload] [--mtu N] NAME_A NAME_B
//
// Two kernel TCP endpoints that talk through it (tun A in one network namespace, tun B in
// another: open both here, then move the interfaces with `ip link set NAME netns NS`; the
// descriptors keep working) measure what kernel TCP can push through a TUN device and a
// do-nothing user-space process: anything ustack does behind a TUN device is compared with that.
//
// With offloads (the default) both devices use IFF_VNET_HDR + TUNSETOFFLOAD and the 10-byte
// virtio-net header is passed through unchanged, so a TSO super-packet from one kernel arrives at
// the other as the same super-packet (GSO type, gso_size, partial checksum). --no-offload opens
// plain devices: one MTU-sized packet per crossing.
//
// Prints "ready NAME_A NAME_B" on stdout once both devices exist, and the packet counts at exit.
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "phy/fd.hpp"
#include "phy/tun.hpp"

using namespace ustack::phy;

namespace {

// Enough for any packet a vnet-header TUN read returns: header plus a 64 KiB IP packet.
constexpr std::size_t kBufferSize = TunDevice::kVnetHeaderSize + 65535 + 64;
// Packets moved per readiness event before looking at the other side and at signals again.
constexpr int kBatch = 64;

struct Direction {
    int from = -1;
    int to = -1;
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    std::uint64_t write_errors = 0;  // packets the other device refused (link down, queue full)
    int last_errno = 0;
};

void usage() {
    std::fprintf(stderr, "usage: tun_reflector [--no-offload] [--mtu N] NAME_A NAME_B\n");
}

// Moves up to kBatch packets. Returns false on a read error that means the device is gone.
bool pump(Direction& d, std::vector<std::byte>& buf) {
    for (int i = 0; i < kBatch; ++i) {
        const ssize_t n = ::read(d.from, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
            std::fprintf(stderr, "tun_reflector: read: %s\n", std::strerror(errno));
            return false;
        }
        if (n == 0) return true;
        ssize_t w;
        do {
            w = ::write(d.to, buf.data(), static_cast<std::size_t>(n));
        } while (w < 0 && errno == EINTR);
        if (w < 0) {
            ++d.write_errors;
            d.last_errno = errno;
            continue;
        }
        ++d.packets;
        d.bytes += static_cast<std::uint64_t>(n);
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    bool offload = true;
    std::optional<std::uint32_t> mtu;
    std::vector<std::string> names;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--no-offload") {
            offload = false;
        } else if (a == "--mtu" && i + 1 < argc) {
            mtu = static_cast<std::uint32_t>(std::strtoul(argv[++i], nullptr, 10));
        } else if (a == "-h" || a == "--help") {
            usage();
            return 0;
        } else if (!a.empty() && a[0] == '-') {
            usage();
            return 2;
        } else {
            names.push_back(a);
        }
    }
    if (names.size() != 2 || names[0] == names[1]) {
        usage();
        return 2;
    }

    // Signals arrive through a descriptor so the loop never races a handler.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) {
        std::perror("tun_reflector: sigprocmask");
        return 1;
    }
    UniqueFd sigfd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sigfd) {
        std::perror("tun_reflector: signalfd");
        return 1;
    }

    std::unique_ptr<TunDevice> dev[2];
    for (int i = 0; i < 2; ++i) {
        auto d = TunDevice::open(
            TunOptions{names[static_cast<std::size_t>(i)], TunMode::kTun, offload, mtu, false});
        if (!d) {
            std::fprintf(stderr, "tun_reflector: %s\n", d.error().what.c_str());
            return 1;
        }
        dev[i] = std::move(*d);
    }

    UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
    if (!ep) {
        std::perror("tun_reflector: epoll_create1");
        return 1;
    }
    Direction dirs[2];
    dirs[0].from = dev[0]->fd();
    dirs[0].to = dev[1]->fd();
    dirs[1].from = dev[1]->fd();
    dirs[1].to = dev[0]->fd();
    for (std::uint32_t i = 0; i < 3; ++i) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = i;  // 0, 1: a direction; 2: the signal descriptor
        const int fd = i < 2 ? dirs[i].from : sigfd.get();
        if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
            std::perror("tun_reflector: epoll_ctl");
            return 1;
        }
    }

    std::printf("ready %s %s\n", dev[0]->name().c_str(), dev[1]->name().c_str());
    std::fflush(stdout);

    std::vector<std::byte> buf(kBufferSize);
    bool running = true;
    int status = 0;
    while (running) {
        epoll_event events[3];
        const int n = ::epoll_wait(ep.get(), events, 3, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            std::perror("tun_reflector: epoll_wait");
            status = 1;
            break;
        }
        for (int i = 0; i < n; ++i) {
            const std::uint32_t which = events[i].data.u32;
            if (which == 2) {
                running = false;
                continue;
            }
            if (!pump(dirs[which], buf)) {
                running = false;
                status = 1;
            }
        }
    }

    for (int i = 0; i < 2; ++i) {
        const Direction& d = dirs[i];
        std::printf("%s -> %s: %llu packets, %llu bytes, %llu refused%s%s\n",
                    dev[i]->name().c_str(), dev[1 - i]->name().c_str(),
                    static_cast<unsigned long long>(d.packets),
                    static_cast<unsigned long long>(d.bytes),
                    static_cast<unsigned long long>(d.write_errors), d.last_errno ? " (last: " : "",
                    d.last_errno ? (std::string(std::strerror(d.last_errno)) + ")").c_str() : "");
    }
    return status;
}
