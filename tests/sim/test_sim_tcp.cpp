// Two stacks over in-memory links with seeded faults, in virtual time: bulk transfers in both
// directions at once. The delivered streams must equal the sent streams byte for byte, and both
// ends must reach CLOSED (TIME-WAIT included) within a bounded virtual time.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <tuple>

#include "phy/fault.hpp"
#include "phy/memory_pair.hpp"
#include "phy/pcap.hpp"
#include "stack/stack.hpp"

using namespace ustack;
using wire::Ipv4Addr;

namespace {

const Ipv4Addr kA{10, 7, 0, 1};
const Ipv4Addr kB{10, 7, 0, 2};

std::byte stream_byte(std::uint64_t seed, std::size_t i) {
    std::uint64_t x = (i / 8) * 0x9e3779b97f4a7c15ull + seed;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 29;
    return static_cast<std::byte>(x >> ((i % 8) * 8));
}

struct Peer {
    Stack* stack = nullptr;
    SocketId sock = 0;
    std::uint64_t tx_seed = 0, rx_seed = 0;
    std::size_t to_send = 0, sent = 0, received = 0, expected = 0;
    bool shut = false, eof = false, closed = false, mismatch = false;
    std::vector<std::byte> buf = std::vector<std::byte>(65536);
    std::vector<std::byte> chunk;
    std::size_t chunk_off = 0, generated = 0;

    void pump() {
        if (!sock || closed) return;
        while (sent < to_send) {
            // Generate the next chunk once; offer it until the stack takes all of it.
            if (chunk_off == chunk.size()) {
                const std::size_t n = std::min<std::size_t>(16384, to_send - generated);
                chunk.resize(n);
                for (std::size_t i = 0; i < n; ++i)
                    chunk[i] = stream_byte(tx_seed, generated + i);
                generated += n;
                chunk_off = 0;
            }
            auto r =
                stack->tcp_send(sock, ByteSpan{chunk.data() + chunk_off, chunk.size() - chunk_off});
            if (!r) break;
            chunk_off += *r;
            sent += *r;
        }
        if (sent == to_send && !shut) {
            if (stack->tcp_shutdown(sock, tcp::Shutdown::kWrite)) shut = true;
        }
        while (!eof) {
            auto r = stack->tcp_recv(sock, buf);
            if (!r) break;
            if (*r == 0) {
                eof = true;
                break;
            }
            for (std::size_t i = 0; i < *r; ++i)
                if (buf[i] != stream_byte(rx_seed, received + i)) mismatch = true;
            received += *r;
        }
        if (eof && shut && !closed) {
            stack->tcp_close(sock);
            closed = true;
        }
    }
};

struct Result {
    std::size_t a_received = 0, b_received = 0;
    bool a_mismatch = false, b_mismatch = false;
    bool a_eof = false, b_eof = false;
    std::size_t conns_left = 0;
    Duration elapsed{};
};

Result run(std::size_t a_to_b, std::size_t b_to_a, const phy::FaultConfig& fab,
           const phy::FaultConfig& fba, std::uint64_t seed, Duration limit,
           std::optional<std::uint32_t> fixed_iss = std::nullopt, bool offload = false,
           std::uint64_t* frames_out = nullptr, std::uint64_t* segs_out = nullptr,
           bool bare = false, phy::LinkType link = phy::LinkType::kIp) {
    phy::MemoryLinkOptions lo;
    lo.link = link;
    lo.mtu = 1500;
    lo.offload = offload;
    auto [ea, eb] = phy::MemoryLink::make_pair(lo);
    std::unique_ptr<phy::Device> inner_a = std::move(ea);
    if (const char* path = std::getenv("SIM_PCAP");
        path && std::getenv("SIM_SEED") && std::stoull(std::getenv("SIM_SEED")) == seed) {
        auto w = phy::PcapWriter::open(path, phy::LinkType::kIp);
        if (w) inner_a = std::make_unique<phy::PcapDevice>(std::move(inner_a), std::move(*w));
    }
    // Bare: the stacks use the link's ends directly, which lend their frame slots (no copy in
    // or out); the wrappers copy.
    std::unique_ptr<phy::Device> da = std::move(inner_a), db = std::move(eb);
    if (!bare) {
        da = std::make_unique<phy::FaultDevice>(std::move(da), fab);
        db = std::make_unique<phy::FaultDevice>(std::move(db), fba);
    }
    StackConfig ca, cb;
    ca.seed = seed * 2 + 1;
    cb.seed = seed * 2 + 2;
    ca.tcp.send_buffer = cb.tcp.send_buffer = 256 * 1024;
    ca.tcp.recv_buffer = cb.tcp.recv_buffer = 256 * 1024;
    ca.tcp.fixed_iss = cb.tcp.fixed_iss = fixed_iss;
    Stack a(ca), b(cb);
    a.add_interface(*da, InterfaceConfig{{kA, 24}, {}, {}});
    b.add_interface(*db, InterfaceConfig{{kB, 24}, {}, {}});
    const Instant start = std::chrono::seconds(10);
    Instant now = start;
    a.poll(now);
    b.poll(now);
    auto l = b.tcp_listen(Endpoint{{}, 5001});
    EXPECT_TRUE(l);
    Peer pa, pb;
    pa.stack = &a;
    pb.stack = &b;
    pa.to_send = a_to_b;
    pb.to_send = b_to_a;
    pa.tx_seed = pb.rx_seed = seed * 11 + 1;
    pb.tx_seed = pa.rx_seed = seed * 13 + 7;
    auto c = a.tcp_connect(Endpoint{kB, 5001});
    EXPECT_TRUE(c);
    pa.sock = *c;
    const Instant end = start + limit;
    while (now < end) {
        a.poll(now);
        b.poll(now);
        if (!pb.sock) {
            if (auto s = b.tcp_accept(*l)) pb.sock = *s;
        }
        pa.pump();
        pb.pump();
        a.poll(now);
        b.poll(now);
        if (pa.closed && pb.closed && a.tcp_connection_count() == 0 &&
            b.tcp_connection_count() == 0)
            break;
        Instant next = std::min(a.next_deadline(), b.next_deadline());
        if (next <= now) next = now + std::chrono::microseconds(1);
        // The links are instantaneous unless delayed: advance at most 1 ms at a time so that
        // the applications run between deliveries.
        now = std::min(next, now + std::chrono::milliseconds(1));
    }
    if (std::getenv("SIM_DEBUG")) {
        for (auto [st, sock, name] : {std::tuple{&a, pa.sock, "A"}, std::tuple{&b, pb.sock, "B"}}) {
            auto i = st->tcp_info(sock);
            if (!i) {
                std::printf("%s: no info\n", name);
                continue;
            }
            std::printf(
                "%s: state %s cwnd %u ssthresh %u snd_wnd %u rcv_wnd %u inflight %u unsent %u "
                "unread %u ooo %u rto %lld retrans %u total %u recov %d\n",
                name, std::string(tcp::to_string(i->state)).c_str(), i->cwnd, i->ssthresh,
                i->snd_wnd, i->rcv_wnd, i->bytes_in_flight, i->unsent, i->unread, i->ooo_bytes,
                (long long)(i->rto.count() / 1000000), i->retransmits, i->total_retrans,
                i->in_recovery);
        }
        std::printf("elapsed %lld ms\n", (long long)((now - start).count() / 1000000));
        a.print_counters(std::cout);
    }
    if (frames_out) *frames_out = a.counters().link.tx_frames;
    if (segs_out) *segs_out = a.counters().tcp.out_segs;
    Result r;
    r.a_received = pa.received;
    r.b_received = pb.received;
    r.a_mismatch = pa.mismatch;
    r.b_mismatch = pb.mismatch;
    r.a_eof = pa.eof;
    r.b_eof = pb.eof;
    r.conns_left = a.tcp_connection_count() + b.tcp_connection_count();
    r.elapsed = now - start;
    return r;
}

void check(const Result& r, std::size_t a_to_b, std::size_t b_to_a, const std::string& what) {
    EXPECT_FALSE(r.a_mismatch) << what;
    EXPECT_FALSE(r.b_mismatch) << what;
    EXPECT_EQ(r.b_received, a_to_b) << what;
    EXPECT_EQ(r.a_received, b_to_a) << what;
    EXPECT_TRUE(r.a_eof && r.b_eof) << what;
    EXPECT_EQ(r.conns_left, 0u) << what;
}

}  // namespace

TEST(SimTcp, CleanLinkBothDirections) {
    phy::FaultConfig none;
    auto r = run(1 << 20, 1 << 20, none, none, 1, std::chrono::seconds(300));
    check(r, 1 << 20, 1 << 20, "clean");
}

TEST(SimTcp, DelayedLinkBothDirections) {
    phy::FaultConfig f;
    f.delay = std::chrono::milliseconds(10);
    f.rate_bps = 100'000'000;
    f.queue_limit_bytes = 256 * 1024;
    auto r = run(2 << 20, 2 << 20, f, f, 2, std::chrono::seconds(300));
    check(r, 2 << 20, 2 << 20, "delayed");
}

TEST(SimTcp, TwoHundredSeedsWithLossReorderDuplicationCorruption) {
    for (std::uint64_t seed = 1; seed <= 200; ++seed) {
        phy::FaultConfig f;
        f.seed = seed;
        f.loss = 0.01 * static_cast<double>(seed % 11);  // 0..10 %
        f.duplicate = (seed % 3 == 0) ? 0.02 : 0.0;
        f.reorder = (seed % 4 == 0) ? 0.05 : 0.0;
        f.corrupt = (seed % 5 == 0) ? 0.01 : 0.0;
        f.delay = std::chrono::milliseconds(1 + seed % 5);
        f.jitter = std::chrono::milliseconds(seed % 3);
        phy::FaultConfig g = f;
        g.seed = seed * 7919;
        const std::size_t n = 32 * 1024 + (seed * 7919) % (512 * 1024);
        auto r = run(n, n / 2, f, g, seed, std::chrono::seconds(1800));
        check(r, n, n / 2, "seed " + std::to_string(seed));
        if (::testing::Test::HasFailure()) break;
    }
}

TEST(SimTcp, SixteenMegabytesBothWaysOverLossyLink) {
    phy::FaultConfig f;
    f.seed = 77;
    f.loss = 0.02;
    f.reorder = 0.02;
    f.delay = std::chrono::milliseconds(2);
    phy::FaultConfig g = f;
    g.seed = 78;
    auto r = run(16 << 20, 16 << 20, f, g, 77, std::chrono::seconds(3600));
    check(r, 16 << 20, 16 << 20, "16 MiB");
}

TEST(SimTcp, SegmentationOffloadCarriesSuperSegments) {
    // Both ends offer checksum and segmentation offload (as a TUN device with vnet headers
    // does): the sender hands over runs of segments as one frame, the receiver takes them whole.
    phy::FaultConfig none;
    std::uint64_t frames = 0, segs = 0;
    auto r = run(8 << 20, 1 << 20, none, none, 9, std::chrono::seconds(300), std::nullopt, true,
                 &frames, &segs);
    check(r, 8 << 20, 1 << 20, "offload");
    EXPECT_GT(segs, 4 * frames) << "segments " << segs << " in " << frames << " frames";
}

TEST(SimTcp, SegmentationOffloadOverLossyLink) {
    phy::FaultConfig f;
    f.seed = 21;
    f.loss = 0.03;
    f.reorder = 0.03;
    f.delay = std::chrono::milliseconds(2);
    phy::FaultConfig g = f;
    g.seed = 22;
    auto r = run(4 << 20, 4 << 20, f, g, 21, std::chrono::seconds(600), std::nullopt, true);
    check(r, 4 << 20, 4 << 20, "offload lossy");
}

// Over the link's bare ends, segments are built in the link's slots and read where they lie;
// with and without offload, over IP and Ethernet (ARP) links.
TEST(SimTcp, ZeroCopyLinkBothDirections) {
    phy::FaultConfig none;
    for (bool offload : {false, true}) {
        for (auto link : {phy::LinkType::kIp, phy::LinkType::kEthernet}) {
            const std::string what = std::string(offload ? "offload" : "no offload") +
                                     (link == phy::LinkType::kIp ? ", ip" : ", ethernet");
            std::uint64_t frames = 0, segs = 0;
            auto r = run(4 << 20, 3 << 20, none, none, 31, std::chrono::seconds(300), std::nullopt,
                         offload, &frames, &segs, /*bare=*/true, link);
            check(r, 4 << 20, 3 << 20, what);
            if (offload) {
                EXPECT_LT(frames * 4, segs) << what;  // super-segments went whole
            }
        }
    }
}

TEST(SimTcp, TransferAcrossSequenceWraparound) {
    phy::FaultConfig f;
    f.seed = 5;
    f.loss = 0.03;
    f.delay = std::chrono::milliseconds(1);
    // Both ISNs sit 100 KB below 2^32: the streams cross the wrap early.
    auto r = run(1 << 20, 1 << 20, f, f, 5, std::chrono::seconds(600), 0xffffffffu - 100000u);
    check(r, 1 << 20, 1 << 20, "wraparound");
}
