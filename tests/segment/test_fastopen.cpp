// TCP Fast Open, client side (RFC 7413): the cookie request, the cookie cache, the deferred
// SYN that carries the first write, and the peer that takes only the SYN.
#include "segment/harness.hpp"

using namespace ustack;
using namespace ustack::testing;
using tcp::State;

namespace {

wire::FastOpenCookie cookie_of(std::initializer_list<unsigned> b) {
    wire::FastOpenCookie c;
    c.len = static_cast<std::uint8_t>(b.size());
    std::size_t i = 0;
    for (unsigned x : b)
        c.bytes[i++] = static_cast<std::byte>(x);
    return c;
}

}  // namespace

class FastOpen : public TcpHarness {
  protected:
    void SetUp() override {
        cfg.tcp.timestamps = false;  // plain sequence arithmetic and option sizes
        start();
        peer_port = 80;
    }

    // A connection that asks for a cookie and is given `given` (or none) in the SYN-ACK; it is
    // then reset so that the next connect starts afresh. Returns the SYN it sent.
    Seg learn(std::optional<wire::FastOpenCookie> given, std::uint16_t peer_mss = 1460) {
        auto c = stack->tcp_connect(Endpoint{peer, 80}, {}, 0, true);
        EXPECT_TRUE(c);
        EXPECT_FALSE(stack->tcp_fastopen_deferred(*c));
        Seg syn = one();
        our_port = syn.sport;
        wire::TcpOptions o = syn_opts(peer_mss, std::nullopt, false);
        o.fastopen = given;
        inject(S | A, 5000, syn.seq + 1, 65535, {}, o);
        Seg ack = one();
        EXPECT_EQ(ack.flags, A);
        stack->tcp_abort(*c);
        sent();  // the reset
        return syn;
    }

    // With a cookie cached: a Fast Open connect and a write of msg, whose SYN (with the data)
    // it returns; the socket in *c.
    Seg write_syn(SocketId* c, const std::vector<std::byte>& msg) {
        auto r = stack->tcp_connect(Endpoint{peer, 80}, {}, 0, true);
        EXPECT_TRUE(r);
        *c = r ? *r : 0;
        EXPECT_TRUE(stack->tcp_send(*c, msg));
        Seg syn = one();
        our_port = syn.sport;
        EXPECT_EQ(syn.data, msg);
        return syn;
    }
};

TEST_F(FastOpen, FirstSynAsksForACookieAndCarriesNoData) {
    Seg syn = learn(std::nullopt);
    EXPECT_EQ(syn.flags, S);
    EXPECT_TRUE(syn.data.empty());
    ASSERT_TRUE(syn.opts.fastopen);
    EXPECT_EQ(syn.opts.fastopen->len, 0);  // an empty option: the request
    // The peer gave no cookie: the next connect asks again instead of deferring its SYN.
    Seg again = learn(std::nullopt);
    ASSERT_TRUE(again.opts.fastopen);
    EXPECT_EQ(again.opts.fastopen->len, 0);
    EXPECT_EQ(stack->counters().tcp.fastopen_active, 0u);
}

TEST_F(FastOpen, CachedCookieDefersTheSynUntilTheFirstWriteWhichItCarries) {
    const auto cookie = cookie_of({0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4});
    learn(cookie);

    auto c = stack->tcp_connect(Endpoint{peer, 80}, {}, 0, true);
    ASSERT_TRUE(c);
    nothing();  // no SYN yet
    EXPECT_TRUE(stack->tcp_fastopen_deferred(*c));
    EXPECT_TRUE(stack->tcp_poll(*c) & events::kWritable);  // as Linux: write to connect

    const auto msg = bytes("GET / HTTP/1.0\r\n\r\n");
    auto n = stack->tcp_send(*c, msg);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, msg.size());
    EXPECT_FALSE(stack->tcp_fastopen_deferred(*c));
    Seg syn = one();
    our_port = syn.sport;
    EXPECT_EQ(syn.flags, S);
    EXPECT_EQ(syn.data, msg);
    ASSERT_TRUE(syn.opts.fastopen);
    EXPECT_EQ(*syn.opts.fastopen, cookie);
    EXPECT_EQ(stack->counters().tcp.fastopen_active, 1u);

    // The peer takes SYN and data: one ACK, nothing resent, the data is acknowledged.
    inject(S | A, 9000, syn.seq + 1 + static_cast<std::uint32_t>(msg.size()), 65535, {},
           syn_opts(1460, std::nullopt, false));
    Seg ack = one();
    EXPECT_EQ(ack.flags, A);
    EXPECT_EQ(ack.seq, syn.seq + 1 + msg.size());
    EXPECT_EQ(ack.ack, 9001u);
    EXPECT_TRUE(ack.data.empty());
    auto info = stack->tcp_info(*c);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->state, State::kEstablished);
    EXPECT_EQ(info->bytes_acked, msg.size());
    EXPECT_TRUE(info->syn_data_acked);
    EXPECT_EQ(stack->counters().tcp.fastopen_active_fail, 0u);
    // Nothing is left to retransmit.
    advance(std::chrono::seconds(5));
    nothing();
}

TEST_F(FastOpen, DataThePeerDidNotTakeWithTheSynIsResentAtOnce) {
    learn(cookie_of({9, 8, 7, 6}));
    const auto msg = bytes("hello, fast open");
    SocketId c = 0;
    Seg syn = write_syn(&c, msg);

    // The SYN-ACK acknowledges the SYN alone (a server that refused the cookie): the data goes
    // again at once, and that segment is the handshake's ACK (as Linux: no bare ACK first).
    inject(S | A, 9000, syn.seq + 1, 65535, {}, syn_opts(1460, std::nullopt, false));
    Seg d = one();
    EXPECT_EQ(d.flags, P | A);
    EXPECT_EQ(d.seq, syn.seq + 1);
    EXPECT_EQ(d.ack, 9001u);
    EXPECT_EQ(d.data, msg);
    EXPECT_EQ(stack->counters().tcp.fastopen_active_fail, 1u);
    EXPECT_FALSE(stack->tcp_info(c)->syn_data_acked);

    inject(A, 9001, syn.seq + 1 + static_cast<std::uint32_t>(msg.size()), 65535);
    EXPECT_EQ(stack->tcp_info(c)->bytes_acked, msg.size());
}

TEST_F(FastOpen, SynDataIsBoundedByTheMssThePeerOfferedWithTheCookie) {
    learn(cookie_of({1, 2, 3, 4, 5, 6}), 536);
    auto c = stack->tcp_connect(Endpoint{peer, 80}, {}, 0, true);
    ASSERT_TRUE(c);
    std::vector<std::byte> big(3000, std::byte{'x'});
    auto n = stack->tcp_send(*c, big);
    ASSERT_TRUE(n);
    // 536 less the 40 bytes options may take: what the SYN carries is what the call took.
    EXPECT_EQ(*n, 536u - 40u);
    Seg syn = one();
    EXPECT_EQ(syn.data.size(), 536u - 40u);
}

TEST_F(FastOpen, RetransmittedSynIsAPlainOneAndTheDataFollowsTheHandshake) {
    learn(cookie_of({1, 1, 2, 2}));
    const auto msg = bytes("lost");
    SocketId c = 0;
    Seg syn = write_syn(&c, msg);
    advance(std::chrono::milliseconds(1000));  // the initial RTO
    Seg again = one();
    EXPECT_EQ(again.flags, S);
    EXPECT_EQ(again.seq, syn.seq);
    EXPECT_TRUE(again.data.empty());
    EXPECT_FALSE(again.opts.fastopen);

    inject(S | A, 9000, syn.seq + 1, 65535, {}, syn_opts(1460, std::nullopt, false));
    Seg d = one();
    EXPECT_EQ(d.flags, P | A);
    EXPECT_EQ(d.seq, syn.seq + 1);
    EXPECT_EQ(d.data, msg);
}

TEST_F(FastOpen, ClientBitOffMeansPlainConnect) {
    cfg.tcp.fastopen = 0;
    start();
    auto c = stack->tcp_connect(Endpoint{peer, 80}, {}, 0, true);
    ASSERT_TRUE(c);
    Seg syn = one();
    EXPECT_FALSE(syn.opts.fastopen);
    EXPECT_FALSE(stack->tcp_fastopen_deferred(*c));
}
