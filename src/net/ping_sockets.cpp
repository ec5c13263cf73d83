#include "net/ping_sockets.hpp"

#include "stack/stack.hpp"

namespace ustack::net {

void PingSockets::open(Id id) {
    // Pick an identifier no other ping socket of this stack uses.
    for (int i = 0; i < 65536 && by_ident_.count(next_ident_); ++i)
        ++next_ident_;
    Socket s;
    s.ident = next_ident_++;
    by_ident_[s.ident] = id;
    sockets_.emplace(id, std::move(s));
}

Result<void, std::errc> PingSockets::send(Id id, wire::Ipv4Addr dst, std::uint16_t seq,
                                          ByteSpan payload, Instant now) {
    auto it = sockets_.find(id);
    if (it == sockets_.end()) return unexpected(std::errc::bad_file_descriptor);
    return ip_.send_echo_request(dst, it->second.ident, seq, payload, now);
}

Result<EchoReply, std::errc> PingSockets::recv(Id id) {
    auto it = sockets_.find(id);
    if (it == sockets_.end()) return unexpected(std::errc::bad_file_descriptor);
    auto& q = it->second.replies;
    if (q.empty()) return unexpected(std::errc::resource_unavailable_try_again);
    EchoReply r = std::move(q.front());
    q.pop_front();
    return r;
}

void PingSockets::close(Id id) {
    auto it = sockets_.find(id);
    if (it == sockets_.end()) return;
    by_ident_.erase(it->second.ident);
    sockets_.erase(it);
}

void PingSockets::on_echo_reply(wire::Ipv4Addr from, std::uint8_t ttl, std::uint16_t ident,
                                std::uint16_t seq, ByteSpan payload, Instant /*now*/) {
    auto b = by_ident_.find(ident);
    if (b == by_ident_.end()) return;
    Socket& s = sockets_.at(b->second);
    if (s.replies.size() >= queue_limit_) {
        ++dropped_;
        return;
    }
    const bool was_empty = s.replies.empty();
    s.replies.push_back(EchoReply{from, seq, ttl, {payload.begin(), payload.end()}});
    if (was_empty && ready_fn_) ready_fn_(ready_ctx_, b->second, events::kReadable);
}

}  // namespace ustack::net
