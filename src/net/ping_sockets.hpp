// ICMP echo sockets, like Linux's unprivileged ping sockets: each socket owns an echo
// identifier, sends requests and receives the replies that carry its identifier.
#pragma once

#include <cstdint>
#include <deque>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"
#include "net/ip_layer.hpp"

namespace ustack::net {

struct EchoReply {
    wire::Ipv4Addr from;
    std::uint16_t seq = 0;
    std::uint8_t ttl = 0;
    std::vector<std::byte> payload;
};

class PingSockets : public EchoReplyHandler {
  public:
    using Id = std::uint32_t;
    using ReadyFn = void (*)(void* ctx, Id id, std::uint32_t events);

    PingSockets(IpLayer& ip, std::size_t queue_limit, std::uint64_t seed)
        : ip_(ip), queue_limit_(queue_limit), next_ident_(static_cast<std::uint16_t>(seed)) {}

    void set_ready_callback(ReadyFn fn, void* ctx) {
        ready_fn_ = fn;
        ready_ctx_ = ctx;
    }
    void open(Id id);
    bool exists(Id id) const { return sockets_.count(id) != 0; }
    Result<void, std::errc> send(Id id, wire::Ipv4Addr dst, std::uint16_t seq, ByteSpan payload,
                                 Instant now);
    Result<EchoReply, std::errc> recv(Id id);
    void close(Id id);
    std::uint64_t dropped() const { return dropped_; }

    void on_echo_reply(wire::Ipv4Addr from, std::uint8_t ttl, std::uint16_t ident,
                       std::uint16_t seq, ByteSpan payload, Instant now) override;

  private:
    struct Socket {
        std::uint16_t ident = 0;
        std::deque<EchoReply> replies;
    };
    IpLayer& ip_;
    std::size_t queue_limit_;
    std::uint16_t next_ident_;
    std::unordered_map<Id, Socket> sockets_;
    std::unordered_map<std::uint16_t, Id> by_ident_;
    std::uint64_t dropped_ = 0;
    ReadyFn ready_fn_ = nullptr;
    void* ready_ctx_ = nullptr;
};

}  // namespace ustack::net
