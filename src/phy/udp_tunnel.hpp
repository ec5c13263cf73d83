// UdpTunnelDevice: frames carried one per UDP datagram between two processes, so that two
// ustack instances (or ustack and a test harness) can talk without root, TUN or TAP.
//
// Each datagram holds exactly one frame, with no header of its own: an IPv4 packet in L3 mode,
// an Ethernet II frame in L2 mode. Over loopback a datagram of any frame size is fine; across a
// real network, keep mtu + overhead below the path MTU or the kernel fragments the datagrams.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "phy/device.hpp"
#include "phy/fd.hpp"

namespace ustack::phy {

struct UdpTunnelOptions {
    std::string local_host = "127.0.0.1";  // numeric address or name; IPv4 or IPv6
    std::uint16_t local_port = 0;          // 0: the kernel picks one (see local_port())
    std::string peer_host = "127.0.0.1";
    std::uint16_t peer_port = 0;
    LinkType link = LinkType::kIp;
    std::uint32_t mtu = 1500;
    // SO_RCVBUF / SO_SNDBUF; 0 leaves the kernel's default.
    int socket_buffer_bytes = 1 << 20;
    std::string name = "udptun";
};

class UdpTunnelDevice final : public Device {
  public:
    // Binds the local address and connects to the peer: only the peer's datagrams are received.
    // The peer need not be up yet; until it is, frames sent are counted as rejected drops.
    static DeviceResult<std::unique_ptr<UdpTunnelDevice>> open(const UdpTunnelOptions& options);

    const DeviceCaps& caps() const override { return caps_; }
    std::string name() const override { return name_; }
    DeviceResult<std::size_t> receive(MutableByteSpan buf, FrameMeta& meta, Instant now) override;
    DeviceResult<void> send(ByteSpan frame, const FrameMeta& meta, Instant now) override;
    int fd() const override { return fd_.get(); }
    DeviceCounters counters() const override { return counters_; }

    std::uint16_t local_port() const { return local_port_; }

  private:
    UdpTunnelDevice(UniqueFd fd, DeviceCaps caps, std::string name, std::uint16_t local_port);

    UniqueFd fd_;
    DeviceCaps caps_;
    std::string name_;
    std::uint16_t local_port_;
    DeviceCounters counters_;
};

}  // namespace ustack::phy
