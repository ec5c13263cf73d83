// TunDevice: the Linux TUN (L3, bare IPv4 packets) and TAP (L2, Ethernet frames) drivers.
//
// One read() or write() on a TUN/TAP descriptor moves exactly one packet; the kernel offers no
// batched call for these descriptors to user space (no recvmmsg/sendmmsg on a character
// device, and the TUN_MSG_PTR batching of tun_sendmsg() is reserved for vhost-net inside the
// kernel). What it does offer is bigger packets: with IFF_VNET_HDR and TUNSETOFFLOAD each
// crossing carries a virtio-net header and up to 64 KiB of payload -- a GRO super-packet
// towards us, a TSO super-segment that the kernel splits towards it -- and that is how this
// device amortises the ~1 us system call. Spreading queues over threads (IFF_MULTI_QUEUE, one
// descriptor per queue) is the other lever.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "phy/device.hpp"
#include "phy/fd.hpp"

namespace ustack::phy {

enum class TunMode : std::uint8_t { kTun, kTap };

struct TunOptions {
    // Interface name: an existing TUN/TAP interface of the same mode is attached to, otherwise
    // one is created (and disappears when closed). Empty: the kernel picks tunN / tapN.
    std::string name;
    TunMode mode = TunMode::kTun;
    // IFF_VNET_HDR + TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4): partial checksums and TCP
    // super-segments in both directions.
    bool vnet_offload = false;
    // Sets the kernel interface's MTU after opening.
    std::optional<std::uint32_t> mtu;
    // IFF_MULTI_QUEUE: open the same name again for more queues (one per stack instance).
    bool multi_queue = false;
};

class TunDevice final : public Device {
  public:
    // Size of the virtio-net header in front of each packet with vnet_offload.
    static constexpr std::size_t kVnetHeaderSize = 10;

    static DeviceResult<std::unique_ptr<TunDevice>> open(const TunOptions& options);

    const DeviceCaps& caps() const override { return caps_; }
    std::string name() const override { return name_; }
    DeviceResult<std::size_t> receive(MutableByteSpan buf, FrameMeta& meta, Instant now) override;
    DeviceResult<void> send(ByteSpan frame, const FrameMeta& meta, Instant now) override;
    int fd() const override { return fd_.get(); }
    DeviceCounters counters() const override { return counters_; }

    TunMode mode() const { return mode_; }

    // Configuration of the kernel side of the interface, for `ustack --host-addr` and tests.
    // These act in the network namespace of the calling thread, which must be the one the
    // device lives in.
    DeviceResult<void> set_mtu(std::uint32_t mtu);
    // Address in host order (10.0.0.1 == 0x0a000001); also sets the netmask.
    DeviceResult<void> set_ipv4(std::uint32_t addr, std::uint8_t prefix_len);
    DeviceResult<void> set_up(bool up = true);
    // The kernel interface's own MAC address (TAP): the peer's address, not ours.
    DeviceResult<std::array<std::uint8_t, 6>> kernel_mac() const;

  private:
    TunDevice(UniqueFd fd, std::string name, TunMode mode, bool vnet, DeviceCaps caps);
    void update_caps_for_mtu(std::uint32_t mtu);

    UniqueFd fd_;
    std::string name_;
    TunMode mode_;
    bool vnet_;
    DeviceCaps caps_;
    std::vector<std::byte> scratch_;  // for callers whose buffer is below max_frame
    DeviceCounters counters_;
};

// The same ioctls for any interface by name (e.g. "lo" in a fresh namespace).
namespace netif {
DeviceResult<std::uint32_t> get_mtu(const std::string& ifname);
DeviceResult<void> set_mtu(const std::string& ifname, std::uint32_t mtu);
DeviceResult<void> set_ipv4(const std::string& ifname, std::uint32_t addr, std::uint8_t prefix_len);
DeviceResult<void> set_link_up(const std::string& ifname, bool up = true);
DeviceResult<std::array<std::uint8_t, 6>> hw_addr(const std::string& ifname);
}  // namespace netif

}  // namespace ustack::phy
