// The OS-facing devices of the ustack command: TUN/TAP and pcap capture, from phy/.
#include "apps/node.hpp"
#include "phy/pcap.hpp"

namespace ustack::apps {

std::unique_ptr<phy::Device> open_os_device(const DeviceOptions& /*opts*/) {
    throw FatalError("TUN/TAP devices are not available in this build yet");
}

std::unique_ptr<phy::Device> wrap_pcap(std::unique_ptr<phy::Device> inner,
                                       const std::string& path) {
    auto writer = phy::PcapWriter::open(path, inner->caps().link);
    if (!writer) throw FatalError("cannot write pcap file " + path + ": " + writer.error().what);
    return std::make_unique<phy::PcapDevice>(std::move(inner), std::move(writer).value());
}

}  // namespace ustack::apps
