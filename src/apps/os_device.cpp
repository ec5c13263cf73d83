// The OS-facing devices of the ustack command: TUN/TAP and pcap capture, from phy/.
#include "apps/node.hpp"
#include "phy/pcap.hpp"
#include "phy/tun.hpp"

namespace ustack::apps {

std::unique_ptr<phy::Device> open_os_device(const DeviceOptions& opts) {
    const bool tap = opts.kind == DeviceOptions::Kind::kTap;
    const std::string what = std::string(tap ? "TAP" : "TUN") + " device " + opts.name;
    phy::TunOptions to;
    to.name = opts.name;
    to.mode = tap ? phy::TunMode::kTap : phy::TunMode::kTun;
    to.vnet_offload = opts.offload;
    to.mtu = opts.mtu;
    auto dev = phy::TunDevice::open(to);
    if (!dev) throw FatalError("cannot open " + what + ": " + dev.error().what);
    if (opts.host_addr) {
        if (auto r = (*dev)->set_ipv4(opts.host_addr->addr.value, opts.host_addr->prefix_len); !r) {
            throw FatalError("cannot give " + what + " the address " + opts.host_addr->to_string() +
                             ": " + r.error().what);
        }
        if (auto r = (*dev)->set_up(true); !r) {
            throw FatalError("cannot bring " + what + " up: " + r.error().what);
        }
    }
    return std::move(dev).value();
}

std::unique_ptr<phy::Device> wrap_pcap(std::unique_ptr<phy::Device> inner,
                                       const std::string& path) {
    auto writer = phy::PcapWriter::open(path, inner->caps().link);
    if (!writer) throw FatalError("cannot write pcap file " + path + ": " + writer.error().what);
    return std::make_unique<phy::PcapDevice>(std::move(inner), std::move(writer).value());
}

}  // namespace ustack::apps
