// A packetdrill-like harness: one stack on a fake IP link, driven with exact segments in
// virtual time; every segment the stack sends is checked field by field.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "stack/stack.hpp"
#include "support/fake_device.hpp"
#include "support/packets.hpp"
#include "wire/tcp.hpp"

namespace ustack::testing {

inline constexpr std::uint8_t F = wire::tcp_flags::kFin;
inline constexpr std::uint8_t S = wire::tcp_flags::kSyn;
inline constexpr std::uint8_t R = wire::tcp_flags::kRst;
inline constexpr std::uint8_t P = wire::tcp_flags::kPsh;
inline constexpr std::uint8_t A = wire::tcp_flags::kAck;

struct Seg {
    std::uint8_t flags = 0;
    std::uint32_t seq = 0, ack = 0;
    std::uint16_t win = 0;
    wire::TcpOptions opts;
    std::vector<std::byte> data;
    std::uint16_t sport = 0, dport = 0;
    std::string str() const {
        std::string f;
        if (flags & S) f += "S";
        if (flags & F) f += "F";
        if (flags & R) f += "R";
        if (flags & P) f += "P";
        if (flags & A) f += ".";
        return f + " seq " + std::to_string(seq) + " ack " + std::to_string(ack) + " win " +
               std::to_string(win) + " len " + std::to_string(data.size());
    }
};

struct TcpHarness : ::testing::Test {
    const wire::Ipv4Addr us{192, 168, 0, 1};
    const wire::Ipv4Addr peer{192, 0, 2, 1};
    FakeDevice dev{phy::LinkType::kIp, 1500};
    StackConfig cfg;
    std::unique_ptr<Stack> stack;
    Instant now = std::chrono::seconds(1000);
    std::uint16_t peer_port = 40000;
    std::uint16_t our_port = 8080;

    void SetUp() override { start(); }
    void start() {
        stack = std::make_unique<Stack>(cfg);
        stack->add_interface(dev, InterfaceConfig{{us, 24}, {}, {}});
        stack->set_default_gateway(wire::Ipv4Addr{192, 168, 0, 254}, 0);
        stack->poll(now);
    }

    void advance(Duration d) {
        // Runs every timer that falls due on the way, in order.
        const Instant end = now + d;
        while (true) {
            Instant next = stack->next_deadline();
            if (next > end) break;
            now = std::max(now, next);
            stack->poll(now);
        }
        now = end;
        stack->poll(now);
    }

    void inject(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack, std::uint16_t win,
                std::vector<std::byte> data = {}, wire::TcpOptions opts = {},
                phy::FrameMeta meta = {}) {
        stack->on_frame(0, frame(flags, seq, ack, win, data, opts), meta, now);
    }

    // Queues a segment on the device: the next poll() receives what is queued as one batch.
    void queue(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack, std::uint16_t win,
               std::vector<std::byte> data = {}, wire::TcpOptions opts = {}) {
        dev.inbox.push_back(frame(flags, seq, ack, win, data, opts));
    }

    // The IP packet of a segment from the peer.
    std::vector<std::byte> frame(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack,
                                 std::uint16_t win, const std::vector<std::byte>& data,
                                 const wire::TcpOptions& opts) {
        wire::TcpHeader h;
        h.src_port = peer_port;
        h.dst_port = our_port;
        h.seq = seq;
        h.ack = ack;
        h.flags = flags;
        h.window = win;
        std::size_t hl = 20 + wire::tcp_options_size(opts);
        std::vector<std::byte> t(hl + data.size());
        if (!data.empty()) std::memcpy(t.data() + hl, data.data(), data.size());
        wire::write_tcp(t, h, opts, data.size(), peer, us);
        return ipv4_packet(ip_header(peer, us, wire::kIpProtoTcp), t);
    }

    std::vector<Seg> sent() {
        std::vector<Seg> out;
        for (auto& f : dev.take_sent()) {
            auto ip = wire::parse_ipv4(f);
            EXPECT_TRUE(ip);
            if (!ip || ip->header.protocol != wire::kIpProtoTcp) continue;
            auto t = wire::parse_tcp(ip->payload, ip->header.src, ip->header.dst);
            EXPECT_TRUE(t) << "stack sent a TCP segment that does not parse";
            if (!t) continue;
            Seg s;
            s.flags = t->header.flags;
            s.seq = t->header.seq;
            s.ack = t->header.ack;
            s.win = t->header.window;
            s.opts = t->options;
            s.data.assign(t->payload.begin(), t->payload.end());
            s.sport = t->header.src_port;
            s.dport = t->header.dst_port;
            out.push_back(std::move(s));
        }
        return out;
    }

    // Exactly one segment must have been sent; returns it.
    Seg one() {
        auto v = sent();
        EXPECT_EQ(v.size(), 1u) << describe(v);
        return v.empty() ? Seg{} : v.front();
    }

    void nothing() {
        auto v = sent();
        EXPECT_TRUE(v.empty()) << describe(v);
    }

    static std::string describe(const std::vector<Seg>& v) {
        std::string s = std::to_string(v.size()) + " segments:";
        for (const auto& x : v)
            s += "\n  " + x.str();
        return s;
    }

    static wire::TcpOptions syn_opts(std::uint16_t mss = 1460, std::optional<std::uint8_t> ws = 7,
                                     bool sack = true, std::optional<std::uint32_t> tsval = {}) {
        wire::TcpOptions o;
        o.mss = mss;
        o.window_scale = ws;
        o.sack_permitted = sack;
        if (tsval) o.timestamps = wire::TcpTimestamps{*tsval, 0};
        return o;
    }

    // Passive open without timestamps/SACK/WS to keep sequence arithmetic plain. Returns the
    // accepted socket; our ISS in *iss. handshake_rtt: time between SYN-ACK and ACK (the first
    // RTT sample).
    SocketId established_passive(std::uint32_t peer_isn, std::uint32_t* iss,
                                 wire::TcpOptions opts = syn_opts(1460, std::nullopt, false),
                                 Duration handshake_rtt = {}) {
        auto l = stack->tcp_listen(Endpoint{{}, our_port}, 16);
        EXPECT_TRUE(l);
        listener = *l;
        inject(S, peer_isn, 0, 65535, {}, opts);
        Seg synack = one();
        EXPECT_EQ(synack.flags, S | A);
        EXPECT_EQ(synack.ack, peer_isn + 1);
        *iss = synack.seq;
        if (handshake_rtt > Duration{0}) advance(handshake_rtt);
        inject(A, peer_isn + 1, synack.seq + 1, 65535);
        nothing();
        auto c = stack->tcp_accept(listener);
        EXPECT_TRUE(c);
        return c ? *c : 0;
    }

    SocketId listener = 0;
};

// With one connection passively opened (peer ISN 5000): the socket `c`, our ISS in `iss`.
struct ConnectedHarness : TcpHarness {
    std::uint32_t iss = 0;
    SocketId c = 0;
    void open(wire::TcpOptions o = syn_opts(1460, std::nullopt, false),
              Duration handshake_rtt = {}) {
        c = established_passive(5000, &iss, o, handshake_rtt);
    }
};

inline std::vector<std::byte> bytes(std::string_view s) {
    std::vector<std::byte> v(s.size());
    std::memcpy(v.data(), s.data(), s.size());
    return v;
}

}  // namespace ustack::testing
