// Node: what every device subcommand sets up from the shared options — a device (TUN or TAP,
// optionally wrapped for pcap capture), a Stack with one interface on it, a real clock, an
// event loop, and signal handling (SIGINT/SIGTERM stop the loop, SIGUSR1 prints counters).
#pragma once

#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>

#include "apps/args.hpp"
#include "phy/device.hpp"
#include "runtime/clock.hpp"
#include "runtime/event_loop.hpp"
#include "runtime/signals.hpp"
#include "stack/stack.hpp"

namespace ustack::apps {

struct DeviceOptions {
    enum class Kind : std::uint8_t { kTun, kTap } kind = Kind::kTun;
    std::string name;
    wire::Ipv4Cidr addr;
    std::optional<wire::Ipv4Addr> gateway;
    std::optional<wire::Ipv4Cidr> host_addr;
    std::optional<std::uint32_t> mtu;
    std::optional<std::string> pcap;
    bool offload = true;
    bool stats = false;
};

// The options every device subcommand accepts.
std::span<const OptionSpec> device_option_specs();
// Validates them (a missing --tun/--tap or --addr is a UsageError).
DeviceOptions device_options_from(const ParsedArgs& args);

// Wraps `inner` so that every frame in and out is also written to a pcap file that tshark and
// Wireshark open. Throws FatalError when the file cannot be created.
std::unique_ptr<phy::Device> wrap_pcap(std::unique_ptr<phy::Device> inner, const std::string& path);

// Opens (creating if absent) the TUN or TAP device, and when opts.host_addr is set gives the
// kernel side that address, the MTU, and brings it up. Throws FatalError.
std::unique_ptr<phy::Device> open_os_device(const DeviceOptions& opts);

class Node {
  public:
    // Opens the device, configures the kernel side when asked, builds the stack and the loop.
    // Throws FatalError with a one-line reason.
    static std::unique_ptr<Node> open(const DeviceOptions& opts);
    ~Node();
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    Stack& stack() { return *stack_; }
    runtime::EventLoop& loop() { return *loop_; }
    InterfaceId interface() const { return ifc_; }
    const DeviceOptions& options() const { return opts_; }
    std::string describe() const;  // "tun ustack0 addr 10.77.0.2/24 mtu 1500"

    // Runs the loop until SIGINT/SIGTERM or loop().stop(). Throws FatalError if it breaks.
    void run();
    // Prints counters (when --stats was given), then the extra report.
    void print_stats_if_asked() const;
    // What the subcommand adds to the counters at exit and on SIGUSR1 (its TCP connections).
    void set_extra_report(std::function<void(std::ostream&)> report) {
        extra_report_ = std::move(report);
    }
    // Where counters and reports go (default std::cout).
    void set_report_stream(std::ostream& os) { report_os_ = &os; }

  private:
    Node() = default;

    DeviceOptions opts_;
    runtime::MonotonicClock clock_ = runtime::MonotonicClock::anchored_to_wall_clock();
    std::unique_ptr<phy::Device> device_;  // TUN or TAP, inside a pcap wrapper when asked
    std::unique_ptr<Stack> stack_;
    InterfaceId ifc_ = 0;
    std::unique_ptr<runtime::EventLoop> loop_;
    std::optional<runtime::SignalFd> signals_;
    std::function<void(std::ostream&)> extra_report_;
    std::ostream* report_os_ = &std::cout;
};

}  // namespace ustack::apps
