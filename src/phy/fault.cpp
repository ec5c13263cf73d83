#include "phy/fault.hpp"

#include <algorithm>
#include <cstring>

namespace ustack::phy {

namespace {

constexpr std::size_t kEthernetHeader = 14;
// Frames pulled from the inner device per receive() call when ingress faults are on.
constexpr int kIngressPullBatch = 64;

std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

}  // namespace

Xoshiro256::Xoshiro256(std::uint64_t seed) {
    for (auto& s : s_)
        s = splitmix64(seed);
}

std::uint64_t Xoshiro256::next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

double Xoshiro256::uniform() {
    return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

std::uint64_t Xoshiro256::below(std::uint64_t n) {
    // Rejection sampling removes the modulo bias.
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t x;
    do {
        x = next();
    } while (x >= limit);
    return x % n;
}

bool Xoshiro256::chance(double p) {
    if (p <= 0) return false;
    return uniform() < p;
}

// ---------------------------------------------------------------------------------------------

FaultPipeline::FaultPipeline(const FaultConfig& config, LinkType link)
    : config_(config), link_(link), rng_(config.seed) {}

std::size_t FaultPipeline::l3_size(ByteSpan frame, const FrameMeta& meta) const {
    const std::size_t l2 = link_ == LinkType::kEthernet ? kEthernetHeader : 0;
    std::size_t size = frame.size();
    if (meta.gso != FrameMeta::Gso::kNone && meta.gso_size != 0)
        size = std::min<std::size_t>(size, std::size_t{meta.hdr_len} + meta.gso_size);
    return size > l2 ? size - l2 : 0;
}

std::optional<std::uint32_t> FaultPipeline::take_slot(ByteSpan frame, const FrameMeta& meta,
                                                      Instant now) {
    if (used_ >= config_.max_held_frames) return std::nullopt;
    std::uint32_t idx;
    if (!free_.empty()) {
        idx = free_.back();
        free_.pop_back();
    } else {
        idx = static_cast<std::uint32_t>(slots_.size());
        slots_.emplace_back();
    }
    Slot& s = slots_[idx];
    s.data.assign(frame.begin(), frame.end());  // reuses the slot's capacity
    s.meta = meta;
    s.arrived = now;
    ++used_;
    return idx;
}

void FaultPipeline::schedule(std::uint32_t slot, Instant due) {
    queue_.push(Scheduled{due, seq_++, slot});
    // Each frame scheduled overtakes the frames held back; those it was the last to pass follow
    // right behind it.
    for (auto it = held_back_.begin(); it != held_back_.end();) {
        if (--it->overtakes_left == 0) {
            queue_.push(Scheduled{due, seq_++, it->slot});
            it = held_back_.erase(it);
        } else {
            ++it;
        }
    }
}

void FaultPipeline::release_expired(Instant now) {
    for (auto it = held_back_.begin(); it != held_back_.end();) {
        if (it->release_at <= now) {
            queue_.push(Scheduled{it->release_at, seq_++, it->slot});
            it = held_back_.erase(it);
        } else {
            ++it;
        }
    }
}

void FaultPipeline::submit(ByteSpan frame, const FrameMeta& meta, Instant now) {
    if (last_popped_ != UINT32_MAX) {
        free_.push_back(last_popped_);
        --used_;
        last_popped_ = UINT32_MAX;
    }
    ++counters_.frames_in;
    if (config_.mtu && l3_size(frame, meta) > *config_.mtu) {
        ++counters_.mtu_dropped;
        return;
    }
    if (rng_.chance(config_.loss)) {
        ++counters_.lost;
        return;
    }
    const bool corrupt = rng_.chance(config_.corrupt) && !frame.empty();
    const int copies = rng_.chance(config_.duplicate) ? 2 : 1;
    if (copies == 2) ++counters_.duplicated;

    for (int copy = 0; copy < copies; ++copy) {
        auto slot = take_slot(frame, meta, now);
        if (!slot) {
            ++counters_.held_dropped;
            continue;
        }
        Slot& s = slots_[*slot];
        if (copy == 0 && corrupt) {
            const std::uint64_t bit = rng_.below(s.data.size() * 8);
            s.data[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
            ++counters_.corrupted;
        }

        Instant due = now;
        if (config_.rate_bps != 0) {
            const Instant backlog = std::max(link_free_at_ - now, Duration{0});
            const double backlog_bytes =
                static_cast<double>(backlog.count()) * static_cast<double>(config_.rate_bps) / 8e9;
            if (backlog_bytes + static_cast<double>(s.data.size()) >
                static_cast<double>(config_.queue_limit_bytes)) {
                ++counters_.rate_dropped;
                free_.push_back(*slot);
                --used_;
                continue;
            }
            const std::uint64_t bits = s.data.size() * 8;
            const auto tx_ns = static_cast<std::int64_t>(
                (bits * 1'000'000'000ull + config_.rate_bps - 1) / config_.rate_bps);
            link_free_at_ = std::max(link_free_at_, now) + Duration{tx_ns};
            due = link_free_at_;
        }
        due += config_.delay;
        if (config_.jitter.count() > 0)
            due += Duration{static_cast<std::int64_t>(
                rng_.below(static_cast<std::uint64_t>(config_.jitter.count()) + 1))};
        if (!config_.jitter_reorders) {
            due = std::max(due, last_due_);
            last_due_ = due;
        }
        if (config_.reorder_distance > 0 && rng_.chance(config_.reorder)) {
            ++counters_.reordered;
            const auto passes =
                static_cast<std::uint32_t>(1 + rng_.below(config_.reorder_distance));
            held_back_.push_back(HeldBack{*slot, passes, due + config_.reorder_max_hold});
            continue;
        }
        schedule(*slot, due);
    }
}

std::optional<FaultPipeline::Due> FaultPipeline::pop_due(Instant now) {
    if (last_popped_ != UINT32_MAX) {
        free_.push_back(last_popped_);
        --used_;
        last_popped_ = UINT32_MAX;
    }
    release_expired(now);
    if (queue_.empty() || queue_.top().due > now) return std::nullopt;
    const Scheduled top = queue_.top();
    queue_.pop();
    last_popped_ = top.slot;
    const Slot& s = slots_[top.slot];
    ++counters_.delivered;
    if (top.due > s.arrived) ++counters_.delayed;
    return Due{ByteSpan(s.data), s.meta};
}

bool FaultPipeline::has_due(Instant now) const {
    return next_deadline() <= now;
}

Instant FaultPipeline::next_deadline() const {
    Instant next = queue_.empty() ? kNever : queue_.top().due;
    for (const auto& h : held_back_)
        next = std::min(next, h.release_at);
    return next;
}

// ---------------------------------------------------------------------------------------------

FaultDevice::FaultDevice(std::unique_ptr<Device> inner, const FaultConfig& egress,
                         std::optional<FaultConfig> ingress)
    : inner_(std::move(inner)), egress_(egress, inner_->caps().link) {
    if (ingress) {
        ingress_.emplace(*ingress, inner_->caps().link);
        scratch_.resize(inner_->caps().max_frame);
    }
}

DeviceResult<void> FaultDevice::flush_egress(Instant now) {
    while (auto due = egress_.pop_due(now)) {
        auto r = inner_->send(due->frame, due->meta, now);
        if (!r) return r;
    }
    return {};
}

DeviceResult<void> FaultDevice::send(ByteSpan frame, const FrameMeta& meta, Instant now) {
    ++counters_.tx_frames;
    counters_.tx_bytes += frame.size();
    if (auto r = flush_egress(now); !r) return r;
    egress_.submit(frame, meta, now);
    return flush_egress(now);
}

DeviceResult<std::size_t> FaultDevice::receive(MutableByteSpan buf, FrameMeta& meta, Instant now) {
    if (auto r = flush_egress(now); !r) return unexpected(r.error());
    if (!ingress_) {
        auto r = inner_->receive(buf, meta, now);
        if (r && *r > 0) {
            ++counters_.rx_frames;
            counters_.rx_bytes += *r;
        }
        return r;
    }
    for (int i = 0; i < kIngressPullBatch; ++i) {
        FrameMeta m;
        auto r = inner_->receive(scratch_, m, now);
        if (!r) return r;
        if (*r == 0) break;
        ingress_->submit(ByteSpan(scratch_).first(*r), m, now);
    }
    auto due = ingress_->pop_due(now);
    if (!due) return std::size_t{0};
    if (due->frame.size() > buf.size()) {
        ++counters_.rx_dropped_too_big;
        return std::size_t{0};
    }
    std::memcpy(buf.data(), due->frame.data(), due->frame.size());
    meta = due->meta;
    ++counters_.rx_frames;
    counters_.rx_bytes += due->frame.size();
    return due->frame.size();
}

bool FaultDevice::has_pending(Instant now) const {
    return inner_->has_pending(now) || egress_.has_due(now) || (ingress_ && ingress_->has_due(now));
}

Instant FaultDevice::next_deadline() const {
    Instant next = std::min(inner_->next_deadline(), egress_.next_deadline());
    if (ingress_) next = std::min(next, ingress_->next_deadline());
    return next;
}

}  // namespace ustack::phy
