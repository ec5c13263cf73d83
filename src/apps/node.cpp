#include "apps/node.hpp"

#include <sys/random.h>

#include <chrono>

#include <signal.h>
#include <sys/epoll.h>

#include <array>
#include <iostream>

namespace ustack::apps {

namespace {

std::uint64_t random_seed() {
    std::uint64_t seed = 0;
    if (::getrandom(&seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed))
        seed =
            static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    return seed;
}

constexpr std::array kDeviceOptions{
    OptionSpec{"tun", 0, "NAME", "run on TUN device NAME (IP packets; created if absent)"},
    OptionSpec{"tap", 0, "NAME", "run on TAP device NAME (Ethernet frames; created if absent)"},
    OptionSpec{"addr", 0, "A.B.C.D/N", "the stack's address and on-link prefix (required)"},
    OptionSpec{"gateway", 0, "A.B.C.D", "default gateway for destinations off the prefix"},
    OptionSpec{"host-addr", 0, "A.B.C.D/N",
               "also give the kernel's side of the device this address and bring it up"},
    OptionSpec{"mtu", 0, "N", "MTU of the device and the stack (default: the device's, 1500)"},
    OptionSpec{"pcap", 0, "FILE", "capture every frame in and out to FILE (pcap format)"},
    OptionSpec{"no-offload", 0, "", "do not ask the kernel for checksum/segmentation offload"},
    OptionSpec{"stats", 0, "", "print the stack's counters at exit and on SIGUSR1"},
};

}  // namespace

std::span<const OptionSpec> device_option_specs() {
    return kDeviceOptions;
}

DeviceOptions device_options_from(const ParsedArgs& args) {
    DeviceOptions o;
    const auto tun = args.value("tun");
    const auto tap = args.value("tap");
    if (tun && tap) throw UsageError("give either --tun or --tap, not both");
    if (!tun && !tap) throw UsageError("missing --tun NAME or --tap NAME");
    o.kind = tun ? DeviceOptions::Kind::kTun : DeviceOptions::Kind::kTap;
    o.name = tun ? *tun : *tap;
    // IFNAMSIZ is 16 including the terminating NUL.
    if (o.name.empty() || o.name.size() > 15 || o.name.find('/') != std::string::npos ||
        o.name.find(' ') != std::string::npos) {
        throw UsageError("device name '" + o.name + "' is not a valid interface name (1-15 " +
                         "characters, no '/' or spaces)");
    }
    const auto addr = args.cidr("addr");
    if (!addr) throw UsageError("missing --addr A.B.C.D/N (the stack's address)");
    o.addr = *addr;
    if (o.addr.addr.is_unspecified() || o.addr.addr.is_multicast() || o.addr.addr.is_broadcast() ||
        o.addr.addr.is_loopback()) {
        throw UsageError("--addr: " + o.addr.addr.to_string() + " cannot be a host's address");
    }
    o.gateway = args.ipv4("gateway");
    if (o.gateway && !o.addr.contains(*o.gateway)) {
        throw UsageError("--gateway: " + o.gateway->to_string() + " is not on " +
                         o.addr.to_string());
    }
    o.host_addr = args.cidr("host-addr");
    if (o.host_addr && o.host_addr->addr == o.addr.addr) {
        throw UsageError("--host-addr: the kernel side needs an address other than the stack's");
    }
    if (auto mtu = args.number("mtu", 576, 65535)) o.mtu = static_cast<std::uint32_t>(*mtu);
    o.pcap = args.value("pcap");
    o.offload = !args.has("no-offload");
    o.stats = args.has("stats");
    return o;
}

std::unique_ptr<Node> Node::open(const DeviceOptions& opts) {
    std::unique_ptr<Node> n(new Node());
    n->opts_ = opts;
    n->device_ = open_os_device(opts);
    if (opts.pcap) n->device_ = wrap_pcap(std::move(n->device_), *opts.pcap);
    phy::Device* dev = n->device_.get();
    StackConfig cfg;
    cfg.seed = random_seed();  // ports, IP ids, ISN keys differ from run to run
    n->stack_ = std::make_unique<Stack>(cfg);
    n->ifc_ = n->stack_->add_interface(*dev, InterfaceConfig{opts.addr, std::nullopt, opts.mtu});
    if (opts.gateway) n->stack_->set_default_gateway(*opts.gateway, n->ifc_);

    auto loop = runtime::EventLoop::create(n->clock_, runtime::drive(*n->stack_));
    if (!loop) throw FatalError(loop.error().what);
    n->loop_ = std::move(loop).value();
    if (auto r = n->loop_->add_device(*dev); !r) throw FatalError(r.error().what);

    auto sig = runtime::SignalFd::open({SIGINT, SIGTERM, SIGUSR1});
    if (!sig) throw FatalError(sig.error().what);
    n->signals_.emplace(std::move(sig).value());
    Node* self = n.get();
    auto r = n->loop_->add_fd(n->signals_->fd(), EPOLLIN, [self](std::uint32_t) {
        while (auto s = self->signals_->take()) {
            if (*s == SIGUSR1) {
                self->stack_->print_counters(*self->report_os_);
                if (self->extra_report_) self->extra_report_(*self->report_os_);
                self->report_os_->flush();
            } else {
                self->loop_->stop();
            }
        }
    });
    if (!r) throw FatalError(r.error().what);
    return n;
}

Node::~Node() = default;

std::string Node::describe() const {
    const bool tap = opts_.kind == DeviceOptions::Kind::kTap;
    std::string s =
        std::string(tap ? "tap " : "tun ") + opts_.name + " addr " + opts_.addr.to_string();
    if (tap) s += " mac " + stack_->interface_mac(ifc_).to_string();
    s += " mtu " + std::to_string(opts_.mtu.value_or(device_->caps().mtu));
    if (opts_.gateway) s += " gateway " + opts_.gateway->to_string();
    if (opts_.host_addr) s += " host-addr " + opts_.host_addr->to_string();
    if (opts_.pcap) s += " pcap " + *opts_.pcap;
    return s;
}

void Node::run() {
    if (auto r = loop_->run(); !r) throw FatalError(r.error().what);
}

void Node::print_stats_if_asked() const {
    if (!opts_.stats) return;
    stack_->print_counters(*report_os_);
    if (extra_report_) extra_report_(*report_os_);
    report_os_->flush();
}

}  // namespace ustack::apps
