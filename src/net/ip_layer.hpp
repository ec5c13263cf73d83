// The IPv4 layer of one stack: interfaces, routing, ARP, input validation and demux,
// reassembly, fragmentation, ICMP (echo, errors, PMTU). It knows transports only through the
// Transport interface.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "net/arp_cache.hpp"
#include "net/reassembly.hpp"
#include "net/route.hpp"
#include "net/transport.hpp"
#include "phy/device.hpp"
#include "stack/config.hpp"
#include "stack/counters.hpp"
#include "wire/addr.hpp"
#include "wire/ipv4.hpp"

namespace ustack::net {

struct Interface {
    phy::Device* device = nullptr;
    phy::LinkType link = phy::LinkType::kIp;
    wire::Ipv4Cidr addr;
    wire::MacAddr mac;
    std::uint32_t mtu = 1500;
    std::vector<std::byte> rx_buf;
};

// Where a datagram to some destination goes.
struct RouteInfo {
    InterfaceIndex ifc = 0;
    wire::Ipv4Addr next_hop;
    wire::Ipv4Addr src;         // our address on that interface
    std::uint32_t mtu = 0;      // path MTU: interface MTU, lowered by ICMP frag-needed
    bool csum_offload = false;  // the device completes partial L4 checksums
    bool tso = false;           // the device splits TCP super-segments (and the path allows it)
};

// Offload requests for one datagram, with offsets counted from the start of the IP header.
struct TxOffload {
    std::uint16_t csum_start = 0;   // where the L4 checksum sum starts (the L4 header)
    std::uint16_t csum_offset = 0;  // the checksum field within the L4 header
    std::uint16_t gso_size = 0;     // TCP payload bytes per segment; 0: no segmentation
    std::uint16_t hdr_len = 0;      // IP + TCP headers
};

struct IpTx {
    wire::Ipv4Addr src;  // unspecified: the route's
    wire::Ipv4Addr dst;
    std::uint8_t protocol = 0;
    std::uint8_t ttl = 0;  // 0: the configured default
    std::uint8_t tos = 0;
    bool dont_fragment = false;
};

// Receives ICMP echo replies (for ping sockets).
class EchoReplyHandler {
  public:
    virtual ~EchoReplyHandler() = default;
    virtual void on_echo_reply(wire::Ipv4Addr from, std::uint8_t ttl, std::uint16_t id,
                               std::uint16_t seq, ByteSpan payload, Instant now) = 0;
};

class IpLayer {
  public:
    // Room in front of the L4 datagram in the transmit buffer: Ethernet + a 20-byte IP header.
    static constexpr std::size_t kL4Offset = 14 + wire::kIpv4MinHeaderLen;

    IpLayer(const StackConfig& cfg, StackCounters& counters, std::uint64_t seed);

    InterfaceIndex add_interface(phy::Device& dev, wire::Ipv4Cidr addr, wire::MacAddr mac,
                                 std::uint32_t mtu);
    Interface& interface(InterfaceIndex i) { return *ifaces_.at(i); }
    const Interface& interface(InterfaceIndex i) const { return *ifaces_.at(i); }
    std::size_t interface_count() const { return ifaces_.size(); }
    RouteTable& routes() { return routes_; }
    const ArpCache& arp() const { return arp_; }

    void set_transport(std::uint8_t protocol, Transport* t) { transports_[protocol] = t; }
    void set_echo_reply_handler(EchoReplyHandler* h) { echo_handler_ = h; }

    // --- input --------------------------------------------------------------------------------
    void on_frame(InterfaceIndex ifc, ByteSpan frame, const phy::FrameMeta& meta, Instant now);

    // --- output -------------------------------------------------------------------------------
    std::optional<RouteInfo> route(wire::Ipv4Addr dst) const;
    bool is_local_address(wire::Ipv4Addr a) const;
    bool is_broadcast_address(wire::Ipv4Addr a) const;
    // The buffer in which a transport writes its datagram (header + data) before output().
    MutableByteSpan l4_buffer() {
        l4_lent_ = nullptr;
        return {tx_buf_.data() + kL4Offset, tx_buf_.size() - kL4Offset};
    }
    // The same for a datagram of l4_len bytes that goes by `route`, written where the route's
    // device will send it from when the device lends its transmit buffer (no copy on send);
    // else l4_buffer(). output() must follow with that route before anything else is sent.
    MutableByteSpan l4_buffer(const RouteInfo& route, std::size_t l4_len);
    // Sends the l4_len bytes at l4_buffer() to tx.dst: IP header, route, ARP, fragmentation.
    // Errors: ENETUNREACH (no route), EMSGSIZE (DF and larger than the path MTU).
    // With `offload`, the L4 checksum is left partial for the device to finish and, when
    // gso_size is set, the datagram may exceed the MTU: the device segments it.
    // `route`, when given, is what route(tx.dst) returned a moment ago (saves the lookup).
    Result<void, std::errc> output(const IpTx& tx, std::size_t l4_len, Instant now,
                                   const TxOffload* offload = nullptr,
                                   const RouteInfo* route = nullptr);

    // RFC 1122 3.2.2: an ICMP error about `offending` (a whole datagram we received), unless the
    // rules forbid one (error about an error, broadcast, non-first fragment, odd source) or the
    // rate limit says no.
    void send_icmp_error(ByteSpan offending, std::uint8_t type, std::uint8_t code,
                         std::uint32_t rest, Instant now);
    Result<void, std::errc> send_echo_request(wire::Ipv4Addr dst, std::uint16_t id,
                                              std::uint16_t seq, ByteSpan payload, Instant now);

    // --- timers -------------------------------------------------------------------------------
    void on_timer(Instant now);
    Instant next_deadline() const;

    // Path MTU learned from ICMP frag-needed (RFC 1191), 0 if none.
    std::uint32_t path_mtu(wire::Ipv4Addr dst) const;

  private:
    void on_arp(InterfaceIndex ifc, ByteSpan data, Instant now);
    void on_ipv4(InterfaceIndex ifc, ByteSpan data, const phy::FrameMeta& meta, Instant now);
    void deliver(const wire::Ipv4Packet& pkt, ByteSpan raw, InterfaceIndex ifc,
                 bool l4_csum_trusted, Instant now, std::uint16_t gso_size = 0);
    void on_icmp(const IpRx& rx, ByteSpan data, Instant now);
    void on_icmp_error(const IpRx& rx, std::uint8_t type, std::uint8_t code, std::uint32_t rest,
                       ByteSpan quoted, Instant now);
    // Sends an IP packet (header included) that sits at frame_buf + link_room.
    void transmit(InterfaceIndex ifc, wire::Ipv4Addr next_hop, std::byte* ip_packet,
                  std::size_t len, Instant now, const TxOffload* offload = nullptr);
    void send_frame(InterfaceIndex ifc, ByteSpan frame, Instant now,
                    const phy::FrameMeta& meta = {});
    void send_arp(InterfaceIndex ifc, std::uint16_t op, wire::MacAddr dst_mac,
                  wire::MacAddr target_mac, wire::Ipv4Addr target_ip, Instant now);
    bool icmp_rate_allows(Instant now);
    std::uint16_t next_ip_id() { return ip_id_++; }

    const StackConfig& cfg_;
    StackCounters& counters_;
    std::vector<std::unique_ptr<Interface>> ifaces_;
    RouteTable routes_;
    ArpCache arp_;
    Reassembler reasm_;
    std::array<Transport*, 256> transports_{};
    EchoReplyHandler* echo_handler_ = nullptr;
    std::vector<std::byte> tx_buf_;    // [Ethernet][IP][L4]
    std::vector<std::byte> frag_buf_;  // one fragment or an ICMP message at a time
    // Where l4_buffer(route, len) put the datagram: the L4 header inside a buffer the device
    // of interface l4_lent_ifc_ lent; nullptr: at tx_buf_ + kL4Offset.
    std::byte* l4_lent_ = nullptr;
    InterfaceIndex l4_lent_ifc_ = 0;
    std::vector<ArpCache::Packet> ready_;  // scratch: packets released by ARP
    std::vector<std::byte> reasm_out_;     // the last reassembled datagram
    struct PmtuEntry {
        std::uint32_t mtu;
        Instant expires;
    };
    std::unordered_map<std::uint32_t, PmtuEntry> pmtu_;
    Instant now_{};
    std::uint16_t ip_id_ = 0;
    double icmp_tokens_ = 0;
    Instant icmp_last_{};
};

}  // namespace ustack::net
