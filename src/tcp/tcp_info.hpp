// What the socket API shows of a TCP connection: its state and a tcp_info-like snapshot.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/time.hpp"
#include "wire/addr.hpp"

namespace ustack::tcp {

enum class State : std::uint8_t {
    kClosed,
    kListen,
    kSynSent,
    kSynReceived,
    kEstablished,
    kFinWait1,
    kFinWait2,
    kCloseWait,
    kClosing,
    kLastAck,
    kTimeWait,
};

std::string_view to_string(State s);

struct TcpEndpoint {
    wire::Ipv4Addr addr;
    std::uint16_t port = 0;
};

// A snapshot like Linux's tcp_info / `ss -ti`.
struct TcpInfo {
    State state = State::kClosed;
    std::uint32_t cwnd = 0, ssthresh = 0;  // bytes
    Duration srtt{}, rttvar{}, rto{}, min_rtt{};
    std::uint32_t snd_mss = 0, rcv_mss = 0;
    std::uint32_t adv_mss = 0;                     // the MSS we offered
    std::uint32_t rcv_buffer = 0, snd_buffer = 0;  // capacities
    std::uint32_t snd_wnd = 0, rcv_wnd = 0;
    std::uint32_t bytes_in_flight = 0;
    std::uint32_t retransmits = 0, total_retrans = 0;
    std::uint32_t unread = 0, unsent = 0, ooo_bytes = 0;
    std::uint8_t snd_wscale = 0, rcv_wscale = 0;
    bool timestamps = false, sack = false, window_scale = false, in_recovery = false;
    bool syn_data_acked = false;  // a Fast Open SYN's data was acknowledged by the SYN-ACK
    std::uint64_t segs_in = 0, segs_out = 0, bytes_acked = 0, bytes_received = 0;
    std::uint64_t bytes_sent = 0, bytes_retrans = 0;
    TcpEndpoint local, remote;
};

enum class Shutdown : std::uint8_t { kRead, kWrite, kBoth };

}  // namespace ustack::tcp
