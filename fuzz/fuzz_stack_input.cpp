// Fuzzes the stack's whole input path: arbitrary frames into an Ethernet and an IP interface,
// with UDP and ping sockets open, timers run in between. Nothing may crash, hang or read out of
// bounds; the fuzzer input is split into frames by a 2-byte length prefix each.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.hpp"
#include "stack/stack.hpp"

namespace {

class SinkDevice : public ustack::phy::Device {
  public:
    explicit SinkDevice(ustack::phy::LinkType link) {
        caps_.link = link;
        caps_.mtu = 1500;
        caps_.max_frame = 65535 + 14;
    }
    const ustack::phy::DeviceCaps& caps() const override { return caps_; }
    std::string name() const override { return "sink"; }
    ustack::phy::DeviceResult<std::size_t> receive(ustack::MutableByteSpan, ustack::phy::FrameMeta&,
                                                   ustack::Instant) override {
        return std::size_t{0};
    }
    ustack::phy::DeviceResult<void> send(ustack::ByteSpan frame, const ustack::phy::FrameMeta&,
                                         ustack::Instant) override {
        if (frame.size() > 65535 + 14) __builtin_trap();  // never emit an impossible frame
        return {};
    }

  private:
    ustack::phy::DeviceCaps caps_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ustack;
    SinkDevice eth(phy::LinkType::kEthernet);
    SinkDevice ip(phy::LinkType::kIp);
    StackConfig cfg;
    cfg.reassembly_max_bytes = 256 * 1024;
    Stack stack(cfg);
    auto mac = wire::MacAddr{{0x02, 0, 0, 0, 0, 0x02}};
    stack.add_interface(eth, InterfaceConfig{{wire::Ipv4Addr{10, 0, 0, 2}, 24}, mac, {}});
    stack.add_interface(ip, InterfaceConfig{{wire::Ipv4Addr{10, 1, 0, 2}, 24}, {}, {}});
    stack.set_default_gateway(wire::Ipv4Addr{10, 0, 0, 1}, 0);
    Instant now = std::chrono::seconds(1);
    stack.poll(now);
    auto u = stack.udp_open();
    (void)stack.udp_bind(*u, Endpoint{{}, 7});
    auto c = stack.udp_open();
    (void)stack.udp_connect(*c, Endpoint{wire::Ipv4Addr{10, 0, 0, 1}, 9});
    auto p = stack.ping_open();
    std::vector<std::byte> buf(70000);
    std::size_t i = 0;
    while (i + 3 <= size) {
        const std::size_t len = (std::size_t{data[i]} << 8 | data[i + 1]);
        const std::uint8_t ctl = data[i + 2];
        i += 3;
        const std::size_t n = len < size - i ? len : size - i;
        ByteSpan frame{reinterpret_cast<const std::byte*>(data + i), n};
        i += n;
        phy::FrameMeta meta;
        meta.csum_valid = (ctl & 0x10) != 0;
        stack.on_frame(ctl & 1, frame, meta, now);
        now += std::chrono::milliseconds(ctl >> 5) * 300;  // 0..6.3 s steps: timers fire
        stack.poll(now);
        while (stack.udp_recvfrom(*u, buf)) {
        }
        (void)stack.udp_recvfrom(*c, buf);
        while (stack.ping_recv(*p, buf)) {
        }
        if (ctl & 0x08) (void)stack.udp_send(*c, ByteSpan{buf.data(), 3000});
    }
    std::vector<SocketEvent> ev;
    stack.take_events(ev);
    return 0;
}
