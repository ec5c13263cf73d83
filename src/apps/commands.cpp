// The subcommand table, and the subcommands that only serve: up and udp-echo.
#include "apps/commands.hpp"

#include <array>
#include <iostream>
#include <system_error>
#include <vector>

#include "apps/node.hpp"

namespace ustack::apps {

namespace {

constexpr std::array kUdpEchoOptions{
    OptionSpec{"quiet", 'q', "", "do not print a line per datagram"},
    OptionSpec{"max", 0, "N", "exit after echoing N datagrams (default: run until a signal)"},
};

const std::array kCommands{
    Command{"up",
            "",
            "run the stack on the device, answering ARP and ping until SIGINT/SIGTERM",
            "Prints one line when the device is open and the stack is running.",
            {},
            true,
            &run_up},
    Command{"ping", "HOST",
            "send ICMP echo requests from the stack to HOST and print the replies like ping(8)",
            "Exit status 0 if any reply came back, 1 otherwise. SIGINT prints the summary.",
            ping_option_specs(), true, &run_ping},
    Command{"udp-echo", "PORT", "send every UDP datagram to PORT back to its sender",
            "Also answers ARP and ping, like 'up'.", kUdpEchoOptions, true, &run_udp_echo},
    Command{"serve", "",
            "run TCP servers: echo, discard, chargen and HTTP/1.1 files, many connections each",
            "Any combination of --echo, --discard, --chargen and --http; each accepts any number\n"
            "of concurrent connections. A peer's FIN closes its connection gracefully; a reset\n"
            "drops it. --stats adds a line per open TCP connection (state, cwnd, ssthresh,\n"
            "srtt, rttvar, rto, in flight, retransmits) at exit and on SIGUSR1.",
            serve_option_specs(), true, &run_serve},
    Command{"nc", "HOST PORT | -l PORT",
            "netcat over the stack's TCP: stdin to the connection, the connection to stdout",
            "At stdin's end our side is shut for writing (FIN). Exit status 0 once the peer's\n"
            "FIN has been read and ours acknowledged; 1 with a one-line message when the\n"
            "connection is refused, times out or is reset. --stats goes to stderr.",
            nc_option_specs(), true, &run_nc},
    Command{"selftest", "",
            "run two stacks over an in-memory link: ping (incl. fragmented) and UDP echo",
            "Needs no root and no TUN: the two stacks talk through an in-memory Ethernet link.\n"
            "Exit status 0 when every exchange returned the exact bytes sent.",
            selftest_option_specs(), false, &run_selftest},
};

void no_positionals(const ParsedArgs& args) {
    if (!args.positionals().empty()) {
        throw UsageError("unexpected argument '" + args.positionals().front() + "'");
    }
}

std::string errc_text(std::errc e) {
    return std::make_error_code(e).message();
}

}  // namespace

std::span<const Command> commands() {
    return kCommands;
}
std::span<const OptionSpec> udp_echo_option_specs() {
    return kUdpEchoOptions;
}

int run_up(const ParsedArgs& args) {
    no_positionals(args);
    const DeviceOptions opts = device_options_from(args);
    auto node = Node::open(opts);
    std::cout << "ustack: up on " << node->describe() << "; SIGINT or SIGTERM stops" << std::endl;
    node->run();
    node->print_stats_if_asked();
    return 0;
}

int run_udp_echo(const ParsedArgs& args) {
    if (args.positionals().size() != 1) {
        throw UsageError(args.positionals().empty() ? "missing PORT"
                                                    : "expected one PORT, got more arguments");
    }
    const auto port =
        static_cast<std::uint16_t>(parse_number("PORT", args.positionals()[0], 1, 65535));
    const auto max = args.number("max", 1, UINT64_MAX);
    const bool quiet = args.has("quiet");
    const DeviceOptions opts = device_options_from(args);
    auto node = Node::open(opts);
    Stack& stack = node->stack();

    auto sock = stack.udp_open();
    if (!sock) throw FatalError("udp socket: " + errc_text(sock.error()));
    if (auto b = stack.udp_bind(*sock, Endpoint{wire::Ipv4Addr{}, port}); !b) {
        throw FatalError("udp bind to port " + std::to_string(port) + ": " + errc_text(b.error()));
    }

    std::vector<std::byte> buf(65536);
    std::uint64_t echoed = 0;
    node->loop().add_after_poll([&] {
        for (;;) {
            auto r = stack.udp_recvfrom(*sock, buf);
            if (!r) {
                if (r.error() != std::errc::resource_unavailable_try_again) {
                    // a pending ICMP error is reported once; look again on the next iteration
                    std::cerr << "ustack udp-echo: receive: " << errc_text(r.error()) << "\n";
                    node->loop().request_poll();
                }
                break;
            }
            const auto sent = stack.udp_sendto(*sock, ByteSpan(buf.data(), r->size), r->from);
            if (!quiet) {
                std::cout << "udp-echo: " << r->size << " bytes from " << r->from.addr.to_string()
                          << ":" << r->from.port;
                if (!sent) std::cout << " (reply failed: " << errc_text(sent.error()) << ")";
                std::cout << std::endl;
            }
            node->loop().request_poll();
            if (max && ++echoed >= *max) {
                node->loop().stop();
                break;
            }
        }
    });
    std::cout << "ustack: udp-echo on port " << port << ", " << node->describe()
              << "; SIGINT or SIGTERM stops" << std::endl;
    node->run();
    node->print_stats_if_asked();
    return 0;
}

}  // namespace ustack::apps
