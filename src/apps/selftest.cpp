// ustack selftest: two stacks joined by an in-memory Ethernet link exchange pings (one of them
// fragmented), UDP datagrams and a 50 MiB TCP download, driven by one event loop in real time.
// Needs no root and no TUN, so it stands in for the TUN demo where those are missing.
#include <array>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/commands.hpp"
#include "apps/node.hpp"
#include "phy/memory_pair.hpp"
#include "runtime/clock.hpp"
#include "runtime/event_loop.hpp"
#include "stack/stack.hpp"

namespace ustack::apps {

namespace {

constexpr std::array kSelftestOptions{
    OptionSpec{"mtu", 0, "N", "MTU of the in-memory link (default 1500, min 576)"},
    OptionSpec{"pcap", 0, "FILE", "capture stack A's side of the link to FILE"},
    OptionSpec{"stats", 0, "", "print both stacks' counters at the end"},
};

constexpr Duration kStepTimeout = 5s;

std::vector<std::byte> pattern(std::size_t n, unsigned salt) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = static_cast<std::byte>((i * 7 + salt) & 0xff);
    return v;
}

struct Side {
    std::unique_ptr<Stack> stack;
    InterfaceId ifc = 0;
    wire::Ipv4Cidr addr;
};

class Selftest {
  public:
    Selftest(std::uint32_t mtu, const std::optional<std::string>& pcap_path) : mtu_(mtu) {
        auto pair = phy::MemoryLink::make_pair(phy::LinkType::kEthernet, mtu);
        dev_a_ = std::move(pair.first);
        dev_b_ = std::move(pair.second);
        if (pcap_path) dev_a_ = wrap_pcap(std::move(dev_a_), *pcap_path);
        phy::Device* a_dev = dev_a_.get();
        a_.addr = *wire::Ipv4Cidr::parse("10.0.0.1/24");
        b_.addr = *wire::Ipv4Cidr::parse("10.0.0.2/24");
        StackConfig ca;
        ca.seed = 1;
        StackConfig cb;
        cb.seed = 2;
        a_.stack = std::make_unique<Stack>(ca);
        b_.stack = std::make_unique<Stack>(cb);
        a_.ifc = a_.stack->add_interface(*a_dev, InterfaceConfig{a_.addr, std::nullopt, mtu});
        b_.ifc = b_.stack->add_interface(*dev_b_, InterfaceConfig{b_.addr, std::nullopt, mtu});

        runtime::Driven both{
            [this](Instant now) {
                a_.stack->poll(now);
                b_.stack->poll(now);
            },
            [this] { return std::min(a_.stack->next_deadline(), b_.stack->next_deadline()); }};
        auto loop = runtime::EventLoop::create(clock_, std::move(both));
        if (!loop) throw FatalError(loop.error().what);
        loop_ = std::move(loop).value();
        check(loop_->add_device(*a_dev));
        check(loop_->add_device(*dev_b_));
        check(loop_->run_once());  // hands both stacks the current time before anything is sent
    }

    // Pings `to` from `from` `count` times with `size` bytes; true when every reply came back
    // with the payload intact.
    bool ping(Side& from, Side& to, std::size_t size, int count) {
        Stack& st = *from.stack;
        auto sock = st.ping_open();
        if (!sock) return report_fail("ping socket");
        const auto payload = pattern(size, 3);
        std::vector<std::byte> rx(size + 1);
        int ok = 0;
        std::string detail;
        const Instant start = loop_->now();
        for (int seq = 1; seq <= count; ++seq) {
            const Instant sent = loop_->now();
            auto r = st.ping_send(*sock, to.addr.addr, static_cast<std::uint16_t>(seq), payload);
            if (!r) {
                detail = "send: " + std::make_error_code(r.error()).message();
                break;
            }
            loop_->request_poll();
            bool got = false;
            loop_->run_until(
                [&] {
                    auto rep = st.ping_recv(*sock, rx);
                    if (!rep) return false;
                    got = rep->seq == seq && rep->from == to.addr.addr && rep->size == size &&
                          std::equal(payload.begin(), payload.end(), rx.begin());
                    return true;
                },
                sent + kStepTimeout);
            if (got) ++ok;
        }
        st.ping_close(*sock);
        const auto took = std::chrono::duration<double, std::milli>(loop_->now() - start).count();
        char took_text[32];
        std::snprintf(took_text, sizeof took_text, "%.3f", took);
        std::cout << "selftest: ping " << to.addr.addr.to_string() << " from "
                  << from.addr.addr.to_string() << ", " << size << " bytes"
                  << (size + 28 > mtu_ ? " (fragmented)" : "") << " x" << count << ": " << ok << "/"
                  << count << " replies with the exact payload in " << took_text << " ms";
        if (!detail.empty()) std::cout << " (" << detail << ")";
        const bool pass = ok == count;
        std::cout << (pass ? " ... ok" : " ... FAILED") << std::endl;
        return tally(pass);
    }

    // B echoes on port 7; A sends datagrams of the given sizes and expects each back exactly.
    bool udp_echo(const std::vector<std::size_t>& sizes) {
        Stack& sa = *a_.stack;
        Stack& sb = *b_.stack;
        auto echo = sb.udp_open();
        auto client = sa.udp_open();
        if (!echo || !client) return report_fail("udp socket");
        if (!sb.udp_bind(*echo, Endpoint{wire::Ipv4Addr{}, 7})) return report_fail("udp bind");
        if (!sa.udp_bind(*client, Endpoint{wire::Ipv4Addr{}, 0})) return report_fail("udp bind");
        std::vector<std::byte> buf(65536);
        loop_->add_after_poll([&, e = *echo] {
            for (;;) {
                auto r = sb.udp_recvfrom(e, buf);
                if (!r) break;
                (void)sb.udp_sendto(e, ByteSpan(buf.data(), r->size), r->from);
                loop_->request_poll();
            }
        });
        std::size_t ok = 0;
        std::string sizes_text;
        std::vector<std::byte> rx(65536);
        for (std::size_t i = 0; i < sizes.size(); ++i) {
            const auto data = pattern(sizes[i], static_cast<unsigned>(i));
            sizes_text += (i ? "/" : "") + std::to_string(sizes[i]);
            const Instant sent = loop_->now();
            if (!sa.udp_sendto(*client, data, Endpoint{b_.addr.addr, 7})) break;
            loop_->request_poll();
            bool exact = false;
            loop_->run_until(
                [&] {
                    auto r = sa.udp_recvfrom(*client, rx);
                    if (!r) return false;
                    exact = r->size == data.size() && r->from == Endpoint{b_.addr.addr, 7} &&
                            std::equal(data.begin(), data.end(), rx.begin());
                    return true;
                },
                sent + kStepTimeout);
            if (exact) ++ok;
        }
        const bool pass = ok == sizes.size();
        std::cout << "selftest: udp " << a_.addr.addr.to_string() << " -> "
                  << b_.addr.addr.to_string() << ":7 and back, " << sizes_text << " bytes: " << ok
                  << "/" << sizes.size() << " echoed exactly" << (pass ? " ... ok" : " ... FAILED")
                  << std::endl;
        return tally(pass);
    }

    // B serves `size` bytes on a TCP port; A connects, reads to the end of the stream and
    // checks every byte; both close. Prints the throughput.
    bool tcp_transfer(std::size_t size) {
        Stack& sa = *a_.stack;
        Stack& sb = *b_.stack;
        auto listener = sb.tcp_listen(Endpoint{wire::Ipv4Addr{}, 80});
        if (!listener) return report_fail("tcp listen");
        auto client = sa.tcp_connect(Endpoint{b_.addr.addr, 80});
        if (!client) return report_fail("tcp connect");
        loop_->request_poll();
        const auto chunk = pattern(65536, 11);  // the stream repeats this 64 KiB block
        std::optional<SocketId> server;
        std::size_t sent = 0, received = 0;
        bool exact = true, eof = false, server_closed = false;
        std::vector<std::byte> rx(1 << 20);
        const Instant start = loop_->now();
        loop_->run_until(
            [&] {
                if (!server) {
                    if (auto s = sb.tcp_accept(*listener)) server = *s;
                }
                if (server && !server_closed) {
                    while (sent < size) {
                        const std::size_t off = sent % chunk.size();
                        const std::size_t n = std::min(chunk.size() - off, size - sent);
                        auto w = sb.tcp_send(*server, ByteSpan(chunk.data() + off, n));
                        if (!w) break;
                        sent += *w;
                    }
                    if (sent == size) {
                        sb.tcp_close(*server);
                        server_closed = true;
                    }
                }
                for (;;) {
                    auto r = sa.tcp_recv(*client, rx);
                    if (!r) break;
                    if (*r == 0) {
                        eof = true;
                        break;
                    }
                    for (std::size_t i = 0; i < *r; ++i)
                        if (rx[i] != chunk[(received + i) % chunk.size()]) exact = false;
                    received += *r;
                }
                loop_->request_poll();
                return eof;
            },
            start + 60s);
        sa.tcp_close(*client);
        sb.tcp_close(*listener);
        const double secs = std::chrono::duration<double>(loop_->now() - start).count();
        const bool pass = eof && exact && received == size;
        char rate[64];
        std::snprintf(rate, sizeof rate, "%.2f Gbit/s", secs > 0 ? received * 8 / secs / 1e9 : 0.0);
        std::cout << "selftest: tcp " << b_.addr.addr.to_string() << ":80 -> "
                  << a_.addr.addr.to_string() << ", " << size << " bytes: " << received
                  << " received, " << (exact ? "every byte as sent" : "BYTES DIFFER") << ", "
                  << rate << (pass ? " ... ok" : " ... FAILED") << std::endl;
        return tally(pass);
    }

    Side& a() { return a_; }
    Side& b() { return b_; }
    int passed() const { return passed_; }
    int failed() const { return failed_; }

    void print_stats() const {
        std::cout << "--- stack A (" << a_.addr.to_string() << ") counters ---\n";
        a_.stack->print_counters(std::cout);
        std::cout << "--- stack B (" << b_.addr.to_string() << ") counters ---\n";
        b_.stack->print_counters(std::cout);
    }

  private:
    static void check(const runtime::LoopResult<void>& r) {
        if (!r) throw FatalError(r.error().what);
    }
    bool report_fail(const std::string& what) {
        std::cout << "selftest: " << what << " failed ... FAILED" << std::endl;
        return tally(false);
    }
    bool tally(bool pass) {
        (pass ? passed_ : failed_)++;
        return pass;
    }

    std::uint32_t mtu_;
    runtime::MonotonicClock clock_ = runtime::MonotonicClock::anchored_to_wall_clock();
    std::unique_ptr<phy::Device> dev_a_;
    std::unique_ptr<phy::Device> dev_b_;
    Side a_;
    Side b_;
    std::unique_ptr<runtime::EventLoop> loop_;
    int passed_ = 0;
    int failed_ = 0;
};

}  // namespace

std::span<const OptionSpec> selftest_option_specs() {
    return kSelftestOptions;
}

int run_selftest(const ParsedArgs& args) {
    if (!args.positionals().empty()) {
        throw UsageError("unexpected argument '" + args.positionals().front() + "'");
    }
    const auto mtu = static_cast<std::uint32_t>(args.number("mtu", 576, 65535).value_or(1500));
    Selftest t(mtu, args.value("pcap"));
    std::cout << "selftest: two stacks over an in-memory Ethernet link (mtu " << mtu << "): A "
              << t.a().addr.to_string() << " mac "
              << t.a().stack->interface_mac(t.a().ifc).to_string() << ", B "
              << t.b().addr.to_string() << " mac "
              << t.b().stack->interface_mac(t.b().ifc).to_string() << std::endl;
    t.ping(t.a(), t.b(), 56, 3);        // resolves B's MAC through ARP first
    t.ping(t.a(), t.b(), 4000, 2);      // fragmented and reassembled both ways
    t.ping(t.b(), t.a(), 56, 1);        // the other direction
    t.udp_echo({5, 1000, 3000, 8000});  // the last two fragmented
    t.tcp_transfer(50u << 20);          // a 50 MiB download over TCP
    if (args.has("stats")) t.print_stats();
    std::cout << "selftest: " << (t.failed() == 0 ? "all " : "") << t.passed() << " of "
              << t.passed() + t.failed() << " exchanges ok" << std::endl;
    return t.failed() == 0 ? 0 : 1;
}

}  // namespace ustack::apps
