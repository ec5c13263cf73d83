// Fuzzes the stack's whole input path: arbitrary frames into an Ethernet and an IP interface,
// with UDP and ping sockets open, timers run in between. Nothing may crash, hang or read out of
// bounds; the fuzzer input is split into frames by a 2-byte length prefix each.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.hpp"
#include "stack/stack.hpp"
#include "wire/checksum.hpp"

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
    auto l = stack.tcp_listen(Endpoint{{}, 80}, 4);
    auto t = stack.tcp_connect(Endpoint{wire::Ipv4Addr{10, 1, 0, 1}, 8080});
    std::vector<SocketId> accepted;
    bool connected = false;
    std::vector<std::byte> buf(70000);
    std::size_t i = 0;
    while (i + 3 <= size) {
        const std::size_t len = (std::size_t{data[i]} << 8 | data[i + 1]);
        const std::uint8_t ctl = data[i + 2];
        i += 3;
        const std::size_t n = len < size - i ? len : size - i;
        // Copy the frame; on request, repair its IPv4 header checksum so that the fuzzer reaches
        // the transports instead of stopping at header validation.
        std::vector<std::byte> copy(reinterpret_cast<const std::byte*>(data + i),
                                    reinterpret_cast<const std::byte*>(data + i + n));
        i += n;
        const std::size_t ip_off = (ctl & 1) ? 0 : 14;
        if ((ctl & 0x40) && copy.size() >= ip_off + 20) {
            std::byte* ip = copy.data() + ip_off;
            const std::size_t hl = std::size_t{static_cast<std::uint8_t>(ip[0]) & 0x0fu} * 4;
            if (hl >= 20 && ip_off + hl <= copy.size()) {
                store_be16(ip + 10, 0);
                store_be16(ip + 10, wire::internet_checksum(ByteSpan{ip, hl}));
            }
        }
        ByteSpan frame{copy};
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
        // TCP: accept what completes, echo what arrives, close on EOF or by the input's say.
        if (l) {
            while (auto a = stack.tcp_accept(*l))
                accepted.push_back(*a);
        }
        if (t && !connected) {
            accepted.push_back(*t);
            connected = true;
        }
        for (SocketId s : accepted) {
            while (true) {
                auto r = stack.tcp_recv(s, MutableByteSpan{buf.data(), 4096});
                if (!r || *r == 0) break;
                (void)stack.tcp_send(s, ByteSpan{buf.data(), *r});
            }
            if (ctl & 0x04) (void)stack.tcp_shutdown(s, tcp::Shutdown::kWrite);
            (void)stack.tcp_info(s);
        }
        if ((ctl & 0x06) == 0x06 && !accepted.empty()) {
            stack.tcp_close(accepted.back());
            accepted.pop_back();
        }
    }
    std::vector<SocketEvent> ev;
    stack.take_events(ev);
    return 0;
}
