// Loss recovery behind one interface, chosen per connection like congestion control. The
// sender tells it what each ACK did; it decides when to retransmit and how far the window
// stretches meanwhile, and tells the congestion controller about recovery and timeouts.
// NewReno (RFC 5681 3.2 fast retransmit, RFC 6582 partial ACKs) is the first; SACK-based
// recovery (RFC 6675) plugs in here later.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "tcp/congestion.hpp"
#include "tcp/seq.hpp"

namespace ustack::tcp {

// What one acceptable ACK did, as the sender saw it.
struct AckEvent {
    SeqNum ack;                       // SEG.ACK
    SeqNum snd_una_before;            // SND.UNA before this ACK
    SeqNum snd_max;                   // highest sequence number sent + 1
    std::uint32_t acked = 0;          // sequence space newly acknowledged
    std::uint32_t data_acked = 0;     // data bytes among them
    std::uint32_t flight_before = 0;  // bytes outstanding before this ACK
    std::uint32_t flight_after = 0;   // and after it
    bool duplicate = false;           // RFC 5681 2 duplicate ACK
    std::uint32_t mss = 0;
};

enum class RecoveryAction : std::uint8_t { kNone, kRetransmitFirst, kFastRetransmit };

class LossRecovery {
  public:
    virtual ~LossRecovery() = default;
    virtual std::string_view name() const = 0;
    virtual RecoveryAction on_ack(const AckEvent& e, CongestionControl& cc, Instant now) = 0;
    // A retransmission timeout: recovery is abandoned; nothing sent before now may trigger a
    // fast retransmit (RFC 6582 4).
    virtual void on_timeout(SeqNum snd_max) = 0;
    // Bytes the window may stretch beyond cwnd during recovery (duplicate-ACK inflation).
    virtual std::uint32_t window_extension() const = 0;
    virtual bool in_recovery() const = 0;
};

std::unique_ptr<LossRecovery> make_newreno_recovery();

}  // namespace ustack::tcp
