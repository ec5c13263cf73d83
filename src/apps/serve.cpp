// ustack serve: echo, discard, chargen and HTTP/1.1 file servers on the stack's TCP, any number
// of them at once, all connections non-blocking and driven by the stack's readiness events.
//
// Every connection is "pumped" when an event names it: it sends what it has pending until the
// send buffer refuses (EAGAIN; the kWritable event resumes it), reads until the receive buffer is
// empty, and produces more output. A peer's FIN ends it gracefully (tcp_close after the pending
// output is queued); a reset or any other error drops it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "apps/commands.hpp"
#include "apps/http.hpp"
#include "apps/node.hpp"
#include "apps/tcp_report.hpp"

namespace ustack::apps {

namespace {

constexpr std::array kServeOptions{
    OptionSpec{"echo", 0, "PORT", "send every byte received on PORT back (RFC 862)"},
    OptionSpec{"discard", 0, "PORT", "read and count everything received on PORT (RFC 863)"},
    OptionSpec{"chargen", 0, "PORT",
               "send RFC 864 character lines on PORT as fast as the peer reads"},
    OptionSpec{"http", 0, "PORT:DIR", "serve the files under DIR with HTTP/1.1 GET and HEAD"},
    OptionSpec{"quiet", 'q', "", "do not print a line per connection"},
};

constexpr std::size_t kChunk = 64 * 1024;  // bytes read or produced per step
constexpr std::uint32_t kBacklog = 1024;   // accept queue per listener

enum class Service : std::uint8_t { kEcho, kDiscard, kChargen, kHttp };

std::string_view service_name(Service s) {
    switch (s) {
        case Service::kEcho:
            return "echo";
        case Service::kDiscard:
            return "discard";
        case Service::kChargen:
            return "chargen";
        case Service::kHttp:
            return "http";
    }
    return "?";
}

struct Conn {
    SocketId sock = 0;
    Service service = Service::kEcho;
    Endpoint peer;
    std::vector<std::byte> out;  // produced, not yet taken by tcp_send
    std::size_t out_off = 0;
    bool peer_eof = false;
    std::uint64_t bytes_in = 0, bytes_out = 0;
    std::uint64_t chargen_line = 0;
    // HTTP: the request bytes not parsed yet, the body being skipped, the file being streamed.
    std::string in;
    std::uint64_t skip_body = 0;
    int file = -1;
    std::uint64_t file_off = 0, file_left = 0;
    bool close_after_response = false;
    std::uint64_t requests = 0;

    ~Conn() {
        if (file >= 0) ::close(file);
    }
    bool out_pending() const { return out_off < out.size(); }
    void queue(std::string_view s) {
        const auto* p = reinterpret_cast<const std::byte*>(s.data());
        out.insert(out.end(), p, p + s.size());
    }
};

struct ServeTotals {
    std::uint64_t accepted = 0, closed = 0, dropped = 0, bytes_in = 0, bytes_out = 0, requests = 0;
};

class Server {
  public:
    Server(Node& node, bool quiet, std::optional<http::DocRoot> root)
        : node_(node), stack_(node.stack()), quiet_(quiet), root_(std::move(root)) {}

    void listen(Service service, std::uint16_t port) {
        auto l = stack_.tcp_listen(Endpoint{wire::Ipv4Addr{}, port}, kBacklog,
                                   /*reuse_address=*/true);
        if (!l) {
            throw FatalError(std::string(service_name(service)) + ": listen on port " +
                             std::to_string(port) + ": " + errc_name(l.error()));
        }
        listeners_[*l] = service;
    }

    void on_events() {
        events_.clear();
        stack_.take_events(events_);
        for (const SocketEvent& ev : events_) {
            if (auto l = listeners_.find(ev.socket); l != listeners_.end()) {
                accept_all(ev.socket, l->second);
            } else if (auto c = conns_.find(ev.socket); c != conns_.end()) {
                pump(*c->second);
            }
        }
    }

    void report(std::ostream& os) const {
        os << "Serve:\n    Accepted: " << totals_.accepted << "\n    Closed: " << totals_.closed
           << "\n    Dropped: " << totals_.dropped << "\n    Open: " << conns_.size()
           << "\n    BytesIn: " << totals_.bytes_in << "\n    BytesOut: " << totals_.bytes_out
           << "\n    HttpRequests: " << totals_.requests << "\n";
        for (const auto& [sock, c] : conns_)
            print_tcp_connection(os, stack_, sock);
    }

    // Closes every listener and connection gracefully (SIGTERM).
    void close_all() {
        for (const auto& [sock, c] : conns_)
            stack_.tcp_close(sock);
        conns_.clear();
        for (const auto& [sock, s] : listeners_)
            stack_.tcp_close(sock);
        listeners_.clear();
    }

  private:
    void accept_all(SocketId listener, Service service) {
        for (;;) {
            Endpoint peer;
            auto s = stack_.tcp_accept(listener, &peer);
            if (!s) break;
            auto c = std::make_unique<Conn>();
            c->sock = *s;
            c->service = service;
            c->peer = peer;
            ++totals_.accepted;
            if (!quiet_) {
                std::cout << "serve: " << service_name(service) << " connection from "
                          << peer.addr.to_string() << ":" << peer.port << std::endl;
            }
            Conn& ref = *c;
            conns_[*s] = std::move(c);
            pump(ref);
        }
    }

    // Ends a connection: graceful close when `graceful`, otherwise it is dropped (reset).
    void finish(Conn& c, bool graceful, std::string_view why) {
        totals_.bytes_in += c.bytes_in;
        totals_.bytes_out += c.bytes_out;
        totals_.requests += c.requests;
        if (graceful) {
            ++totals_.closed;
            stack_.tcp_close(c.sock);
        } else {
            ++totals_.dropped;
            stack_.tcp_abort(c.sock);
        }
        if (!quiet_) {
            std::cout << "serve: " << service_name(c.service) << " " << c.peer.addr.to_string()
                      << ":" << c.peer.port << " " << (graceful ? "closed" : "dropped") << " ("
                      << why << "), " << c.bytes_in << " bytes in, " << c.bytes_out << " bytes out"
                      << std::endl;
        }
        conns_.erase(c.sock);  // destroys c
    }

    // Sends pending output. False on a connection error (c is gone then).
    bool flush(Conn& c, bool& blocked) {
        blocked = false;
        while (c.out_pending()) {
            auto n = stack_.tcp_send(c.sock,
                                     ByteSpan(c.out.data() + c.out_off, c.out.size() - c.out_off));
            if (!n) {
                if (n.error() == std::errc::resource_unavailable_try_again) {
                    blocked = true;
                    return true;
                }
                finish(c, false, errc_name(n.error()));
                return false;
            }
            c.out_off += *n;
            c.bytes_out += *n;
        }
        c.out.clear();
        c.out_off = 0;
        return true;
    }

    // Reads up to `buf.size()` bytes. Returns the count, 0 at EOF (sets peer_eof), nullopt when
    // nothing is there; on an error the connection is dropped and `gone` set.
    std::optional<std::size_t> read(Conn& c, MutableByteSpan buf, bool& gone) {
        auto n = stack_.tcp_recv(c.sock, buf);
        if (!n) {
            if (n.error() == std::errc::resource_unavailable_try_again) return std::nullopt;
            gone = true;
            finish(c, false, errc_name(n.error()));
            return std::nullopt;
        }
        if (*n == 0) c.peer_eof = true;
        c.bytes_in += *n;
        return *n;
    }

    void pump(Conn& c) {
        for (int round = 0; round < 4096; ++round) {
            bool blocked = false;
            if (!flush(c, blocked)) return;
            if (blocked && c.service != Service::kDiscard && c.service != Service::kChargen) {
                // Output is stuck; nothing more is read until kWritable says there is room, so
                // the peer is held back by our receive window.
                return;
            }
            bool gone = false;
            bool progress = false;
            switch (c.service) {
                case Service::kEcho:
                    progress = step_echo(c, gone);
                    break;
                case Service::kDiscard:
                    progress = step_discard(c, gone);
                    break;
                case Service::kChargen:
                    progress = step_chargen(c, blocked, gone);
                    break;
                case Service::kHttp:
                    progress = step_http(c, gone);
                    break;
            }
            if (gone) return;
            if (!progress) return;
        }
        node_.loop().request_poll();  // more to do: come back on the next iteration
    }

    bool step_echo(Conn& c, bool& gone) {
        if (c.peer_eof) {
            finish(c, true, "peer finished");
            gone = true;
            return false;
        }
        c.out.resize(kChunk);
        auto n = read(c, MutableByteSpan(c.out.data(), c.out.size()), gone);
        if (gone) return false;
        c.out.resize(n.value_or(0));
        c.out_off = 0;
        return n.has_value();
    }

    bool step_discard(Conn& c, bool& gone) {
        if (c.peer_eof) {
            finish(c, true, "peer finished");
            gone = true;
            return false;
        }
        auto n = read(c, MutableByteSpan(scratch_.data(), scratch_.size()), gone);
        return !gone && n.has_value();
    }

    bool step_chargen(Conn& c, bool blocked, bool& gone) {
        // Input is read and thrown away; the peer's FIN ends the stream.
        auto n = read(c, MutableByteSpan(scratch_.data(), scratch_.size()), gone);
        if (gone) return false;
        if (c.peer_eof) {
            finish(c, true, "peer finished");
            gone = true;
            return false;
        }
        if (blocked) return n.has_value();
        // RFC 864: 72-character lines of the 95 printable ASCII characters, each line starting
        // one character further along.
        // The 95 lines repeat: copy whole lines from one precomputed cycle.
        static const std::vector<std::byte> cycle = [] {
            std::vector<std::byte> v;
            v.reserve(95 * 74);
            for (unsigned first = 0; first < 95; ++first) {
                for (unsigned i = 0; i < 72; ++i)
                    v.push_back(static_cast<std::byte>(' ' + (first + i) % 95));
                v.push_back(std::byte{'\r'});
                v.push_back(std::byte{'\n'});
            }
            return v;
        }();
        const std::size_t lines = kChunk / 74;
        c.out.resize(lines * 74);
        c.out_off = 0;
        std::size_t at = static_cast<std::size_t>(c.chargen_line % 95) * 74;
        for (std::size_t done = 0; done < c.out.size();) {
            const std::size_t n = std::min(c.out.size() - done, cycle.size() - at);
            std::memcpy(c.out.data() + done, cycle.data() + at, n);
            done += n;
            at = (at + n) % cycle.size();
        }
        c.chargen_line += lines;
        return true;
    }

    bool step_http(Conn& c, bool& gone) {
        // 1. A file being streamed: the next chunk of it.
        if (c.file >= 0) {
            if (c.file_left == 0) {
                ::close(c.file);
                c.file = -1;
                return true;
            }
            const std::size_t want =
                static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, c.file_left));
            c.out.resize(want);
            c.out_off = 0;
            const ssize_t r = ::pread(c.file, c.out.data(), want, static_cast<off_t>(c.file_off));
            if (r <= 0) {
                // The file shrank or broke under us: the promised length cannot be kept.
                c.out.clear();
                finish(c, false,
                       r < 0 ? std::string("read: ") + std::strerror(errno)
                             : std::string("file truncated while sending"));
                gone = true;
                return false;
            }
            c.out.resize(static_cast<std::size_t>(r));
            c.file_off += static_cast<std::uint64_t>(r);
            c.file_left -= static_cast<std::uint64_t>(r);
            return true;
        }
        // 2. The response is complete: close if it said so.
        if (c.close_after_response) {
            finish(c, true, "Connection: close");
            gone = true;
            return false;
        }
        // 3. Read more request bytes (bounded), skipping a request body.
        bool read_any = false;
        while (!c.peer_eof && c.in.size() < http::kMaxHead) {
            auto n = read(c, MutableByteSpan(scratch_.data(), scratch_.size()), gone);
            if (gone) return false;
            if (!n || *n == 0) break;
            read_any = true;
            std::size_t off = 0;
            if (c.skip_body > 0) {
                off = static_cast<std::size_t>(std::min<std::uint64_t>(c.skip_body, *n));
                c.skip_body -= off;
            }
            c.in.append(reinterpret_cast<const char*>(scratch_.data()) + off, *n - off);
        }
        if (c.skip_body > 0 && !c.peer_eof) return read_any;
        // 4. The next request, if its head is complete.
        const http::ParseResult p = http::parse_request(c.in);
        if (p.status == http::ParseStatus::kIncomplete) {
            if (c.peer_eof) {
                finish(c, true, c.in.empty() ? "peer finished" : "peer finished mid-request");
                gone = true;
                return false;
            }
            return read_any;
        }
        ++c.requests;
        if (p.status == http::ParseStatus::kBad) {
            c.queue(http::response_head(400, 11, "text/plain; charset=utf-8", false));
            c.queue("bad request");
            c.close_after_response = true;
            c.in.clear();
            return true;
        }
        const http::Request& req = p.request;
        const std::uint64_t body_in_buffer =
            std::min<std::uint64_t>(req.content_length, c.in.size() - p.head_size);
        c.skip_body = req.content_length - body_in_buffer;
        c.in.erase(0, p.head_size + static_cast<std::size_t>(body_in_buffer));
        c.close_after_response = !req.keep_alive;
        const bool head_only = req.method == "HEAD";
        if (req.method != "GET" && !head_only) {
            c.queue(http::response_head(405, 18, "text/plain; charset=utf-8", req.keep_alive,
                                        "Allow: GET, HEAD\r\n"));
            c.queue("method not allowed");
            return true;
        }
        const auto path = root_->resolve(req.target);
        int fd = path ? ::open(path->c_str(), O_RDONLY | O_CLOEXEC) : -1;
        struct stat st {};
        if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
            ::close(fd);
            fd = -1;
        }
        if (fd < 0) {
            c.queue(http::response_head(404, 9, "text/plain; charset=utf-8", req.keep_alive));
            if (!head_only) c.queue("not found");
            return true;
        }
        const auto size = static_cast<std::uint64_t>(st.st_size);
        c.queue(http::response_head(200, size, http::content_type_for(*path), req.keep_alive));
        if (head_only) {
            ::close(fd);
        } else {
            c.file = fd;
            c.file_off = 0;
            c.file_left = size;
        }
        return true;
    }

    Node& node_;
    Stack& stack_;
    bool quiet_;
    std::optional<http::DocRoot> root_;
    std::map<SocketId, Service> listeners_;
    std::unordered_map<SocketId, std::unique_ptr<Conn>> conns_;
    std::vector<SocketEvent> events_;
    std::array<std::byte, kChunk> scratch_{};
    ServeTotals totals_;
};

std::uint16_t port_value(std::string_view what, std::string_view text) {
    return static_cast<std::uint16_t>(parse_number(what, text, 1, 65535));
}

}  // namespace

std::span<const OptionSpec> serve_option_specs() {
    return kServeOptions;
}

int run_serve(const ParsedArgs& args) {
    if (!args.positionals().empty()) {
        throw UsageError("unexpected argument '" + args.positionals().front() + "'");
    }
    std::vector<std::pair<Service, std::uint16_t>> services;
    if (auto v = args.value("echo"))
        services.emplace_back(Service::kEcho, port_value("--echo", *v));
    if (auto v = args.value("discard"))
        services.emplace_back(Service::kDiscard, port_value("--discard", *v));
    if (auto v = args.value("chargen"))
        services.emplace_back(Service::kChargen, port_value("--chargen", *v));
    std::optional<std::string> http_dir;
    if (auto v = args.value("http")) {
        const auto colon = v->find(':');
        if (colon == std::string::npos || colon + 1 == v->size())
            throw UsageError("--http wants PORT:DIR, got '" + *v + "'");
        services.emplace_back(Service::kHttp, port_value("--http", v->substr(0, colon)));
        http_dir = v->substr(colon + 1);
    }
    if (services.empty())
        throw UsageError("give at least one of --echo, --discard, --chargen, --http");
    for (std::size_t i = 0; i < services.size(); ++i) {
        for (std::size_t j = i + 1; j < services.size(); ++j) {
            if (services[i].second == services[j].second)
                throw UsageError("port " + std::to_string(services[i].second) + " given twice");
        }
    }
    std::optional<http::DocRoot> root;
    if (http_dir) root.emplace(*http_dir);

    const DeviceOptions opts = device_options_from(args);
    auto node = Node::open(opts);
    Server server(*node, args.has("quiet"), std::move(root));
    std::string what;
    for (const auto& [svc, port] : services) {
        server.listen(svc, port);
        what += (what.empty() ? "" : ", ") + std::string(service_name(svc)) + " on " +
                std::to_string(port);
    }
    node->loop().add_after_poll([&server] { server.on_events(); });
    node->set_extra_report([&server](std::ostream& os) { server.report(os); });
    std::cout << "ustack: serve " << what << ", " << node->describe() << "; SIGINT or SIGTERM stops"
              << std::endl;
    node->run();
    node->print_stats_if_asked();
    server.close_all();
    return 0;
}

}  // namespace ustack::apps
