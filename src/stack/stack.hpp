// Stack: one instance of the protocol engine. It owns interfaces, routes, the ARP cache,
// reassembly and sockets, and is driven by poll(now): it never reads a clock or blocks.
// Socket calls act at the time handed to the last poll(): call poll() once before the first.
// One thread per instance; nothing here is thread-safe.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <system_error>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "phy/device.hpp"
#include "stack/config.hpp"
#include "stack/counters.hpp"
#include "tcp/tcp_info.hpp"
#include "wire/addr.hpp"

namespace ustack {

using InterfaceId = std::uint32_t;
using SocketId = std::uint32_t;

template <class T>
using SockResult = Result<T, std::errc>;  // errors with Linux errno meanings

struct Endpoint {
    wire::Ipv4Addr addr;
    std::uint16_t port = 0;
    friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

struct InterfaceConfig {
    wire::Ipv4Cidr addr;               // the stack's address and on-link prefix
    std::optional<wire::MacAddr> mac;  // L2 only; default: locally administered, from seed
    std::optional<std::uint32_t> mtu;  // default: the device's
};

// Readiness, as bits (like EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP).
namespace events {
inline constexpr std::uint32_t kReadable = 0x1;
inline constexpr std::uint32_t kWritable = 0x4;
inline constexpr std::uint32_t kError = 0x8;
inline constexpr std::uint32_t kHangup = 0x10;
inline constexpr std::uint32_t kReadHangup = 0x2000;  // the peer's FIN has arrived (EPOLLRDHUP)
}  // namespace events

struct SocketEvent {
    SocketId socket = 0;
    std::uint32_t events = 0;
};

struct UdpReceived {
    std::size_t size = 0;       // bytes copied into the caller's buffer
    std::size_t full_size = 0;  // datagram size (> size when truncated)
    Endpoint from;
};

struct PingReply {
    wire::Ipv4Addr from;
    std::uint16_t seq = 0;
    std::uint8_t ttl = 0;
    std::size_t size = 0;  // payload bytes copied into the caller's buffer
};

class Stack {
  public:
    explicit Stack(StackConfig config = {});
    ~Stack();
    Stack(const Stack&) = delete;
    Stack& operator=(const Stack&) = delete;

    // --- set-up -------------------------------------------------------------------------------
    // The device must outlive the stack. Adds the connected route for cfg.addr's prefix.
    InterfaceId add_interface(phy::Device& device, InterfaceConfig cfg);
    // A route to dest via gateway (nullopt: on-link) out of ifc. Longest prefix wins.
    void add_route(wire::Ipv4Cidr dest, std::optional<wire::Ipv4Addr> gateway, InterfaceId ifc);
    void set_default_gateway(wire::Ipv4Addr gateway, InterfaceId ifc);
    wire::MacAddr interface_mac(InterfaceId ifc) const;
    std::size_t interface_count() const;
    phy::Device& interface_device(InterfaceId ifc);

    // --- driving ------------------------------------------------------------------------------
    // Reads what the devices have (bounded per device), processes it, runs due timers.
    void poll(Instant now);
    // Processes one frame as if it had arrived on ifc (poll() calls this; tests may too).
    void on_frame(InterfaceId ifc, ByteSpan frame, const phy::FrameMeta& meta, Instant now);
    // When poll() must next be called even if no device becomes readable.
    Instant next_deadline() const;
    Instant now() const;

    // Sockets whose readiness changed since the last call (appended to out), one entry per
    // socket with the events that happened merged.
    void take_events(std::vector<SocketEvent>& out);

    // --- UDP ----------------------------------------------------------------------------------
    SockResult<SocketId> udp_open();
    SockResult<void> udp_bind(SocketId s, Endpoint local);        // port 0: ephemeral
    SockResult<void> udp_connect(SocketId s, Endpoint remote);    // binds if unbound
    SockResult<std::size_t> udp_send(SocketId s, ByteSpan data);  // connected sockets
    SockResult<std::size_t> udp_sendto(SocketId s, ByteSpan data, Endpoint to);
    // EAGAIN when empty. A pending ICMP error (ECONNREFUSED on connected sockets) is returned
    // once, like Linux.
    // peek: MSG_PEEK, the datagram stays queued.
    SockResult<UdpReceived> udp_recvfrom(SocketId s, MutableByteSpan buf, bool peek = false);
    SockResult<Endpoint> udp_local(SocketId s) const;
    SockResult<Endpoint> udp_peer(SocketId s) const;  // ENOTCONN unless connected
    // connect(AF_UNSPEC): forgets the peer; a port not named by bind() is released.
    SockResult<void> udp_disconnect(SocketId s);
    std::size_t udp_next_size(SocketId s) const;  // FIONREAD: first datagram's size, or 0
    std::uint32_t udp_poll(SocketId s) const;     // current readiness bits
    void udp_close(SocketId s);

    // --- ICMP echo (like Linux ping sockets) ---------------------------------------------------
    SockResult<SocketId> ping_open();  // picks an echo identifier
    SockResult<void> ping_send(SocketId s, wire::Ipv4Addr dst, std::uint16_t seq, ByteSpan payload);
    SockResult<PingReply> ping_recv(SocketId s, MutableByteSpan payload_buf);  // EAGAIN if none
    void ping_close(SocketId s);

    // --- TCP ----------------------------------------------------------------------------------
    // Errors carry Linux errno meanings: EADDRINUSE, ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE,
    // EAGAIN (would block), ENOTCONN. Readiness comes as events (kReadable, kWritable: connect
    // completed or room to write, kError, kHangup).
    // reuse_address is SO_REUSEADDR: without it a port still held by a connection (one in
    // TIME-WAIT included) is EADDRINUSE, as on Linux.
    SockResult<SocketId> tcp_listen(Endpoint local, std::uint32_t backlog = 128,
                                    bool reuse_address = false);
    SockResult<SocketId> tcp_accept(SocketId listener, Endpoint* peer = nullptr);  // EAGAIN
    // What bind() would answer for local: the port (a free ephemeral one when local.port is 0),
    // or EADDRNOTAVAIL / EADDRINUSE by listen()'s rules. Reserves nothing.
    SockResult<std::uint16_t> tcp_check_bind(Endpoint local, bool reuse_address = false) const;
    // Non-blocking: returns the socket at once; kWritable (or kError) says how it ended.
    // user_mss: TCP_MAXSEG. fastopen: TCP Fast Open (RFC 7413; TCP_FASTOPEN_CONNECT): with a
    // cookie from an earlier connection to this peer the SYN waits for the first tcp_send(),
    // which it carries (tcp_fastopen_deferred() is true until then); without one, the SYN
    // asks for a cookie.
    SockResult<SocketId> tcp_connect(Endpoint remote, Endpoint local = {},
                                     std::uint16_t user_mss = 0, bool fastopen = false);
    bool tcp_fastopen_deferred(SocketId s) const;
    // Bytes taken; EAGAIN if none. more: MSG_MORE (a partial tail waits for more); eor: MSG_EOR
    // (no segment joins the end of this write to later data).
    SockResult<std::size_t> tcp_send(SocketId s, ByteSpan data, bool more = false,
                                     bool eor = false);
    // 0 means end of stream (the peer's FIN); EAGAIN when nothing is there yet.
    SockResult<std::size_t> tcp_recv(SocketId s, MutableByteSpan buf, bool peek = false);
    SockResult<void> tcp_shutdown(SocketId s, tcp::Shutdown how);
    void tcp_close(SocketId s);  // graceful; resets if unread data is left (RFC 1122 4.2.2.13)
    void tcp_abort(SocketId s);  // reset now
    std::uint32_t tcp_poll(SocketId s) const;
    SockResult<tcp::TcpInfo> tcp_info(SocketId s) const;
    SockResult<void> tcp_set_nodelay(SocketId s, bool on);  // on: also pushes held data
    SockResult<void> tcp_set_cork(SocketId s, bool on);     // TCP_CORK; off pushes held data
    // TCP_SYNCNT (0: the config's), TCP_USER_TIMEOUT (0: tcp_retries2 decides) and
    // TCP_NOTSENT_LOWAT (writable only while fewer bytes wait unsent; 0: none).
    SockResult<void> tcp_set_limits(SocketId s, std::uint32_t syn_retries, Duration user_timeout,
                                    std::uint32_t notsent_lowat);
    // TCP_MAXSEG on a connection or a listener (whose connections inherit it). 0: none.
    SockResult<void> tcp_set_maxseg(SocketId s, std::uint16_t mss);
    SockResult<void> tcp_set_keepalive(SocketId s, bool on, Duration idle, Duration interval,
                                       std::uint32_t probes);
    SockResult<void> tcp_set_linger(SocketId s, std::optional<Duration> linger);
    SockResult<void> tcp_set_buffers(SocketId s, std::size_t send, std::size_t recv);
    SockResult<std::errc> tcp_error(SocketId s);  // SO_ERROR: the pending error, cleared
    std::size_t tcp_connection_count() const;

    // --- observing ----------------------------------------------------------------------------
    const StackCounters& counters() const;
    // netstat -s style: "Ip:\n    InReceives: 12\n..." (counters that are zero included).
    void print_counters(std::ostream& os) const;
    const StackConfig& config() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ustack
