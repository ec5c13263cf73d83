#include "apps/tcp_report.hpp"

#include <cerrno>
#include <cstdio>
#include <system_error>

namespace ustack::apps {

namespace {

std::string millis(Duration d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3fms", static_cast<double>(d.count()) / 1e6);
    return buf;
}

std::string endpoint(const tcp::TcpEndpoint& e) {
    return e.addr.to_string() + ":" + std::to_string(e.port);
}

}  // namespace

void print_tcp_connection(std::ostream& os, const Stack& stack, SocketId socket) {
    const auto info = stack.tcp_info(socket);
    if (!info) {
        os << "tcp socket " << socket << ": gone\n";
        return;
    }
    const tcp::TcpInfo& i = *info;
    os << "tcp " << endpoint(i.local) << " " << endpoint(i.remote) << " " << tcp::to_string(i.state)
       << " cwnd " << i.cwnd << " ssthresh " << i.ssthresh << " srtt " << millis(i.srtt)
       << " rttvar " << millis(i.rttvar) << " rto " << millis(i.rto) << " mss " << i.snd_mss
       << " inflight " << i.bytes_in_flight << " retrans " << i.retransmits << "/"
       << i.total_retrans << " sent " << i.bytes_sent << " acked " << i.bytes_acked << " rcvd "
       << i.bytes_received << " unsent " << i.unsent << " unread " << i.unread << "\n";
}

std::string errc_name(std::errc e) {
    const int v = static_cast<int>(e);
    std::string name;
    switch (v) {
        case ECONNREFUSED:
            name = "ECONNREFUSED";
            break;
        case ECONNRESET:
            name = "ECONNRESET";
            break;
        case ETIMEDOUT:
            name = "ETIMEDOUT";
            break;
        case EPIPE:
            name = "EPIPE";
            break;
        case EHOSTUNREACH:
            name = "EHOSTUNREACH";
            break;
        case ENETUNREACH:
            name = "ENETUNREACH";
            break;
        case EADDRINUSE:
            name = "EADDRINUSE";
            break;
        case ENOTCONN:
            name = "ENOTCONN";
            break;
        default:
            name = "errno " + std::to_string(v);
            break;
    }
    return name + " (" + std::make_error_code(e).message() + ")";
}

}  // namespace ustack::apps
