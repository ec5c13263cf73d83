// ustack nc: a netcat over the stack's TCP. `nc HOST PORT` connects, `nc -l PORT` accepts one
// connection; then stdin goes to the connection and the connection to stdout. At stdin's end
// our side is shut for writing (FIN); the command exits 0 once the peer's FIN has been read,
// everything of ours has been sent and our FIN acknowledged. A refused, timed-out or reset
// connection ends it with status 1 and a one-line message.
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <vector>

#include "apps/commands.hpp"
#include "apps/node.hpp"
#include "apps/tcp_report.hpp"

namespace ustack::apps {

namespace {

constexpr std::array kNcOptions{
    OptionSpec{"listen", 'l', "", "accept one connection on PORT instead of connecting"},
    OptionSpec{"fin-wait", 0, "SECONDS",
               "at the end, wait at most this long for our FIN to be acknowledged (default 5)"},
    OptionSpec{"verbose", 'v', "", "say on stderr when connected and when done"},
};

constexpr std::size_t kChunk = 64 * 1024;

bool is_again(std::errc e) {
    return e == std::errc::resource_unavailable_try_again;
}

// Writes all of `data` to fd, waiting with poll() if it is non-blocking.
bool write_all(int fd, const std::byte* data, std::size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, data, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                pollfd p{fd, POLLOUT, 0};
                (void)::poll(&p, 1, 1000);
                continue;
            }
            return false;
        }
        data += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

class NetCat {
  public:
    NetCat(Node& node, bool verbose, Duration fin_wait)
        : node_(node), stack_(node.stack()), verbose_(verbose), fin_wait_(fin_wait) {}

    // Both start from the first step(): the stack must have been polled, so that it knows the
    // time, before it sends a SYN.
    void connect_to(Endpoint remote) { remote_ = remote; }
    void listen_on(std::uint16_t port) { listen_port_ = port; }

    void start_connect(Endpoint remote) {
        auto s = stack_.tcp_connect(remote);
        if (!s) throw FatalError("connect to " + describe(remote) + ": " + errc_name(s.error()));
        sock_ = *s;
        target_ = describe(remote);
    }

    void start_listen(std::uint16_t port) {
        auto l = stack_.tcp_listen(Endpoint{wire::Ipv4Addr{}, port}, 1);
        if (!l)
            throw FatalError("listen on port " + std::to_string(port) + ": " +
                             errc_name(l.error()));
        listener_ = *l;
    }

    // Stdin: watched through epoll when it can be (pipe, tty, socket); a regular file or
    // /dev/null cannot be, and is then read whenever there is room.
    void watch_stdin() {
        auto r =
            node_.loop().add_fd(STDIN_FILENO, EPOLLIN, [this](std::uint32_t) { read_stdin(); });
        if (r) {
            stdin_watched_ = true;
            stdin_in_epoll_ = true;
        } else {
            stdin_always_ready_ = true;
        }
    }

    void step() {
        events_.clear();
        stack_.take_events(events_);  // drained; the state is looked at directly below
        if (done_) return;
        if (remote_) {
            start_connect(*remote_);
            remote_.reset();
        }
        if (listen_port_) {
            start_listen(*listen_port_);
            listen_port_.reset();
        }
        if (listener_) {
            Endpoint peer;
            auto s = stack_.tcp_accept(*listener_, &peer);
            if (!s) return;
            sock_ = *s;
            target_ = describe(peer);
            stack_.tcp_close(*listener_);  // one connection only
            listener_.reset();
        }
        if (!sock_) return;
        if (!connected_) {
            const std::uint32_t ev = stack_.tcp_poll(*sock_);
            if (ev & events::kError) {
                auto e = stack_.tcp_error(*sock_);
                fail(e && *e != std::errc{} ? *e : std::errc::connection_refused);
                return;
            }
            auto info = stack_.tcp_info(*sock_);
            if (!info) return fail(std::errc::connection_reset);
            if (info->state == tcp::State::kSynSent || info->state == tcp::State::kSynReceived)
                return;
            connected_ = true;
            if (verbose_) std::cerr << "ustack nc: connected to " << target_ << "\n";
        }
        // Connection -> stdout.
        while (!peer_eof_) {
            auto n = stack_.tcp_recv(*sock_, MutableByteSpan(buf_.data(), buf_.size()));
            if (!n) {
                if (is_again(n.error())) break;
                return fail(n.error());
            }
            if (*n == 0) {
                peer_eof_ = true;
                break;
            }
            if (!write_all(STDOUT_FILENO, buf_.data(), *n)) {
                std::cerr << "ustack nc: stdout: " << std::strerror(errno) << "\n";
                exit_code_ = 1;
                stack_.tcp_abort(*sock_);
                sock_.reset();
                done_ = true;
                node_.loop().stop();
                return;
            }
        }
        // Stdin -> connection.
        for (int round = 0; round < 64; ++round) {
            if (pending_off_ == pending_.size() && stdin_always_ready_ && !stdin_eof_) read_stdin();
            bool blocked = false;
            while (pending_off_ < pending_.size()) {
                auto n = stack_.tcp_send(*sock_, ByteSpan(pending_.data() + pending_off_,
                                                          pending_.size() - pending_off_));
                if (!n) {
                    if (is_again(n.error())) {
                        blocked = true;
                        break;
                    }
                    return fail(n.error());
                }
                pending_off_ += *n;
            }
            if (blocked) break;
            pending_.clear();
            pending_off_ = 0;
            if (stdin_eof_ || !stdin_always_ready_) break;
        }
        if (pending_off_ == pending_.size() && stdin_watched_ && !stdin_eof_ && !stdin_in_epoll_) {
            if (node_.loop().add_fd(STDIN_FILENO, EPOLLIN, [this](std::uint32_t) { read_stdin(); }))
                stdin_in_epoll_ = true;
        }
        if (stdin_eof_ && pending_off_ == pending_.size() && !shut_) {
            if (auto r = stack_.tcp_shutdown(*sock_, tcp::Shutdown::kWrite); !r)
                return fail(r.error());
            shut_ = true;
        }
        if (stdin_always_ready_ && !stdin_eof_ && pending_.empty()) node_.loop().request_poll();
        // Both directions finished: wait (bounded) for our FIN to be acknowledged.
        if (shut_ && peer_eof_) {
            if (fin_deadline_ == kNever) fin_deadline_ = node_.loop().now() + fin_wait_;
            auto info = stack_.tcp_info(*sock_);
            const bool acked =
                !info || info->state == tcp::State::kTimeWait || info->state == tcp::State::kClosed;
            if (acked || node_.loop().now() >= fin_deadline_) {
                if (!acked) std::cerr << "ustack nc: our FIN was not acknowledged in time\n";
                finish_ok();
            } else if (!timer_armed_) {
                timer_armed_ = true;
                node_.loop().add_timer(fin_deadline_, [this] { step(); });
            }
        }
    }

    void report(std::ostream& os) const {
        if (sock_) print_tcp_connection(os, stack_, *sock_);
    }

    int exit_code() const { return exit_code_; }
    bool done() const { return done_; }
    std::optional<SocketId> socket() const { return sock_; }

    // Releases the socket (after the final report).
    void close() {
        if (sock_) stack_.tcp_close(*sock_);
        sock_.reset();
        if (listener_) stack_.tcp_close(*listener_);
        listener_.reset();
    }

  private:
    static std::string describe(Endpoint e) {
        return e.addr.to_string() + ":" + std::to_string(e.port);
    }

    void read_stdin() {
        if (stdin_eof_ || pending_off_ < pending_.size()) {
            // Full: stop watching until what we hold is sent (level-triggered epoll would spin).
            if (stdin_in_epoll_) {
                node_.loop().remove_fd(STDIN_FILENO);
                stdin_in_epoll_ = false;
            }
            return;
        }
        pending_.resize(kChunk);
        pending_off_ = 0;
        ssize_t r;
        do {
            r = ::read(STDIN_FILENO, pending_.data(), pending_.size());
        } while (r < 0 && errno == EINTR);
        if (r < 0 && errno == EAGAIN) {
            pending_.clear();
            return;
        }
        if (r <= 0) {
            if (r < 0) std::cerr << "ustack nc: stdin: " << std::strerror(errno) << "\n";
            pending_.clear();
            stdin_eof_ = true;
            if (stdin_in_epoll_) {
                node_.loop().remove_fd(STDIN_FILENO);
                stdin_in_epoll_ = false;
            }
            return;
        }
        pending_.resize(static_cast<std::size_t>(r));
        if (stdin_in_epoll_) {
            node_.loop().remove_fd(STDIN_FILENO);
            stdin_in_epoll_ = false;
        }
    }

    void fail(std::errc e) {
        std::cerr << "ustack nc: " << (target_.empty() ? "" : target_ + ": ") << errc_name(e)
                  << "\n";
        exit_code_ = 1;
        done_ = true;
        node_.loop().stop();
    }

    void finish_ok() {
        if (verbose_) std::cerr << "ustack nc: done\n";
        done_ = true;
        node_.loop().stop();
    }

    Node& node_;
    Stack& stack_;
    bool verbose_;
    Duration fin_wait_;
    std::optional<Endpoint> remote_;
    std::optional<std::uint16_t> listen_port_;
    std::optional<SocketId> listener_, sock_;
    std::string target_;
    bool connected_ = false, peer_eof_ = false, stdin_eof_ = false, shut_ = false;
    bool stdin_watched_ = false, stdin_in_epoll_ = false, stdin_always_ready_ = false;
    bool done_ = false, timer_armed_ = false;
    int exit_code_ = 0;
    Instant fin_deadline_ = kNever;
    std::vector<std::byte> pending_;  // read from stdin, not yet taken by tcp_send
    std::size_t pending_off_ = 0;
    std::array<std::byte, kChunk> buf_{};
    std::vector<SocketEvent> events_;
};

}  // namespace

std::span<const OptionSpec> nc_option_specs() {
    return kNcOptions;
}

int run_nc(const ParsedArgs& args) {
    const bool listen = args.has("listen");
    const auto& pos = args.positionals();
    if (listen && pos.size() != 1) throw UsageError("nc -l wants one PORT");
    if (!listen && pos.size() != 2) throw UsageError("nc wants HOST PORT (or -l PORT)");
    const Duration fin_wait = args.seconds("fin-wait", 0s, 3600s).value_or(5s);
    const DeviceOptions opts = device_options_from(args);
    Endpoint remote;
    std::uint16_t port = 0;
    if (listen) {
        port = static_cast<std::uint16_t>(parse_number("PORT", pos[0], 1, 65535));
    } else {
        remote.addr = parse_ipv4("HOST", pos[0]);
        remote.port = static_cast<std::uint16_t>(parse_number("PORT", pos[1], 1, 65535));
    }
    auto node = Node::open(opts);
    node->set_report_stream(std::cerr);  // stdout carries the connection's bytes
    NetCat nc(*node, args.has("verbose"), fin_wait);
    node->set_extra_report([&nc](std::ostream& os) { nc.report(os); });
    if (listen) {
        nc.listen_on(port);
    } else {
        nc.connect_to(remote);
    }
    nc.watch_stdin();
    node->loop().add_after_poll([&nc] { nc.step(); });
    node->run();
    node->print_stats_if_asked();
    nc.close();
    return nc.done() ? nc.exit_code() : 130;
}

}  // namespace ustack::apps
