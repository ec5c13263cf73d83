#include "phy/udp_tunnel.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace ustack::phy {

namespace {

DeviceError os_error(int code, const std::string& what) {
    return DeviceError{code, what + ": " + std::strerror(code)};
}

struct AddrInfoDeleter {
    void operator()(addrinfo* ai) const { freeaddrinfo(ai); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoDeleter>;

DeviceResult<AddrInfoPtr> resolve(const std::string& host, std::uint16_t port, int family) {
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* out = nullptr;
    const std::string service = std::to_string(port);
    const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &out);
    if (rc != 0 || out == nullptr)
        return unexpected(
            DeviceError{EINVAL, "udp tunnel: cannot resolve " + host + ": " + gai_strerror(rc)});
    return AddrInfoPtr(out);
}

}  // namespace

UdpTunnelDevice::UdpTunnelDevice(UniqueFd fd, DeviceCaps caps, std::string name,
                                 std::uint16_t local_port)
    : fd_(std::move(fd)), caps_(caps), name_(std::move(name)), local_port_(local_port) {}

DeviceResult<std::unique_ptr<UdpTunnelDevice>> UdpTunnelDevice::open(const UdpTunnelOptions& o) {
    auto local = resolve(o.local_host, o.local_port, AF_UNSPEC);
    if (!local) return unexpected(local.error());
    const int family = (*local)->ai_family;
    auto peer = resolve(o.peer_host, o.peer_port, family);
    if (!peer) return unexpected(peer.error());

    UniqueFd fd(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return unexpected(os_error(errno, "udp tunnel: socket"));
    if (o.socket_buffer_bytes > 0) {
        // Best effort: the kernel caps these at net.core.{r,w}mem_max.
        (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &o.socket_buffer_bytes, sizeof(int));
        (void)::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &o.socket_buffer_bytes, sizeof(int));
    }
    if (::bind(fd.get(), (*local)->ai_addr, (*local)->ai_addrlen) != 0)
        return unexpected(os_error(
            errno, "udp tunnel: bind " + o.local_host + ":" + std::to_string(o.local_port)));
    if (::connect(fd.get(), (*peer)->ai_addr, (*peer)->ai_addrlen) != 0)
        return unexpected(os_error(
            errno, "udp tunnel: connect " + o.peer_host + ":" + std::to_string(o.peer_port)));
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &len) != 0)
        return unexpected(os_error(errno, "udp tunnel: getsockname"));
    const std::uint16_t port = bound.ss_family == AF_INET6
                                   ? ntohs(reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port)
                                   : ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);

    DeviceCaps caps;
    caps.link = o.link;
    caps.mtu = o.mtu;
    caps.max_frame = o.mtu + (o.link == LinkType::kEthernet ? 14 : 0);
    return std::unique_ptr<UdpTunnelDevice>(new UdpTunnelDevice(std::move(fd), caps, o.name, port));
}

DeviceResult<std::size_t> UdpTunnelDevice::receive(MutableByteSpan buf, FrameMeta& meta,
                                                   Instant /*now*/) {
    for (;;) {
        // MSG_TRUNC makes recv() report the datagram's real length even when it was cut.
        const ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_TRUNC);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return std::size_t{0};
            // An ICMP port unreachable from a peer that is not up yet: not a broken device.
            if (errno == ECONNREFUSED) return std::size_t{0};
            return unexpected(os_error(errno, "udp tunnel: recv"));
        }
        const auto len = static_cast<std::size_t>(n);
        if (len > buf.size()) {
            ++counters_.rx_dropped_too_big;
            return std::size_t{0};
        }
        if (len == 0) {
            ++counters_.rx_dropped_malformed;
            return std::size_t{0};
        }
        meta = FrameMeta{};
        ++counters_.rx_frames;
        counters_.rx_bytes += len;
        return len;
    }
}

DeviceResult<void> UdpTunnelDevice::send(ByteSpan frame, const FrameMeta& meta, Instant /*now*/) {
    if (meta.needs_csum || meta.gso != FrameMeta::Gso::kNone) {
        ++counters_.tx_dropped_unsupported;
        return {};
    }
    if (frame.size() > caps_.max_frame || frame.empty()) {
        ++counters_.tx_dropped_too_big;
        return {};
    }
    for (;;) {
        const ssize_t n = ::send(fd_.get(), frame.data(), frame.size(), MSG_DONTWAIT);
        if (n >= 0) break;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
            ++counters_.tx_dropped_queue_full;
            return {};
        }
        if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH ||
            errno == EMSGSIZE) {
            ++counters_.tx_dropped_rejected;
            return {};
        }
        return unexpected(os_error(errno, "udp tunnel: send"));
    }
    ++counters_.tx_frames;
    counters_.tx_bytes += frame.size();
    return {};
}

}  // namespace ustack::phy
