// One-line reports of TCP connections, like `ss -ti`: what --stats prints for the connections a
// subcommand holds, at exit and on SIGUSR1.
#pragma once

#include <ostream>
#include <string>

#include "stack/stack.hpp"

namespace ustack::apps {

// "tcp 10.77.0.2:80 10.77.0.1:40312 ESTABLISHED cwnd 14480 ssthresh 2147483647 srtt 0.21ms
// rttvar 0.08ms rto 200ms inflight 2896 retrans 0/0 sent 1048576 rcvd 78"; a socket the stack
// no longer knows prints as "tcp socket N: gone".
void print_tcp_connection(std::ostream& os, const Stack& stack, SocketId socket);

// "ECONNREFUSED (Connection refused)"-style text for an errno meaning.
std::string errc_name(std::errc e);

}  // namespace ustack::apps
