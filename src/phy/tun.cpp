#include "phy/tun.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ustack::phy {

namespace {

constexpr std::uint32_t kEthernetHeader = 14;
constexpr std::uint32_t kMaxIpPacket = 65535;
// Large enough for anything a TUN/TAP read can return: a 64 KiB packet, an Ethernet header and
// a VLAN tag.
constexpr std::size_t kScratchSize = kMaxIpPacket + kEthernetHeader + 4;

// The virtio-net header (virtio spec 5.1.6, struct virtio_net_hdr in <linux/virtio_net.h>, which
// does not compile as C++). Fields are in the host's byte order: legacy virtio, and we never ask
// for TUNSETVNETLE/BE.
struct VnetHeader {
    std::uint8_t flags;
    std::uint8_t gso_type;
    std::uint16_t hdr_len;
    std::uint16_t gso_size;
    std::uint16_t csum_start;
    std::uint16_t csum_offset;
};
static_assert(sizeof(VnetHeader) == TunDevice::kVnetHeaderSize);

constexpr std::uint8_t kVnetNeedsCsum = 1;
constexpr std::uint8_t kVnetDataValid = 2;
constexpr std::uint8_t kVnetGsoNone = 0;
constexpr std::uint8_t kVnetGsoTcpV4 = 1;
constexpr std::uint8_t kVnetGsoEcn = 0x80;

DeviceError os_error(int code, const std::string& what) {
    return DeviceError{code, what + ": " + std::strerror(code)};
}

DeviceResult<ifreq> make_ifreq(const std::string& ifname) {
    ifreq ifr{};
    if (ifname.size() >= IFNAMSIZ)
        return unexpected(DeviceError{ENAMETOOLONG, "interface name too long: " + ifname});
    std::memcpy(ifr.ifr_name, ifname.c_str(), ifname.size());
    return ifr;
}

// Runs one interface ioctl through a throwaway AF_INET socket.
DeviceResult<void> if_ioctl(unsigned long request, ifreq& ifr, const char* what) {
    UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock) return unexpected(os_error(errno, "socket for interface ioctl"));
    if (::ioctl(sock.get(), request, &ifr) != 0)
        return unexpected(os_error(errno, std::string(what) + " " + ifr.ifr_name));
    return {};
}

std::string open_error_text(int code) {
    switch (code) {
        case ENOENT:
        case ENODEV:
            return "cannot open /dev/net/tun: no TUN driver (load the tun module or create the "
                   "device node)";
        case EACCES:
        case EPERM:
            return "cannot open /dev/net/tun: permission denied (needs root or CAP_NET_ADMIN)";
        default:
            return "cannot open /dev/net/tun";
    }
}

std::string setiff_error_text(int code, const std::string& name) {
    const std::string n = name.empty() ? std::string("a new interface") : name;
    switch (code) {
        case EPERM:
        case EACCES:
            return "TUNSETIFF " + n + ": needs CAP_NET_ADMIN (or ownership of a persistent device)";
        case EBUSY:
            return "TUNSETIFF " + n + ": interface is in use by another process";
        case EINVAL:
            return "TUNSETIFF " + n +
                   ": exists with another mode or flags (tun vs tap, multi-queue, vnet header)";
        default:
            return "TUNSETIFF " + n;
    }
}

}  // namespace

TunDevice::TunDevice(UniqueFd fd, std::string name, TunMode mode, bool vnet, DeviceCaps caps)
    : fd_(std::move(fd)), name_(std::move(name)), mode_(mode), vnet_(vnet), caps_(caps) {
    scratch_.resize(kScratchSize);
}

DeviceResult<std::unique_ptr<TunDevice>> TunDevice::open(const TunOptions& o) {
    UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd) {
        const int e = errno;
        return unexpected(os_error(e, open_error_text(e)));
    }
    auto req = make_ifreq(o.name);
    if (!req) return unexpected(req.error());
    ifreq ifr = *req;
    ifr.ifr_flags = static_cast<short>((o.mode == TunMode::kTap ? IFF_TAP : IFF_TUN) | IFF_NO_PI |
                                       (o.vnet_offload ? IFF_VNET_HDR : 0) |
                                       (o.multi_queue ? IFF_MULTI_QUEUE : 0));
    if (::ioctl(fd.get(), TUNSETIFF, &ifr) != 0) {
        const int e = errno;
        return unexpected(os_error(e, setiff_error_text(e, o.name)));
    }
    std::string name(ifr.ifr_name, ::strnlen(ifr.ifr_name, IFNAMSIZ));

    if (o.vnet_offload) {
        int hdr_size = static_cast<int>(kVnetHeaderSize);
        if (::ioctl(fd.get(), TUNSETVNETHDRSZ, &hdr_size) != 0)
            return unexpected(os_error(errno, "TUNSETVNETHDRSZ " + name));
        // What the kernel may hand us: partial checksums and IPv4 TCP super-packets. No
        // TUN_F_TSO_ECN, TSO6 or USO: the kernel segments those in software before they reach
        // us. Our own super-segments towards the kernel need no flag: a vnet-header descriptor
        // always accepts them.
        const unsigned offload = TUN_F_CSUM | TUN_F_TSO4;
        if (::ioctl(fd.get(), TUNSETOFFLOAD, offload) != 0)
            return unexpected(os_error(errno, "TUNSETOFFLOAD " + name));
    }

    DeviceCaps caps;
    caps.link = o.mode == TunMode::kTap ? LinkType::kEthernet : LinkType::kIp;
    caps.tx_csum_offload = o.vnet_offload;
    caps.tx_tso = o.vnet_offload;
    caps.rx_offload = o.vnet_offload;
    std::unique_ptr<TunDevice> dev(
        new TunDevice(std::move(fd), name, o.mode, o.vnet_offload, caps));
    if (o.mtu) {
        if (auto r = dev->set_mtu(*o.mtu); !r) return unexpected(r.error());
    } else {
        auto mtu = netif::get_mtu(name);
        if (!mtu) return unexpected(mtu.error());
        dev->update_caps_for_mtu(*mtu);
    }
    return dev;
}

void TunDevice::update_caps_for_mtu(std::uint32_t mtu) {
    caps_.mtu = mtu;
    const std::uint32_t l2 = caps_.link == LinkType::kEthernet ? kEthernetHeader : 0;
    caps_.max_frame = (vnet_ ? std::max(mtu, kMaxIpPacket) : mtu) + l2;
}

DeviceResult<std::size_t> TunDevice::receive(MutableByteSpan buf, FrameMeta& meta,
                                             Instant /*now*/) {
    // Read straight into the caller's buffer when it holds any frame the link may carry;
    // otherwise through the scratch buffer, so that a frame too big for buf is still consumed
    // whole (a short buffer makes the kernel fail the read and lose the packet).
    const bool direct = buf.size() >= caps_.max_frame;
    MutableByteSpan target = direct ? buf : MutableByteSpan(scratch_);
    VnetHeader hdr{};
    iovec iov[2];
    int iovcnt = 0;
    if (vnet_) iov[iovcnt++] = {&hdr, sizeof hdr};
    iov[iovcnt++] = {target.data(), target.size()};

    ssize_t n;
    do {
        n = ::readv(fd_.get(), iov, iovcnt);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return std::size_t{0};
        if (errno == EFAULT || errno == EINVAL) {  // packet larger than our buffer
            ++counters_.rx_dropped_too_big;
            return std::size_t{0};
        }
        return unexpected(os_error(errno, "read " + name_));
    }
    std::size_t len = static_cast<std::size_t>(n);
    FrameMeta m;
    if (vnet_) {
        if (len < sizeof hdr) {
            ++counters_.rx_dropped_malformed;
            return std::size_t{0};
        }
        len -= sizeof hdr;
        m.needs_csum = (hdr.flags & kVnetNeedsCsum) != 0;
        m.csum_valid = (hdr.flags & kVnetDataValid) != 0;
        if (m.needs_csum) {
            m.csum_start = hdr.csum_start;
            m.csum_offset = hdr.csum_offset;
        }
        switch (hdr.gso_type & ~kVnetGsoEcn) {
            case kVnetGsoNone:
                break;
            case kVnetGsoTcpV4:
                m.gso = FrameMeta::Gso::kTcpV4;
                m.gso_size = hdr.gso_size;
                m.hdr_len = hdr.hdr_len;
                break;
            default:  // not offered in TUNSETOFFLOAD, so not expected
                ++counters_.rx_dropped_malformed;
                return std::size_t{0};
        }
    }
    if (len == 0) {
        ++counters_.rx_dropped_malformed;
        return std::size_t{0};
    }
    if (!direct) {
        if (len > buf.size()) {
            ++counters_.rx_dropped_too_big;
            return std::size_t{0};
        }
        std::memcpy(buf.data(), scratch_.data(), len);
    }
    meta = m;
    ++counters_.rx_frames;
    counters_.rx_bytes += len;
    return len;
}

DeviceResult<void> TunDevice::send(ByteSpan frame, const FrameMeta& meta, Instant /*now*/) {
    const bool gso = meta.gso != FrameMeta::Gso::kNone;
    if (!vnet_ && (gso || meta.needs_csum)) {
        ++counters_.tx_dropped_unsupported;
        return {};
    }
    if (frame.empty() || frame.size() > kScratchSize) {
        ++counters_.tx_dropped_too_big;
        return {};
    }
    VnetHeader hdr{};
    iovec iov[2];
    int iovcnt = 0;
    if (vnet_) {
        if (meta.needs_csum) {
            hdr.flags |= kVnetNeedsCsum;
            hdr.csum_start = meta.csum_start;
            hdr.csum_offset = meta.csum_offset;
        }
        if (meta.csum_valid) hdr.flags |= kVnetDataValid;
        if (gso) {
            hdr.gso_type = kVnetGsoTcpV4;
            hdr.gso_size = meta.gso_size;
            hdr.hdr_len = meta.hdr_len;
        }
        iov[iovcnt++] = {&hdr, sizeof hdr};
    }
    iov[iovcnt++] = {const_cast<std::byte*>(frame.data()), frame.size()};

    ssize_t n;
    do {
        n = ::writev(fd_.get(), iov, iovcnt);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        switch (errno) {
            case EAGAIN:
            case ENOBUFS:
            case ENOMEM:
                ++counters_.tx_dropped_queue_full;
                return {};
            case EIO:     // interface down
            case EINVAL:  // the kernel refused this frame's virtio header or size
            case EMSGSIZE:
            case EFAULT:
                ++counters_.tx_dropped_rejected;
                return {};
            default:
                return unexpected(os_error(errno, "write " + name_));
        }
    }
    ++counters_.tx_frames;
    counters_.tx_bytes += frame.size();
    return {};
}

DeviceResult<void> TunDevice::set_mtu(std::uint32_t mtu) {
    if (auto r = netif::set_mtu(name_, mtu); !r) return r;
    update_caps_for_mtu(mtu);
    return {};
}

DeviceResult<void> TunDevice::set_ipv4(std::uint32_t addr, std::uint8_t prefix_len) {
    return netif::set_ipv4(name_, addr, prefix_len);
}

DeviceResult<void> TunDevice::set_up(bool up) {
    return netif::set_link_up(name_, up);
}

DeviceResult<std::array<std::uint8_t, 6>> TunDevice::kernel_mac() const {
    return netif::hw_addr(name_);
}

// ---------------------------------------------------------------------------------------------

namespace netif {

DeviceResult<std::uint32_t> get_mtu(const std::string& ifname) {
    auto ifr = make_ifreq(ifname);
    if (!ifr) return unexpected(ifr.error());
    if (auto r = if_ioctl(SIOCGIFMTU, *ifr, "SIOCGIFMTU"); !r) return unexpected(r.error());
    return static_cast<std::uint32_t>(ifr->ifr_mtu);
}

DeviceResult<void> set_mtu(const std::string& ifname, std::uint32_t mtu) {
    auto ifr = make_ifreq(ifname);
    if (!ifr) return unexpected(ifr.error());
    ifr->ifr_mtu = static_cast<int>(mtu);
    return if_ioctl(SIOCSIFMTU, *ifr, "SIOCSIFMTU");
}

DeviceResult<void> set_ipv4(const std::string& ifname, std::uint32_t addr,
                            std::uint8_t prefix_len) {
    if (prefix_len > 32)
        return unexpected(DeviceError{EINVAL, "prefix length above 32 for " + ifname});
    auto ifr = make_ifreq(ifname);
    if (!ifr) return unexpected(ifr.error());
    auto put = [](ifreq& r, std::uint32_t host_order) {
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(host_order);
        std::memcpy(&r.ifr_addr, &sin, sizeof sin);
    };
    put(*ifr, addr);
    if (auto r = if_ioctl(SIOCSIFADDR, *ifr, "SIOCSIFADDR"); !r) return r;
    const std::uint32_t mask = prefix_len == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix_len);
    put(*ifr, mask);
    return if_ioctl(SIOCSIFNETMASK, *ifr, "SIOCSIFNETMASK");
}

DeviceResult<void> set_link_up(const std::string& ifname, bool up) {
    auto ifr = make_ifreq(ifname);
    if (!ifr) return unexpected(ifr.error());
    if (auto r = if_ioctl(SIOCGIFFLAGS, *ifr, "SIOCGIFFLAGS"); !r) return r;
    if (up)
        ifr->ifr_flags = static_cast<short>(ifr->ifr_flags | IFF_UP);
    else
        ifr->ifr_flags = static_cast<short>(ifr->ifr_flags & ~IFF_UP);
    return if_ioctl(SIOCSIFFLAGS, *ifr, "SIOCSIFFLAGS");
}

DeviceResult<std::array<std::uint8_t, 6>> hw_addr(const std::string& ifname) {
    auto ifr = make_ifreq(ifname);
    if (!ifr) return unexpected(ifr.error());
    if (auto r = if_ioctl(SIOCGIFHWADDR, *ifr, "SIOCGIFHWADDR"); !r) return unexpected(r.error());
    std::array<std::uint8_t, 6> mac{};
    std::memcpy(mac.data(), ifr->ifr_hwaddr.sa_data, mac.size());
    return mac;
}

}  // namespace netif

}  // namespace ustack::phy
