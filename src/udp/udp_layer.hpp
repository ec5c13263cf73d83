// UDP sockets (RFC 768, RFC 1122 4.1): bind, connect, sendto, recvfrom, bounded receive queues,
// ICMP errors reported to connected sockets the way Linux does.
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "net/ip_layer.hpp"
#include "net/transport.hpp"
#include "stack/config.hpp"
#include "stack/counters.hpp"
#include "wire/addr.hpp"

namespace ustack::udp {

struct UdpEndpoint {
    wire::Ipv4Addr addr;
    std::uint16_t port = 0;
};

struct UdpRecvInfo {
    std::size_t size = 0;
    std::size_t full_size = 0;
    UdpEndpoint from;
};

class UdpLayer : public net::Transport {
  public:
    using Id = std::uint32_t;
    using ReadyFn = void (*)(void* ctx, Id id, std::uint32_t events);

    UdpLayer(const StackConfig& cfg, UdpCounters& counters, net::IpLayer& ip, std::uint64_t seed);

    void set_ready_callback(ReadyFn fn, void* ctx) {
        ready_fn_ = fn;
        ready_ctx_ = ctx;
    }

    Result<void, std::errc> open(Id id);
    Result<void, std::errc> bind(Id id, UdpEndpoint local);
    Result<void, std::errc> connect(Id id, UdpEndpoint remote);
    Result<std::size_t, std::errc> sendto(Id id, ByteSpan data, const UdpEndpoint* to, Instant now);
    // peek: MSG_PEEK (the datagram stays queued; a pending error is still reported once).
    Result<UdpRecvInfo, std::errc> recvfrom(Id id, MutableByteSpan buf, bool peek = false);
    Result<UdpEndpoint, std::errc> local(Id id) const;
    Result<UdpEndpoint, std::errc> peer(Id id) const;  // ENOTCONN unless connected
    // connect(AF_UNSPEC): forgets the peer; an address bound only by connect is released too.
    Result<void, std::errc> disconnect(Id id);
    std::size_t next_size(Id id) const;  // FIONREAD: the first queued datagram's size, or 0
    std::uint32_t poll(Id id) const;
    void close(Id id);
    bool exists(Id id) const { return sockets_.count(id) != 0; }

    void on_datagram(const net::IpRx& rx, ByteSpan l4, Instant now) override;
    void on_icmp_error(const net::IcmpErrorRx& err, Instant now) override;

  private:
    struct Datagram {
        UdpEndpoint from;
        std::vector<std::byte> data;
    };
    struct Socket {
        Id id = 0;
        UdpEndpoint local;
        bool bound = false;
        bool port_locked = false;  // bound to a port the user named (Linux SOCK_BINDPORT_LOCK)
        bool connected = false;
        UdpEndpoint remote;
        std::deque<Datagram> queue;
        std::size_t queued_bytes = 0;
        std::errc pending_error{};
    };

    Socket* find(Id id);
    const Socket* find(Id id) const;
    bool port_conflict(const UdpEndpoint& local, Id except) const;
    Result<std::uint16_t, std::errc> pick_ephemeral(wire::Ipv4Addr addr);
    Socket* lookup(wire::Ipv4Addr src, std::uint16_t sport, wire::Ipv4Addr dst,
                   std::uint16_t dport);
    void notify(Id id, std::uint32_t ev) {
        if (ready_fn_) ready_fn_(ready_ctx_, id, ev);
    }

    const StackConfig& cfg_;
    UdpCounters& counters_;
    net::IpLayer& ip_;
    std::unordered_map<Id, Socket> sockets_;
    std::unordered_map<std::uint16_t, std::vector<Id>> by_port_;
    std::mt19937_64 rng_;
    ReadyFn ready_fn_ = nullptr;
    void* ready_ctx_ = nullptr;
};

}  // namespace ustack::udp
