// TCP benchmarks, each against the Linux kernel measured in the same run on the same machine:
//   1. bulk throughput of one connection: ustack to ustack over the in-memory link (one thread
//      drives both stacks) with 1500-byte segments, and with segmentation offload; the kernel
//      over loopback with the same MSS (TCP_MAXSEG 1448 + 12 bytes of timestamps), CUBIC asked for;
//   2. connection establish + close rate;
//   3. 1-byte request/response rate;
//   4. heap bytes per idle established connection (ustack; the kernel's tcp_sock slab object
//      size from /proc/slabinfo where readable).
// Every loop is bounded in time and count. Figures are printed with their ratio to the kernel.
// Usage: bench_tcp [-r RUNS] [bulk|conn|rr|mem|frames|offload]... (see usage()).
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "phy/memory_pair.hpp"
#include "stack/stack.hpp"

using namespace ustack;
using Clock = std::chrono::steady_clock;

// Every heap allocation in this process is counted, to show the data path makes none.
static std::atomic<std::uint64_t> g_allocations{0};
void* operator new(std::size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}

namespace {

constexpr auto kBudget = std::chrono::milliseconds(2000);

Instant now_instant() {
    return std::chrono::duration_cast<Instant>(Clock::now().time_since_epoch());
}

struct Pair {
    std::unique_ptr<phy::MemoryDevice> da, db;
    std::unique_ptr<Stack> a, b;
    explicit Pair(bool offload) {
        phy::MemoryLinkOptions o;
        o.link = phy::LinkType::kIp;
        o.mtu = 1500;
        o.offload = offload;
        o.queue_frames = 1024;
        auto [x, y] = phy::MemoryLink::make_pair(o);
        da = std::move(x);
        db = std::move(y);
        StackConfig ca, cb;
        ca.seed = 1;
        cb.seed = 2;
        ca.tcp.send_buffer = cb.tcp.send_buffer = 4 << 20;
        ca.tcp.recv_buffer = cb.tcp.recv_buffer = 4 << 20;
        a = std::make_unique<Stack>(ca);
        b = std::make_unique<Stack>(cb);
        a->add_interface(*da, InterfaceConfig{{wire::Ipv4Addr{10, 0, 0, 1}, 24}, {}, {}});
        b->add_interface(*db, InterfaceConfig{{wire::Ipv4Addr{10, 0, 0, 2}, 24}, {}, {}});
        poll();
    }
    void poll() {
        Instant t = now_instant();
        a->poll(t);
        b->poll(t);
        // Drain readiness as an application would (the loops below poll sockets directly).
        events.clear();
        a->take_events(events);
        b->take_events(events);
    }
    std::vector<SocketEvent> events;
    // Connects a to b's listener; returns {client, server}.
    std::pair<SocketId, SocketId> connect(SocketId listener, std::uint16_t port) {
        auto c = a->tcp_connect(Endpoint{wire::Ipv4Addr{10, 0, 0, 2}, port});
        for (int i = 0; i < 1000; ++i) {
            poll();
            if (auto s = b->tcp_accept(listener)) {
                poll();
                return {*c, *s};
            }
        }
        std::fprintf(stderr, "connect did not complete\n");
        std::exit(1);
    }
};

struct BulkResult {
    double gbps = 0;
    double allocations_per_segment = 0;
    std::uint64_t segments = 0;     // sent by both ends
    std::uint64_t retransmits = 0;  // segments sent again
    std::uint64_t queue_drops = 0;  // frames the link's queues refused
    double cpu_gbps = 0;            // per second of this thread's CPU time (less noisy)
};

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

BulkResult ustack_bulk(bool offload) {
    Pair p(offload);
    auto l = p.b->tcp_listen(Endpoint{{}, 5001});
    auto [c, s] = p.connect(*l, 5001);
    std::vector<std::byte> buf(1 << 20, std::byte{0x5a}), in(1 << 20);
    std::uint64_t received = 0;
    const auto t0 = Clock::now();
    const double cpu0 = thread_cpu_seconds();
    const std::uint64_t allocs0 = g_allocations.load();
    const std::uint64_t segs0 = p.a->counters().tcp.out_segs + p.b->counters().tcp.out_segs;
    while (Clock::now() - t0 < kBudget) {
        for (int k = 0; k < 4; ++k) {
            if (!p.a->tcp_send(c, buf)) break;
        }
        p.poll();
        while (auto r = p.b->tcp_recv(s, in)) {
            if (*r == 0) break;
            received += *r;
        }
        p.poll();
    }
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu_secs = thread_cpu_seconds() - cpu0;
    const std::uint64_t allocs = g_allocations.load() - allocs0;
    const std::uint64_t segs = p.a->counters().tcp.out_segs + p.b->counters().tcp.out_segs - segs0;
    return {static_cast<double>(received) * 8 / secs / 1e9,
            static_cast<double>(allocs) / static_cast<double>(segs ? segs : 1),
            segs,
            p.a->counters().tcp.retrans_segs + p.b->counters().tcp.retrans_segs,
            p.da->counters().tx_dropped_queue_full + p.db->counters().tx_dropped_queue_full,
            static_cast<double>(received) * 8 / cpu_secs / 1e9};
}

int kernel_listener(std::uint16_t* port) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int mss = 1448;
    setsockopt(l, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) || listen(l, 1024)) {
        std::perror("kernel listener");
        std::exit(1);
    }
    socklen_t len = sizeof a;
    getsockname(l, reinterpret_cast<sockaddr*>(&a), &len);
    *port = ntohs(a.sin_port);
    return l;
}

int kernel_connect(std::uint16_t port, const char* cc) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int mss = 1448;
    setsockopt(s, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss);
    if (cc) setsockopt(s, IPPROTO_TCP, TCP_CONGESTION, cc, static_cast<socklen_t>(std::strlen(cc)));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a)) {
        std::perror("kernel connect");
        std::exit(1);
    }
    return s;
}

std::string congestion_of(int fd) {
    char name[32] = {};
    socklen_t len = sizeof name;
    if (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len)) return "?";
    return name;
}

double kernel_bulk(std::string* cc_used) {
    std::uint16_t port = 0;
    int l = kernel_listener(&port);
    int c = kernel_connect(port, "cubic");
    int s = accept(l, nullptr, nullptr);
    *cc_used = congestion_of(c);
    std::atomic<bool> stop{false};
    std::thread sender([&] {
        std::vector<char> buf(1 << 16, 'x');
        while (!stop.load(std::memory_order_relaxed))
            if (write(c, buf.data(), buf.size()) <= 0) break;
        shutdown(c, SHUT_WR);
    });
    std::vector<char> in(1 << 16);
    std::uint64_t received = 0;
    const auto t0 = Clock::now();
    while (Clock::now() - t0 < kBudget) {
        ssize_t n = read(s, in.data(), in.size());
        if (n <= 0) break;
        received += static_cast<std::uint64_t>(n);
    }
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    stop = true;
    while (read(s, in.data(), in.size()) > 0) {
    }
    sender.join();
    close(c);
    close(s);
    close(l);
    return static_cast<double>(received) * 8 / secs / 1e9;
}

double ustack_conn_rate() {
    Pair p(false);
    auto l = p.b->tcp_listen(Endpoint{{}, 5002}, 4096);
    std::uint64_t done = 0;
    const auto t0 = Clock::now();
    while (Clock::now() - t0 < kBudget && done < 20000) {
        auto [c, s] = p.connect(*l, 5002);
        p.b->tcp_close(s);  // the server closes first and keeps the TIME-WAIT
        for (int i = 0; i < 100; ++i) {
            p.poll();
            std::byte x[1];
            auto r = p.a->tcp_recv(c, x);
            if (r && *r == 0) break;
        }
        p.a->tcp_close(c);
        p.poll();
        ++done;
    }
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    return static_cast<double>(done) / secs;
}

double kernel_conn_rate() {
    std::uint16_t port = 0;
    int l = kernel_listener(&port);
    std::uint64_t done = 0;
    const auto t0 = Clock::now();
    char x;
    while (Clock::now() - t0 < kBudget && done < 20000) {
        int c = kernel_connect(port, nullptr);
        int s = accept(l, nullptr, nullptr);
        close(s);
        (void)read(c, &x, 1);  // EOF
        close(c);
        ++done;
    }
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    close(l);
    return static_cast<double>(done) / secs;
}

double ustack_rr() {
    Pair p(false);
    auto l = p.b->tcp_listen(Endpoint{{}, 5003});
    auto [c, s] = p.connect(*l, 5003);
    (void)p.a->tcp_set_nodelay(c, true);
    (void)p.b->tcp_set_nodelay(s, true);
    std::byte x[1] = {std::byte{1}};
    std::uint64_t done = 0;
    const auto t0 = Clock::now();
    while (Clock::now() - t0 < kBudget) {
        (void)p.a->tcp_send(c, x);
        p.poll();
        while (!p.b->tcp_recv(s, x))
            p.poll();
        (void)p.b->tcp_send(s, x);
        p.poll();
        while (!p.a->tcp_recv(c, x))
            p.poll();
        ++done;
    }
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    return static_cast<double>(done) / secs;
}

double kernel_rr() {
    std::uint16_t port = 0;
    int l = kernel_listener(&port);
    int c = kernel_connect(port, nullptr);
    int s = accept(l, nullptr, nullptr);
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::atomic<bool> stop{false};
    std::thread echo([&] {
        char x;
        while (read(s, &x, 1) == 1) {
            if (write(s, &x, 1) != 1) break;
        }
    });
    char x = 1;
    std::uint64_t done = 0;
    const auto t0 = Clock::now();
    while (Clock::now() - t0 < kBudget) {
        if (write(c, &x, 1) != 1 || read(c, &x, 1) != 1) break;
        ++done;
    }
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    shutdown(c, SHUT_WR);
    echo.join();
    close(c);
    close(s);
    close(l);
    return static_cast<double>(done) / secs;
}

double ustack_bytes_per_idle_connection() {
    Pair p(false);
    auto l = p.b->tcp_listen(Endpoint{{}, 5004}, 4096);
    constexpr int kConns = 2000;
    std::vector<std::pair<SocketId, SocketId>> conns;
    conns.reserve(kConns);
    p.connect(*l, 5004);  // warm up tables
    const auto before = mallinfo2().uordblks;
    for (int i = 0; i < kConns; ++i)
        conns.push_back(p.connect(*l, 5004));
    const auto after = mallinfo2().uordblks;
    // Each pair is two established endpoints (one per stack).
    return static_cast<double>(after - before) / (2.0 * kConns);
}

std::string kernel_tcp_sock_size() {
    std::ifstream f("/proc/slabinfo");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("TCP ", 0) == 0) {
            std::istringstream is(line);
            std::string name;
            long active, total, objsize;
            is >> name >> active >> total >> objsize;
            return std::to_string(objsize) + " B (tcp_sock slab object)";
        }
    }
    return "not readable";
}

// Median and range of a few runs.
struct Spread {
    double median = 0, lo = 0, hi = 0;
};

Spread spread(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    const double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return {median, v.front(), v.back()};
}

void bulk(int runs) {
    std::printf("\nbulk throughput, one connection, MSS 1448 + timestamps\n");
    std::vector<double> kbs, ubs, ubos, rs, ros;
    BulkResult ubr, ubor;
    for (int i = 0; i < runs; ++i) {
        std::string cc;
        const double kb = kernel_bulk(&cc);
        ubr = ustack_bulk(false);
        ubor = ustack_bulk(true);
        const double ub = ubr.gbps, ubo = ubor.gbps;
        if (runs > 1) std::printf("run %d\n", i + 1);
        std::printf("  kernel loopback (%s, sender and receiver threads)  %8.2f Gbit/s\n",
                    cc.c_str(), kb);
        std::printf(
            "  ustack in-memory link, one thread, 1500-byte frames %8.2f Gbit/s  ratio %.2f\n", ub,
            ub / kb);
        std::printf(
            "  ustack in-memory link, one thread, offload (TSO)    %8.2f Gbit/s  ratio %.2f\n", ubo,
            ubo / kb);
        std::printf(
            "  heap allocations per segment sent: %.4f (1500-byte frames), %.4f (offload)\n",
            ubr.allocations_per_segment, ubor.allocations_per_segment);
        kbs.push_back(kb);
        ubs.push_back(ub);
        ubos.push_back(ubo);
        rs.push_back(ub / kb);
        ros.push_back(ubo / kb);
    }
    if (runs < 2) return;
    auto line = [](const char* what, const std::vector<double>& v, const char* unit) {
        const Spread s = spread(v);
        std::printf("  %-28s median %6.2f%s  range %.2f-%.2f\n", what, s.median, unit, s.lo, s.hi);
    };
    std::printf("over %d runs\n", runs);
    line("kernel loopback", kbs, " Gbit/s");
    line("ustack 1500-byte frames", ubs, " Gbit/s");
    line("ustack offload", ubos, " Gbit/s");
    line("ratio, 1500-byte frames", rs, "");
    line("ratio, offload", ros, "");
}

void conn_rate() {
    const double kc = kernel_conn_rate();
    const double uc = ustack_conn_rate();
    std::printf("\nconnection establish + close\n");
    std::printf("  kernel loopback  %10.0f /s\n", kc);
    std::printf("  ustack           %10.0f /s  ratio %.2f\n", uc, uc / kc);
}

void request_response() {
    const double kr = kernel_rr();
    const double ur = ustack_rr();
    std::printf("\n1-byte request/response (TCP_NODELAY)\n");
    std::printf("  kernel loopback (two threads)  %10.0f /s\n", kr);
    std::printf("  ustack (one thread, no syscalls) %8.0f /s  ratio %.2f\n", ur, ur / kr);
}

void memory() {
    std::printf("\nmemory per idle established connection\n");
    std::printf("  ustack heap  %.0f B\n", ustack_bytes_per_idle_connection());
    std::printf("  kernel       %s\n", kernel_tcp_sock_size().c_str());
}

int usage() {
    std::fprintf(stderr,
                 "usage: bench_tcp [-r RUNS] [bulk|conn|rr|mem|frames|offload]...\n"
                 "  no section: all four; -r repeats bulk and prints median and range;\n"
                 "  frames, offload: only that ustack bulk run, no kernel (for perf record)\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 1;
    std::vector<std::string> sections;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "-r" && i + 1 < argc) {
            runs = std::max(1, std::atoi(argv[++i]));
        } else if (a == "bulk" || a == "conn" || a == "rr" || a == "mem" || a == "frames" ||
                   a == "offload") {
            sections.push_back(a);
        } else {
            return usage();
        }
    }
    if (sections.empty())
        for (const char* all : {"bulk", "conn", "rr", "mem"})
            sections.emplace_back(all);
    std::printf(
        "TCP benchmarks (each figure over ~%lld ms; ratios against the kernel in this run)\n",
        static_cast<long long>(kBudget.count()));
    for (const std::string& s : sections) {
        if (s == "bulk") {
            bulk(runs);
        } else if (s == "conn") {
            conn_rate();
        } else if (s == "rr") {
            request_response();
        } else if (s == "mem") {
            memory();
        } else {
            const auto r = ustack_bulk(s == "offload");
            std::printf(
                "ustack %s: %.2f Gbit/s (%.2f per CPU second), %.4f heap allocations per "
                "segment; %llu segments, %llu retransmitted, %llu frames dropped by full link "
                "queues\n",
                s.c_str(), r.gbps, r.cpu_gbps, r.allocations_per_segment,
                static_cast<unsigned long long>(r.segments),
                static_cast<unsigned long long>(r.retransmits),
                static_cast<unsigned long long>(r.queue_drops));
        }
    }
    return 0;
}
