// bench_tun: how many packets and bits a TunDevice moves per second, each way, with and without
// the virtio-net offloads, with 1500-byte and 64 KiB frames.
//
// Every case runs in a network namespace of its own (created here, gone when the case ends):
// the TUN device holds 10.99.0.1/24 on the kernel's side and "we" are 10.99.0.2 behind it.
//   kernel -> us: a kernel UDP socket blasts datagrams at 10.99.0.2 and we read them; for 64 KiB
//                 with offloads, a kernel TCP socket sends to a minimal TCP receiver here that
//                 ACKs everything, so the kernel hands us TSO super-packets.
//   us -> kernel: we write UDP datagrams to a kernel socket bound on 10.99.0.1; for 64 KiB with
//                 offloads, a minimal TCP sender here writes 64 KiB super-segments (GSO TCPv4)
//                 that the kernel splits and delivers to a kernel TCP socket.
// Without offloads a 64 KiB frame needs MTU 65535 on the interface; with them the MTU stays
// 1500 and the kernel segments.
//
// Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and /dev/net/tun; otherwise it says so and exits 0.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/bytes.hpp"
#include "phy/netns.hpp"
#include "phy/tun.hpp"
#include "wire/checksum.hpp"

using namespace ustack;
using namespace ustack::phy;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint32_t kHost = 0x0a630001;  // 10.99.0.1: the kernel
constexpr std::uint32_t kUs = 0x0a630002;    // 10.99.0.2: this program behind the TUN
constexpr auto kCaseTime = std::chrono::milliseconds(1500);

enum class Dir { kIn, kOut };  // kIn: kernel -> us

struct Case {
    Dir dir;
    bool offload;
    bool big;  // 64 KiB frames instead of 1500
};

struct Outcome {
    bool ran = false;
    std::string note;
    double seconds = 0;
    std::uint64_t frames = 0;           // frames we read or wrote
    std::uint64_t bytes = 0;            // IP bytes in them
    std::uint64_t delivered_bytes = 0;  // what the kernel socket received or sent (payload)
};

sockaddr_in sockaddr_of(std::uint32_t addr, std::uint16_t port) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(addr);
    sin.sin_port = htons(port);
    return sin;
}

// ---- minimal IPv4/TCP/UDP framing for the bench's own endpoint --------------------------------

struct TcpFields {
    std::uint16_t sport, dport;
    std::uint32_t seq, ack;
    std::uint8_t flags;
    std::uint16_t window;
    std::vector<std::uint8_t> options;  // multiple of 4
};

constexpr std::uint8_t kSyn = 0x02, kRst = 0x04, kAck = 0x10;

void write_ipv4(std::byte* ip, std::size_t total, std::uint8_t proto, std::uint32_t src,
                std::uint32_t dst) {
    std::memset(ip, 0, 20);
    store_u8(ip, 0x45);
    store_be16(ip + 2, static_cast<std::uint16_t>(total));
    store_be16(ip + 6, 0x4000);
    store_u8(ip + 8, 64);
    store_u8(ip + 9, proto);
    store_be32(ip + 12, src);
    store_be32(ip + 16, dst);
    store_be16(ip + 10, wire::internet_checksum(ByteSpan(ip, 20)));
}

// Builds an IPv4/TCP packet with `payload` zero bytes; partial: leave the checksum to the
// kernel (pseudo-header sum in the field, FrameMeta filled for it).
std::vector<std::byte> tcp_packet(const TcpFields& t, std::size_t payload, bool partial,
                                  FrameMeta& meta) {
    const std::size_t th = 20 + t.options.size();
    std::vector<std::byte> p(20 + th + payload);
    write_ipv4(p.data(), p.size(), 6, kUs, kHost);
    std::byte* tcp = p.data() + 20;
    store_be16(tcp, t.sport);
    store_be16(tcp + 2, t.dport);
    store_be32(tcp + 4, t.seq);
    store_be32(tcp + 8, t.ack);
    store_u8(tcp + 12, static_cast<std::uint8_t>((th / 4) << 4));
    store_u8(tcp + 13, t.flags);
    store_be16(tcp + 14, t.window);
    std::memcpy(tcp + 20, t.options.data(), t.options.size());
    const auto l4 = static_cast<std::uint32_t>(th + payload);
    const std::uint64_t pseudo =
        wire::pseudo_header_sum(wire::Ipv4Addr(kUs), wire::Ipv4Addr(kHost), 6, l4);
    meta = FrameMeta{};
    if (partial) {
        store_be16(tcp + 16, wire::checksum_fold(pseudo));
        meta.needs_csum = true;
        meta.csum_start = 20;
        meta.csum_offset = 16;
    } else {
        store_be16(tcp + 16, wire::internet_checksum(ByteSpan(tcp, l4), pseudo));
    }
    return p;
}

struct ParsedTcp {
    std::uint32_t seq, ack;
    std::uint8_t flags;
    std::uint32_t window;
    std::size_t payload;
    std::uint8_t wscale = 0;
    bool has_wscale = false;
};

std::optional<ParsedTcp> parse_tcp(ByteSpan f, std::uint16_t our_port) {
    if (f.size() < 40 || (load_u8(f.data()) >> 4) != 4 || load_u8(f.data() + 9) != 6)
        return std::nullopt;
    const std::size_t ihl = (load_u8(f.data()) & 0xf) * 4u;
    const std::size_t total = std::min<std::size_t>(load_be16(f.data() + 2), f.size());
    const std::byte* t = f.data() + ihl;
    if (load_be16(t + 2) != our_port) return std::nullopt;
    const std::size_t doff = (load_u8(t + 12) >> 4) * 4u;
    ParsedTcp p{load_be32(t + 4), load_be32(t + 8), load_u8(t + 13), load_be16(t + 14),
                total - ihl - doff};
    for (std::size_t i = 20; i + 1 < doff;) {
        const std::uint8_t kind = load_u8(t + i);
        if (kind == 0) break;
        if (kind == 1) {
            ++i;
            continue;
        }
        const std::uint8_t len = load_u8(t + i + 1);
        if (len < 2) break;
        if (kind == 3 && len == 3) {
            p.wscale = load_u8(t + i + 2);
            p.has_wscale = true;
        }
        i += len;
    }
    return p;
}

bool wait_fd(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) == 1;
}

// Asks for CUBIC on a kernel TCP socket (BBR, the default here, is much slower on these VMs);
// keeps the default where the host does not allow it. Returns the algorithm in use.
std::string use_cubic(int fd) {
    const char want[] = "cubic";
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, want, sizeof want - 1);
    char name[16] = {};
    socklen_t len = sizeof name;
    ::getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len);
    return std::string(name, ::strnlen(name, sizeof name));
}

// ---- the cases ---------------------------------------------------------------------------

// kernel -> us over UDP: a thread sends datagrams of `ip_size` bytes at 10.99.0.2.
Outcome run_in_udp(TunDevice& dev, std::size_t ip_size) {
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> sent{0};
    std::thread sender([&] {
        int s = ::socket(AF_INET, SOCK_DGRAM, 0);
        const auto to = sockaddr_of(kUs, 9);
        ::connect(s, reinterpret_cast<const sockaddr*>(&to), sizeof to);
        std::vector<char> payload(ip_size - 28, 'x');
        while (!stop.load(std::memory_order_relaxed))
            if (::send(s, payload.data(), payload.size(), 0) > 0) sent.fetch_add(1);
        ::close(s);
    });
    Outcome o;
    o.ran = true;
    std::vector<std::byte> buf(dev.caps().max_frame);
    FrameMeta meta;
    const auto start = Clock::now();
    const auto end = start + kCaseTime;
    while (Clock::now() < end) {
        auto n = dev.receive(buf, meta, 0ns);
        if (!n) {
            o.note = n.error().what;
            break;
        }
        if (*n == 0) {
            wait_fd(dev.fd(), 5);
            continue;
        }
        if (*n >= 28 && load_u8(buf.data() + 9) == 17) {
            ++o.frames;
            o.bytes += *n;
        }
    }
    o.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    stop = true;
    sender.join();
    o.delivered_bytes = o.bytes;
    o.note = "kernel sent " + std::to_string(sent.load()) + " datagrams";
    return o;
}

// us -> kernel over UDP: we write datagrams of `ip_size` bytes to a socket on 10.99.0.1.
Outcome run_out_udp(TunDevice& dev, std::size_t ip_size, bool partial) {
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> got_bytes{0}, got_dgrams{0};
    int rs = ::socket(AF_INET, SOCK_DGRAM, 0);
    const auto at = sockaddr_of(kHost, 5000);
    ::bind(rs, reinterpret_cast<const sockaddr*>(&at), sizeof at);
    int rcvbuf = 8 << 20;
    ::setsockopt(rs, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
    timeval tv{0, 100'000};
    ::setsockopt(rs, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::thread receiver([&] {
        std::vector<char> buf(70000);
        while (!stop.load(std::memory_order_relaxed)) {
            const ssize_t n = ::recv(rs, buf.data(), buf.size(), 0);
            if (n > 0) {
                got_bytes.fetch_add(static_cast<std::uint64_t>(n));
                got_dgrams.fetch_add(1);
            }
        }
    });

    std::vector<std::byte> pkt(ip_size);
    write_ipv4(pkt.data(), ip_size, 17, kUs, kHost);
    std::byte* udp = pkt.data() + 20;
    const auto l4 = static_cast<std::uint16_t>(ip_size - 20);
    store_be16(udp, 6000);
    store_be16(udp + 2, 5000);
    store_be16(udp + 4, l4);
    const std::uint64_t pseudo =
        wire::pseudo_header_sum(wire::Ipv4Addr(kUs), wire::Ipv4Addr(kHost), 17, l4);
    FrameMeta meta;
    if (partial) {
        store_be16(udp + 6, wire::checksum_fold(pseudo));
        meta.needs_csum = true;
        meta.csum_start = 20;
        meta.csum_offset = 6;
    } else {
        std::uint16_t c = wire::internet_checksum(ByteSpan(udp, l4), pseudo);
        store_be16(udp + 6, c == 0 ? 0xffff : c);
    }

    Outcome o;
    o.ran = true;
    const auto start = Clock::now();
    const auto end = start + kCaseTime;
    const DeviceCounters before = dev.counters();
    while (Clock::now() < end) {
        for (int i = 0; i < 64; ++i) {
            if (auto r = dev.send(pkt, meta, 0ns); !r) {
                o.note = r.error().what;
                break;
            }
        }
    }
    o.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const DeviceCounters after = dev.counters();
    o.frames = after.tx_frames - before.tx_frames;
    o.bytes = after.tx_bytes - before.tx_bytes;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stop = true;
    receiver.join();
    ::close(rs);
    o.delivered_bytes = got_bytes.load() + got_dgrams.load() * 28;
    if (o.note.empty())
        o.note = "kernel socket got " + std::to_string(got_dgrams.load()) + " datagrams";
    return o;
}

std::vector<std::uint8_t> syn_options() {
    return {2, 4, 0x05, 0xb4, 1, 3, 3, 7};
}

// kernel -> us over TCP: the kernel connects to 10.99.0.2:5001 and sends as fast as it can; we
// ACK every in-order byte at once with a 8 MiB window.
Outcome run_in_tcp(TunDevice& dev) {
    std::string cc;
    std::atomic<bool> stop{false};
    std::atomic<int> client_fd{-1};
    std::thread client([&] {
        int s = ::socket(AF_INET, SOCK_STREAM, 0);
        cc = use_cubic(s);
        client_fd = s;
        const auto to = sockaddr_of(kUs, 5001);
        if (::connect(s, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) return;
        std::vector<char> data(1 << 20, 'y');
        while (!stop.load(std::memory_order_relaxed))
            if (::send(s, data.data(), data.size(), MSG_NOSIGNAL) <= 0) break;
    });
    Outcome o;
    o.ran = true;
    std::vector<std::byte> buf(dev.caps().max_frame);
    FrameMeta meta, ack_meta;
    std::uint32_t rcv_nxt = 0;
    const std::uint32_t iss = 1000;
    bool established = false;
    std::uint64_t super = 0;
    auto start = Clock::now();
    auto end = start + kCaseTime + std::chrono::milliseconds(500);  // handshake grace
    while (Clock::now() < end) {
        auto n = dev.receive(buf, meta, 0ns);
        if (!n) break;
        if (*n == 0) {
            wait_fd(dev.fd(), 5);
            continue;
        }
        auto t = parse_tcp(ByteSpan(buf.data(), *n), 5001);
        if (!t) continue;
        if (t->flags & kSyn) {
            rcv_nxt = t->seq + 1;
            TcpFields f{5001, 0, iss, rcv_nxt, kSyn | kAck, 65535, syn_options()};
            f.dport = load_be16(buf.data() + 20);
            auto p = tcp_packet(f, 0, false, ack_meta);
            (void)dev.send(p, ack_meta, 0ns);
            continue;
        }
        if (!established && (t->flags & kAck)) {
            established = true;
            start = Clock::now();
            end = start + kCaseTime;
        }
        if (t->payload == 0) continue;
        if (t->seq == rcv_nxt) {
            rcv_nxt += static_cast<std::uint32_t>(t->payload);
            ++o.frames;
            o.bytes += *n;
            o.delivered_bytes += t->payload;
            if (meta.gso != FrameMeta::Gso::kNone) ++super;
        }
        TcpFields f{5001, load_be16(buf.data() + 20), iss + 1, rcv_nxt, kAck, 65535, {}};
        auto p = tcp_packet(f, 0, false, ack_meta);
        (void)dev.send(p, ack_meta, 0ns);
    }
    o.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    stop = true;
    if (client_fd >= 0) ::shutdown(client_fd, SHUT_RDWR);
    client.join();
    ::close(client_fd);
    if (!established)
        o.note = "TCP handshake did not complete";
    else
        o.note = std::to_string(super) + " GSO super-packets, kernel cc " + cc;
    return o;
}

// us -> kernel over TCP: a minimal sender writes 64 KiB super-segments (GSO TCPv4, partial
// checksum) to a kernel socket listening on 10.99.0.1:5001, within the window it advertises;
// when ACKs stop advancing (a segment was dropped) it goes back to the first unacked byte.
Outcome run_out_tcp(TunDevice& dev) {
    std::string cc;
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> got{0};
    int ls = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const auto at = sockaddr_of(kHost, 5001);
    ::bind(ls, reinterpret_cast<const sockaddr*>(&at), sizeof at);
    ::listen(ls, 1);
    std::thread server([&] {
        int c = ::accept(ls, nullptr, nullptr);
        if (c < 0) return;
        cc = use_cubic(c);
        timeval tv{0, 100'000};
        ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::vector<char> buf(1 << 20);
        while (!stop.load(std::memory_order_relaxed)) {
            const ssize_t n = ::recv(c, buf.data(), buf.size(), 0);
            if (n > 0) got.fetch_add(static_cast<std::uint64_t>(n));
            if (n == 0) break;
        }
        ::close(c);
    });

    Outcome o;
    o.ran = true;
    std::vector<std::byte> buf(dev.caps().max_frame);
    FrameMeta meta;
    const std::uint32_t iss = 7777;
    const std::uint16_t sport = 40000;
    TcpFields syn{sport, 5001, iss, 0, kSyn, 65535, syn_options()};
    (void)dev.send(tcp_packet(syn, 0, false, meta), meta, 0ns);
    std::optional<ParsedTcp> synack;
    const auto hs_end = Clock::now() + std::chrono::seconds(2);
    while (!synack && Clock::now() < hs_end) {
        auto n = dev.receive(buf, meta, 0ns);
        if (!n) break;
        if (*n == 0) {
            wait_fd(dev.fd(), 5);
            continue;
        }
        auto t = parse_tcp(ByteSpan(buf.data(), *n), sport);
        if (t && (t->flags & (kSyn | kAck)) == (kSyn | kAck)) synack = t;
    }
    if (!synack) {
        stop = true;
        ::shutdown(ls, SHUT_RDWR);
        server.join();
        ::close(ls);
        o.note = "TCP handshake did not complete";
        return o;
    }
    const std::uint32_t irs = synack->seq;
    const std::uint8_t wscale = synack->has_wscale ? synack->wscale : 0;
    TcpFields ack{sport, 5001, iss + 1, irs + 1, kAck, 65535, {}};
    FrameMeta ack_meta;
    (void)dev.send(tcp_packet(ack, 0, false, ack_meta), ack_meta, 0ns);

    // One super-segment, reused: only its sequence number changes, and with a partial checksum
    // the field holds the pseudo-header sum, which does not cover it.
    constexpr std::uint16_t kMss = 1460;
    constexpr std::size_t kSegPayload = 44 * kMss;  // 64240 bytes
    FrameMeta gso;
    TcpFields data{sport, 5001, iss + 1, irs + 1, kAck, 65535, {}};
    auto seg = tcp_packet(data, kSegPayload, true, gso);
    gso.gso = FrameMeta::Gso::kTcpV4;
    gso.gso_size = kMss;
    gso.hdr_len = 40;

    std::uint32_t snd_una = iss + 1, snd_nxt = iss + 1;
    std::uint64_t window = synack->window;  // not scaled in a SYN-ACK
    std::uint32_t last_ack = snd_una;
    int dupacks = 0;
    auto last_progress = Clock::now();
    std::uint64_t rewinds = 0;
    std::uint64_t acked = 0;  // sequence numbers wrap after 4 GiB; this does not
    const auto start = Clock::now();
    const auto end = start + kCaseTime;
    while (Clock::now() < end) {
        // Drain ACKs.
        for (;;) {
            auto n = dev.receive(buf, meta, 0ns);
            if (!n || *n == 0) break;
            auto t = parse_tcp(ByteSpan(buf.data(), *n), sport);
            if (!t || !(t->flags & kAck)) continue;
            window = std::uint64_t{t->window} << wscale;
            if (static_cast<std::int32_t>(t->ack - snd_una) > 0) {
                acked += t->ack - snd_una;
                snd_una = t->ack;
                dupacks = 0;
                last_progress = Clock::now();
            } else if (t->ack == last_ack && t->payload == 0) {
                ++dupacks;
            }
            last_ack = t->ack;
        }
        if (dupacks >= 3 || Clock::now() - last_progress > std::chrono::milliseconds(20)) {
            snd_nxt = snd_una;  // go back to the first unacknowledged byte
            dupacks = 0;
            last_progress = Clock::now();
            ++rewinds;
        }
        const std::uint64_t in_flight = snd_nxt - snd_una;
        if (in_flight + kSegPayload <= std::max<std::uint64_t>(window, kSegPayload)) {
            store_be32(seg.data() + 24, snd_nxt);
            if (auto r = dev.send(seg, gso, 0ns); !r) {
                o.note = r.error().what;
                break;
            }
            snd_nxt += kSegPayload;
            ++o.frames;
            o.bytes += seg.size();
        } else {
            wait_fd(dev.fd(), 1);
        }
    }
    o.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    o.delivered_bytes = acked;
    stop = true;
    TcpFields rst{sport, 5001, snd_nxt, irs + 1, kRst | kAck, 0, {}};
    (void)dev.send(tcp_packet(rst, 0, false, meta), meta, 0ns);
    server.join();
    ::close(ls);
    o.note = "kernel read " + std::to_string(got.load() >> 20) + " MiB, " +
             std::to_string(rewinds) + " go-backs (receiver: its window only, cc unused)";
    return o;
}

std::string read_line(const char* path) {
    std::ifstream in(path);
    std::string s;
    std::getline(in, s);
    return s;
}

Outcome run_case(const Case& c, std::string& cc) {
    Outcome o;
    auto ns = NetnsScope::enter_new();
    if (!ns) {
        o.note = ns.error().what;
        return o;
    }
    cc = read_line("/proc/sys/net/ipv4/tcp_congestion_control");
    TunOptions opt;
    opt.name = "ubench0";
    opt.vnet_offload = c.offload;
    if (c.big && !c.offload) opt.mtu = 65535;
    auto dev = TunDevice::open(opt);
    if (!dev) {
        o.note = dev.error().what;
        return o;
    }
    if (auto r = (*dev)->set_ipv4(kHost, 24); !r) {
        o.note = r.error().what;
        return o;
    }
    if (auto r = (*dev)->set_up(); !r) {
        o.note = r.error().what;
        return o;
    }
    const std::size_t size = c.big ? 65535 : 1500;
    if (c.dir == Dir::kIn) return c.big && c.offload ? run_in_tcp(**dev) : run_in_udp(**dev, size);
    return c.big && c.offload ? run_out_tcp(**dev) : run_out_udp(**dev, size, c.offload);
}

}  // namespace

int main() {
    if (::access("/dev/net/tun", F_OK) != 0) {
        std::printf("bench_tun: skipped: no /dev/net/tun on this host\n");
        return 0;
    }
    {
        auto probe = NetnsScope::enter_new();
        if (!probe) {
            std::printf("bench_tun: skipped: %s\n", probe.error().what.c_str());
            return 0;
        }
        TunOptions o;
        o.name = "uprobe0";
        if (auto d = TunDevice::open(o); !d) {
            std::printf("bench_tun: skipped: %s\n", d.error().what.c_str());
            return 0;
        }
    }
    const Case cases[] = {
        {Dir::kIn, false, false}, {Dir::kIn, false, true},   {Dir::kIn, true, false},
        {Dir::kIn, true, true},   {Dir::kOut, false, false}, {Dir::kOut, false, true},
        {Dir::kOut, true, false}, {Dir::kOut, true, true},
    };
    std::printf("TUN device throughput, one case per fresh network namespace, %.1f s each\n",
                std::chrono::duration<double>(kCaseTime).count());
    std::printf(
        "Gbit/s counts IP bytes crossing the device; 'delivered' counts what the kernel "
        "socket (or our TCP receiver) got\n\n");
    std::printf("%-13s %-8s %-8s %-4s %12s %9s %10s %10s  %s\n", "direction", "offload", "frame",
                "l4", "frames/s", "Gbit/s", "avg frame", "delivered", "note");
    std::string cc;
    for (const Case& c : cases) {
        const Outcome o = run_case(c, cc);
        const char* dir = c.dir == Dir::kIn ? "kernel->us" : "us->kernel";
        const char* l4 = c.big && c.offload ? "tcp" : "udp";
        const char* frame = c.big ? (c.offload ? "64K/gso" : "64K") : "1500";
        if (!o.ran || o.seconds <= 0) {
            std::printf("%-13s %-8s %-8s %-4s %12s  failed: %s\n", dir, c.offload ? "vnet" : "none",
                        frame, l4, "-", o.note.c_str());
            continue;
        }
        const double fps = static_cast<double>(o.frames) / o.seconds;
        const double gbps = static_cast<double>(o.bytes) * 8 / o.seconds / 1e9;
        const double dgbps = static_cast<double>(o.delivered_bytes) * 8 / o.seconds / 1e9;
        const double avg =
            o.frames ? static_cast<double>(o.bytes) / static_cast<double>(o.frames) : 0.0;
        std::printf("%-13s %-8s %-8s %-4s %12.0f %9.2f %10.0f %9.2fG  %s\n", dir,
                    c.offload ? "vnet" : "none", frame, l4, fps, gbps, avg, dgbps, o.note.c_str());
        std::fflush(stdout);
    }
    std::printf("\ndefault kernel TCP congestion control in the namespaces: %s\n", cc.c_str());
    return 0;
}
