// ustack ping: ICMP echo from the stack, printed like ping(8).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <system_error>
#include <vector>

#include "apps/commands.hpp"
#include "apps/node.hpp"

namespace ustack::apps {

namespace {

constexpr std::array kPingOptions{
    OptionSpec{"count", 'c', "COUNT", "stop after COUNT requests (default: until SIGINT)"},
    OptionSpec{"interval", 'i', "INTERVAL", "seconds between requests (default 1, min 0.001)"},
    OptionSpec{"size", 's', "SIZE", "payload bytes per request (default 56, max 65507)"},
    OptionSpec{"timeout", 'W', "TIMEOUT",
               "seconds to wait for replies after the last request (default 10)"},
};

constexpr std::size_t kMaxPayload = 65507;  // 65535 - IPv4 header - ICMP header

double ms(Duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

std::byte pattern_byte(std::size_t i) {
    return static_cast<std::byte>((i + 8) & 0xff);
}

}  // namespace

std::span<const OptionSpec> ping_option_specs() {
    return kPingOptions;
}

int run_ping(const ParsedArgs& args) {
    if (args.positionals().size() != 1) {
        throw UsageError(args.positionals().empty() ? "missing HOST"
                                                    : "expected one HOST, got more arguments");
    }
    const wire::Ipv4Addr host = parse_ipv4("HOST", args.positionals()[0]);
    const auto count = args.number("count", 1, 1'000'000'000);
    const Duration interval = args.seconds("interval", 1ms, 3600s).value_or(1s);
    const auto size = static_cast<std::size_t>(args.number("size", 0, kMaxPayload).value_or(56));
    const Duration linger = args.seconds("timeout", 1ms, 3600s).value_or(10s);
    const DeviceOptions opts = device_options_from(args);

    auto node = Node::open(opts);
    Stack& stack = node->stack();
    runtime::EventLoop& loop = node->loop();
    auto sock = stack.ping_open();
    if (!sock) {
        throw FatalError("ping socket: " + std::make_error_code(sock.error()).message());
    }

    std::vector<std::byte> payload(size);
    for (std::size_t i = 0; i < size; ++i)
        payload[i] = pattern_byte(i);
    std::vector<std::byte> rx(kMaxPayload);

    std::map<std::uint16_t, Instant> outstanding;  // seq -> when sent
    std::uint64_t transmitted = 0;
    std::uint64_t received = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t send_errors = 0;
    std::vector<double> rtts;
    std::uint16_t next_seq = 1;
    const Instant start = loop.now();

    std::cout << "PING " << host.to_string() << " (" << host.to_string() << ") " << size << "("
              << size + 28 << ") bytes of data." << std::endl;

    std::function<void()> send_one = [&] {
        const std::uint16_t seq = next_seq++;
        const Instant now = loop.now();
        auto r = stack.ping_send(*sock, host, seq, payload);
        ++transmitted;
        if (r) {
            outstanding[seq] = now;
        } else {
            ++send_errors;
            std::cout << "From " << opts.addr.addr.to_string() << " icmp_seq=" << seq << " "
                      << std::make_error_code(r.error()).message() << std::endl;
        }
        loop.request_poll();
        if (!count || transmitted < *count) {
            loop.add_timer(now + interval, send_one);
        } else {
            loop.add_timer(now + linger, [&] { loop.stop(); });
        }
    };
    loop.add_timer(start, send_one);

    loop.add_after_poll([&] {
        for (;;) {
            auto r = stack.ping_recv(*sock, rx);
            if (!r) break;
            const Instant now = loop.now();
            auto it = outstanding.find(r->seq);
            const bool dup = it == outstanding.end();
            if (dup) {
                ++duplicates;
            } else {
                ++received;
            }
            const bool intact =
                r->size == size &&
                std::equal(rx.begin(), rx.begin() + static_cast<std::ptrdiff_t>(r->size),
                           payload.begin());
            char line[160];
            std::snprintf(line, sizeof line, "%zu bytes from %s: icmp_seq=%u ttl=%u", r->size + 8,
                          r->from.to_string().c_str(), static_cast<unsigned>(r->seq),
                          static_cast<unsigned>(r->ttl));
            std::cout << line;
            if (!dup) {
                const double rtt = ms(now - it->second);
                rtts.push_back(rtt);
                std::snprintf(line, sizeof line, " time=%.3f ms", rtt);
                std::cout << line;
                outstanding.erase(it);
            } else {
                std::cout << " (DUP!)";
            }
            if (!intact) std::cout << " (payload differs from what was sent)";
            std::cout << std::endl;
        }
        if (count && transmitted >= *count && outstanding.empty()) loop.stop();
    });

    node->run();

    const double elapsed = ms(loop.now() - start);
    const std::uint64_t lost = transmitted - received;
    std::cout << "\n--- " << host.to_string() << " ping statistics ---\n"
              << transmitted << " packets transmitted, " << received << " received";
    if (duplicates > 0) std::cout << ", +" << duplicates << " duplicates";
    if (send_errors > 0) std::cout << ", +" << send_errors << " errors";
    std::cout << ", " << (transmitted == 0 ? 0 : static_cast<int>(100 * lost / transmitted))
              << "% packet loss, time " << static_cast<long long>(elapsed) << "ms\n";
    if (!rtts.empty()) {
        double sum = 0, sum2 = 0;
        for (double r : rtts) {
            sum += r;
            sum2 += r * r;
        }
        const double avg = sum / static_cast<double>(rtts.size());
        const double mdev =
            std::sqrt(std::max(0.0, sum2 / static_cast<double>(rtts.size()) - avg * avg));
        char line[160];
        std::snprintf(line, sizeof line, "rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n",
                      *std::min_element(rtts.begin(), rtts.end()), avg,
                      *std::max_element(rtts.begin(), rtts.end()), mdev);
        std::cout << line;
    }
    std::cout.flush();
    node->print_stats_if_asked();
    return received > 0 ? 0 : 1;
}

}  // namespace ustack::apps
