// NewReno loss recovery: fast retransmit on the third duplicate ACK (RFC 5681 3.2), partial
// ACKs retransmit the next hole without leaving recovery (RFC 6582 3.2), and only data sent
// after the last recovery or timeout can start a new one.
#include "tcp/recovery.hpp"

namespace ustack::tcp {

namespace {

class NewRenoRecovery final : public LossRecovery {
  public:
    std::string_view name() const override { return "newreno"; }

    RecoveryAction on_ack(const AckEvent& e, CongestionControl& cc, Instant now) override {
        if (e.acked > 0) {
            if (!in_recovery_) {
                dupacks_ = 0;
                cc.on_ack(e.data_acked, e.flight_before, now);
                return RecoveryAction::kNone;
            }
            if (e.ack >= recover_) {
                // RFC 6582 3.2 step 3: a full acknowledgment ends recovery.
                in_recovery_ = false;
                inflation_ = 0;
                dupacks_ = 0;
                cc.on_exit_recovery(e.flight_after);
                return RecoveryAction::kNone;
            }
            // Step 4: a partial ACK retransmits the next hole and deflates by what it
            // acknowledged, less one segment that may go out.
            inflation_ = (inflation_ > e.acked ? inflation_ - e.acked : 0u) + e.mss;
            return RecoveryAction::kRetransmitFirst;
        }
        if (!e.duplicate) return RecoveryAction::kNone;
        ++dupacks_;
        if (in_recovery_) {
            inflation_ += e.mss;  // RFC 5681 3.2 step 4: each further dupack lets one out
            return RecoveryAction::kNone;
        }
        // RFC 6582 3.2 step 2: only data sent after the last recovery or timeout starts a new
        // one. Before any, every loss qualifies ("recover" starts at the ISS): compared with a
        // default of 0 instead, half of all random ISSs would never fast retransmit.
        if (dupacks_ == 3 && (!recover_set_ || e.snd_una_before >= recover_)) {
            // RFC 5681 3.2 steps 2-3 / RFC 6582 3.2 step 2: fast retransmit, enter recovery.
            in_recovery_ = true;
            recover_ = e.snd_max;
            recover_set_ = true;
            inflation_ = 0;
            cc.on_enter_recovery(e.flight_before);
            return RecoveryAction::kFastRetransmit;
        }
        return RecoveryAction::kNone;
    }

    void on_timeout(SeqNum snd_max) override {
        in_recovery_ = false;
        inflation_ = 0;
        dupacks_ = 0;
        recover_ = snd_max;
        recover_set_ = true;
    }

    std::uint32_t window_extension() const override { return inflation_; }
    bool in_recovery() const override { return in_recovery_; }

  private:
    std::uint32_t dupacks_ = 0;
    bool in_recovery_ = false;
    SeqNum recover_;
    bool recover_set_ = false;
    std::uint32_t inflation_ = 0;
};

}  // namespace

std::unique_ptr<LossRecovery> make_newreno_recovery() {
    return std::make_unique<NewRenoRecovery>();
}

}  // namespace ustack::tcp
