#include "stack/stack.hpp"

#include <algorithm>
#include <ostream>
#include <string>

#include "net/ip_layer.hpp"
#include "net/ping_sockets.hpp"
#include "tcp/tcp_layer.hpp"
#include "udp/udp_layer.hpp"
#include "wire/ipv4.hpp"

namespace ustack {

namespace {
// Sockets whose readiness changed, one entry per socket with its bits merged, in the order
// they first changed: the queue is bounded by the number of sockets however long the
// application leaves it unread. An open-addressing index over the entries keeps add() free of
// heap allocation once the capacity has grown to the number of busy sockets.
class PendingEvents {
  public:
    void add(SocketId id, std::uint32_t ev) {
        if ((entries_.size() + 1) * 2 > index_.size()) grow();
        const std::size_t mask = index_.size() - 1;
        for (std::size_t i = hash(id) & mask;; i = (i + 1) & mask) {
            std::uint32_t slot = index_[i];
            if (slot == 0) {
                entries_.push_back(SocketEvent{id, ev});
                slots_.push_back(static_cast<std::uint32_t>(i));
                index_[i] = static_cast<std::uint32_t>(entries_.size());
                return;
            }
            if (entries_[slot - 1].socket == id) {
                entries_[slot - 1].events |= ev;
                return;
            }
        }
    }

    void take(std::vector<SocketEvent>& out) {
        out.insert(out.end(), entries_.begin(), entries_.end());
        for (std::uint32_t i : slots_)
            index_[i] = 0;  // only the slots in use: O(entries)
        entries_.clear();
        slots_.clear();
    }

  private:
    static std::size_t hash(SocketId id) { return static_cast<std::size_t>(id) * 0x9e3779b1u >> 4; }

    void grow() {
        index_.assign(std::max<std::size_t>(16, index_.size() * 2), 0u);
        const std::size_t mask = index_.size() - 1;
        for (std::size_t e = 0; e < entries_.size(); ++e) {
            std::size_t i = hash(entries_[e].socket) & mask;
            while (index_[i] != 0)
                i = (i + 1) & mask;
            index_[i] = static_cast<std::uint32_t>(e + 1);
            slots_[e] = static_cast<std::uint32_t>(i);
        }
    }

    std::vector<SocketEvent> entries_;
    std::vector<std::uint32_t> slots_;  // where each entry sits in index_
    std::vector<std::uint32_t> index_;  // 0: empty; else 1 + position in entries_
};
}  // namespace

struct Stack::Impl {
    explicit Impl(StackConfig c)
        : cfg(c),
          ip(cfg, counters, cfg.seed),
          udp(cfg, counters.udp, ip, cfg.seed),
          ping(ip, cfg.ping_recv_queue_packets, cfg.seed >> 16),
          tcp(cfg, counters.tcp, ip, cfg.seed, &next_socket) {
        ip.set_transport(wire::kIpProtoUdp, &udp);
        ip.set_transport(wire::kIpProtoTcp, &tcp);
        tcp.set_ready_callback(&Impl::on_ready, this);
        ip.set_echo_reply_handler(&ping);
        udp.set_ready_callback(&Impl::on_ready, this);
        ping.set_ready_callback(&Impl::on_ready, this);
    }

    static void on_ready(void* ctx, SocketId id, std::uint32_t ev) {
        static_cast<Impl*>(ctx)->pending.add(id, ev);
    }

    StackConfig cfg;
    StackCounters counters;
    net::IpLayer ip;
    udp::UdpLayer udp;
    net::PingSockets ping;
    SocketId next_socket = 1;
    tcp::TcpLayer tcp;
    PendingEvents pending;
    Instant now{};
};

namespace {
wire::MacAddr mac_from_seed(std::uint64_t seed, std::uint32_t ifc) {
    std::uint64_t x = seed + 0x9e3779b97f4a7c15ull * (ifc + 1);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    wire::MacAddr m;
    for (int i = 0; i < 6; ++i)
        m.bytes[i] = static_cast<std::uint8_t>(x >> (8 * i));
    m.bytes[0] = static_cast<std::uint8_t>((m.bytes[0] & 0xfe) | 0x02);  // local, unicast
    return m;
}
}  // namespace

Stack::Stack(StackConfig config) : impl_(std::make_unique<Impl>(config)) {}
Stack::~Stack() = default;

InterfaceId Stack::add_interface(phy::Device& device, InterfaceConfig cfg) {
    auto idx = static_cast<InterfaceId>(impl_->ip.interface_count());
    wire::MacAddr mac = cfg.mac.value_or(mac_from_seed(impl_->cfg.seed, idx));
    return impl_->ip.add_interface(device, cfg.addr, mac, cfg.mtu.value_or(device.caps().mtu));
}

void Stack::add_route(wire::Ipv4Cidr dest, std::optional<wire::Ipv4Addr> gateway, InterfaceId ifc) {
    impl_->ip.routes().add(
        net::RouteEntry{wire::Ipv4Cidr{dest.network(), dest.prefix_len}, gateway, ifc});
}

void Stack::set_default_gateway(wire::Ipv4Addr gateway, InterfaceId ifc) {
    add_route(wire::Ipv4Cidr{wire::Ipv4Addr{}, 0}, gateway, ifc);
}

wire::MacAddr Stack::interface_mac(InterfaceId ifc) const {
    return impl_->ip.interface(ifc).mac;
}
std::size_t Stack::interface_count() const {
    return impl_->ip.interface_count();
}
phy::Device& Stack::interface_device(InterfaceId ifc) {
    return *impl_->ip.interface(ifc).device;
}

void Stack::poll(Instant now) {
    impl_->now = now;
    auto& ip = impl_->ip;
    if (impl_->cfg.rx_coalesce) impl_->tcp.begin_batch();
    for (InterfaceId i = 0; i < ip.interface_count(); ++i) {
        auto& ic = ip.interface(i);
        // Frames are processed where the device holds them when it lends them (no copy),
        // else in the interface's receive buffer.
        for (std::size_t n = 0; n < impl_->cfg.rx_batch; ++n) {
            phy::FrameMeta meta;
            auto r = ic.device->receive_view(ic.rx_buf, meta, now);
            if (!r || r->empty()) break;
            ip.on_frame(i, *r, meta, now);
        }
        ic.device->release_received();
    }
    impl_->tcp.end_batch(now);
    if (now >= ip.next_deadline()) ip.on_timer(now);
    if (now >= impl_->tcp.next_deadline()) impl_->tcp.on_timer(now);
}

void Stack::on_frame(InterfaceId ifc, ByteSpan frame, const phy::FrameMeta& meta, Instant now) {
    impl_->now = now;
    impl_->ip.on_frame(ifc, frame, meta, now);
}

Instant Stack::next_deadline() const {
    auto& ip = impl_->ip;
    Instant d = std::min(ip.next_deadline(), impl_->tcp.next_deadline());
    for (InterfaceId i = 0; i < ip.interface_count(); ++i) {
        const auto& dev = *ip.interface(i).device;
        d = std::min(d, dev.next_deadline());
        if (dev.fd() < 0 && dev.has_pending(impl_->now)) d = std::min(d, impl_->now);
    }
    return d;
}

Instant Stack::now() const {
    return impl_->now;
}

void Stack::take_events(std::vector<SocketEvent>& out) {
    impl_->pending.take(out);
}

// --- UDP ------------------------------------------------------------------------------------

SockResult<SocketId> Stack::udp_open() {
    SocketId id = impl_->next_socket++;
    if (auto r = impl_->udp.open(id); !r) return unexpected(r.error());
    return id;
}

SockResult<void> Stack::udp_bind(SocketId s, Endpoint local) {
    return impl_->udp.bind(s, udp::UdpEndpoint{local.addr, local.port});
}

SockResult<void> Stack::udp_connect(SocketId s, Endpoint remote) {
    return impl_->udp.connect(s, udp::UdpEndpoint{remote.addr, remote.port});
}

SockResult<std::size_t> Stack::udp_send(SocketId s, ByteSpan data) {
    return impl_->udp.sendto(s, data, nullptr, impl_->now);
}

SockResult<std::size_t> Stack::udp_sendto(SocketId s, ByteSpan data, Endpoint to) {
    udp::UdpEndpoint ep{to.addr, to.port};
    return impl_->udp.sendto(s, data, &ep, impl_->now);
}

SockResult<UdpReceived> Stack::udp_recvfrom(SocketId s, MutableByteSpan buf, bool peek) {
    auto r = impl_->udp.recvfrom(s, buf, peek);
    if (!r) return unexpected(r.error());
    return UdpReceived{r->size, r->full_size, Endpoint{r->from.addr, r->from.port}};
}

SockResult<Endpoint> Stack::udp_local(SocketId s) const {
    auto r = impl_->udp.local(s);
    if (!r) return unexpected(r.error());
    return Endpoint{r->addr, r->port};
}

SockResult<Endpoint> Stack::udp_peer(SocketId s) const {
    auto r = impl_->udp.peer(s);
    if (!r) return unexpected(r.error());
    return Endpoint{r->addr, r->port};
}

SockResult<void> Stack::udp_disconnect(SocketId s) {
    return impl_->udp.disconnect(s);
}

std::size_t Stack::udp_next_size(SocketId s) const {
    return impl_->udp.next_size(s);
}

std::uint32_t Stack::udp_poll(SocketId s) const {
    return impl_->udp.poll(s);
}
void Stack::udp_close(SocketId s) {
    impl_->udp.close(s);
}

// --- ping -----------------------------------------------------------------------------------

SockResult<SocketId> Stack::ping_open() {
    SocketId id = impl_->next_socket++;
    impl_->ping.open(id);
    return id;
}

SockResult<void> Stack::ping_send(SocketId s, wire::Ipv4Addr dst, std::uint16_t seq,
                                  ByteSpan payload) {
    return impl_->ping.send(s, dst, seq, payload, impl_->now);
}

SockResult<PingReply> Stack::ping_recv(SocketId s, MutableByteSpan payload_buf) {
    auto r = impl_->ping.recv(s);
    if (!r) return unexpected(r.error());
    PingReply p;
    p.from = r->from;
    p.seq = r->seq;
    p.ttl = r->ttl;
    p.size = std::min(payload_buf.size(), r->payload.size());
    std::copy_n(r->payload.begin(), p.size, payload_buf.begin());
    return p;
}

void Stack::ping_close(SocketId s) {
    impl_->ping.close(s);
}

// --- TCP ------------------------------------------------------------------------------------

namespace {
tcp::TcpEndpoint to_tcp(Endpoint e) {
    return tcp::TcpEndpoint{e.addr, e.port};
}
}  // namespace

SockResult<SocketId> Stack::tcp_listen(Endpoint local, std::uint32_t backlog, bool reuse_address) {
    return impl_->tcp.listen(to_tcp(local), backlog, reuse_address, impl_->now);
}

SockResult<std::uint16_t> Stack::tcp_check_bind(Endpoint local, bool reuse_address) const {
    auto r = impl_->tcp.check_bind(tcp::TcpEndpoint{local.addr, local.port}, reuse_address);
    if (!r) return unexpected(r.error());
    return *r;
}

SockResult<SocketId> Stack::tcp_accept(SocketId listener, Endpoint* peer) {
    tcp::TcpEndpoint p;
    auto r = impl_->tcp.accept(listener, &p);
    if (r && peer) *peer = Endpoint{p.addr, p.port};
    return r;
}

SockResult<SocketId> Stack::tcp_connect(Endpoint remote, Endpoint local, std::uint16_t user_mss,
                                        bool fastopen) {
    return impl_->tcp.connect(to_tcp(remote), to_tcp(local), impl_->now, user_mss, fastopen);
}

bool Stack::tcp_fastopen_deferred(SocketId s) const {
    return impl_->tcp.fastopen_deferred(s);
}

SockResult<std::size_t> Stack::tcp_send(SocketId s, ByteSpan data, bool more, bool eor) {
    return impl_->tcp.send(s, data, impl_->now, more, eor);
}

SockResult<std::size_t> Stack::tcp_recv(SocketId s, MutableByteSpan buf, bool peek) {
    return impl_->tcp.recv(s, buf, peek, impl_->now);
}

SockResult<void> Stack::tcp_shutdown(SocketId s, tcp::Shutdown how) {
    return impl_->tcp.shutdown(s, how, impl_->now);
}

void Stack::tcp_close(SocketId s) {
    impl_->tcp.close(s, impl_->now);
}
void Stack::tcp_abort(SocketId s) {
    impl_->tcp.abort(s, impl_->now);
}
std::uint32_t Stack::tcp_poll(SocketId s) const {
    return impl_->tcp.poll(s);
}
SockResult<tcp::TcpInfo> Stack::tcp_info(SocketId s) const {
    return impl_->tcp.info(s);
}

SockResult<void> Stack::tcp_set_nodelay(SocketId s, bool on) {
    return impl_->tcp.set_nodelay(s, on, impl_->now);
}

SockResult<void> Stack::tcp_set_limits(SocketId s, std::uint32_t syn_retries, Duration user_timeout,
                                       std::uint32_t notsent_lowat) {
    return impl_->tcp.set_limits(s, syn_retries, user_timeout, notsent_lowat);
}

SockResult<void> Stack::tcp_set_cork(SocketId s, bool on) {
    return impl_->tcp.set_cork(s, on, impl_->now);
}

SockResult<void> Stack::tcp_set_maxseg(SocketId s, std::uint16_t mss) {
    return impl_->tcp.set_user_mss(s, mss);
}

SockResult<void> Stack::tcp_set_keepalive(SocketId s, bool on, Duration idle, Duration interval,
                                          std::uint32_t probes) {
    return impl_->tcp.set_keepalive(s, on, idle, interval, probes, impl_->now);
}

SockResult<void> Stack::tcp_set_linger(SocketId s, std::optional<Duration> linger) {
    return impl_->tcp.set_linger(s, linger);
}

SockResult<void> Stack::tcp_set_buffers(SocketId s, std::size_t send, std::size_t recv) {
    return impl_->tcp.set_buffers(s, send, recv);
}

SockResult<std::errc> Stack::tcp_error(SocketId s) {
    return impl_->tcp.take_error(s);
}
std::size_t Stack::tcp_connection_count() const {
    return impl_->tcp.connection_count();
}

// --- observing ------------------------------------------------------------------------------

const StackCounters& Stack::counters() const {
    return impl_->counters;
}
const StackConfig& Stack::config() const {
    return impl_->cfg;
}

void Stack::print_counters(std::ostream& os) const {
    std::string_view section;
    impl_->counters.for_each([&](std::string_view sec, std::string_view name, std::uint64_t v) {
        if (sec != section) {
            os << sec << ":\n";
            section = sec;
        }
        os << "    " << name << ": " << v << "\n";
    });
}

}  // namespace ustack
