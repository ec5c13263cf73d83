#include "net/reassembly.hpp"

#include <algorithm>
#include <cstring>

#include "common/bytes.hpp"
#include "wire/checksum.hpp"

namespace ustack::net {

void Reassembler::discard(std::unordered_map<Key, Datagram, KeyHash>::iterator it) {
    bytes_held_ -= it->second.charged;
    table_.erase(it);
}

bool Reassembler::add(const wire::Ipv4Packet& frag, ByteSpan raw_header, Instant now,
                      Complete& out) {
    const auto& h = frag.header;
    ++counters_.reasm_reqds;
    const std::uint32_t begin = h.frag_offset_bytes();
    const auto len = static_cast<std::uint32_t>(frag.payload.size());
    const std::uint32_t end = begin + len;
    // RFC 791: every fragment but the last carries a multiple of 8 bytes; nothing may reach past
    // 65535 bytes of datagram (the "ping of death").
    if ((h.more_fragments && (len == 0 || len % 8 != 0)) || end + h.header_len > 65535) {
        ++counters_.reasm_fails;
        ++counters_.in_hdr_errors;
        return false;
    }
    Key k{h.src.value, h.dst.value, h.id, h.protocol};
    auto it = table_.find(k);
    if (it == table_.end()) {
        if (table_.size() >= cfg_.reassembly_max_datagrams) {
            ++counters_.reasm_overflows;
            ++counters_.reasm_fails;
            return false;
        }
        it = table_.emplace(k, Datagram{}).first;
        it->second.deadline = now + cfg_.reassembly_timeout;
    }
    Datagram& d = it->second;
    // Overlap with anything held, or a second "last" fragment that disagrees: discard all.
    bool bad = std::any_of(d.ranges.begin(), d.ranges.end(),
                           [&](const Range& r) { return begin < r.end && r.begin < end; });
    if (!h.more_fragments && d.have_last && d.total != end) bad = true;
    if (d.have_last && end > d.total) bad = true;
    if (!h.more_fragments && !d.ranges.empty() && d.ranges.back().end > end) bad = true;
    if (bad) {
        ++counters_.reasm_overlaps;
        ++counters_.reasm_fails;
        discard(it);
        return false;
    }
    std::size_t grow = end > d.payload.size() ? end - d.payload.size() : 0;
    std::size_t extra_header = (begin == 0) ? raw_header.size() : 0;
    if (bytes_held_ + grow + extra_header > cfg_.reassembly_max_bytes) {
        ++counters_.reasm_overflows;
        ++counters_.reasm_fails;
        discard(it);
        return false;
    }
    if (grow) d.payload.resize(end);
    if (len) std::memcpy(d.payload.data() + begin, frag.payload.data(), len);
    if (begin == 0) d.header.assign(raw_header.begin(), raw_header.end());
    d.charged += grow + extra_header;
    bytes_held_ += grow + extra_header;
    if (!h.more_fragments) {
        d.have_last = true;
        d.total = end;
    }
    auto pos = std::lower_bound(d.ranges.begin(), d.ranges.end(), begin,
                                [](const Range& r, std::uint32_t b) { return r.begin < b; });
    d.ranges.insert(pos, Range{begin, end});
    // Merge touching ranges so that completion is one range [0, total).
    std::vector<Range> merged;
    merged.reserve(d.ranges.size());
    for (const auto& r : d.ranges) {
        if (!merged.empty() && merged.back().end == r.begin)
            merged.back().end = r.end;
        else
            merged.push_back(r);
    }
    d.ranges = std::move(merged);
    if (!d.have_last || d.header.empty() || d.ranges.size() != 1 || d.ranges[0].begin != 0 ||
        d.ranges[0].end != d.total)
        return false;
    // Complete: first fragment's header with MF and offset cleared, total length fixed.
    out.packet.resize(d.header.size() + d.total);
    std::memcpy(out.packet.data(), d.header.data(), d.header.size());
    std::memcpy(out.packet.data() + d.header.size(), d.payload.data(), d.total);
    std::byte* p = out.packet.data();
    const std::size_t hlen = d.header.size();
    store_be16(p + 2, static_cast<std::uint16_t>(out.packet.size()));
    store_be16(p + 6, static_cast<std::uint16_t>(load_be16(p + 6) & 0xc000));  // keep RF, DF
    store_be16(p + 10, 0);
    store_be16(p + 10, wire::internet_checksum(ByteSpan{p, hlen}));
    ++counters_.reasm_oks;
    discard(it);
    return true;
}

void Reassembler::on_timer(Instant now, std::vector<std::vector<std::byte>>& expired_first) {
    for (auto it = table_.begin(); it != table_.end();) {
        if (now < it->second.deadline) {
            ++it;
            continue;
        }
        ++counters_.reasm_timeout;
        ++counters_.reasm_fails;
        Datagram& d = it->second;
        // RFC 792 / RFC 1122 3.3.2: time exceeded (code 1) only if fragment zero arrived.
        if (!d.header.empty() && !d.ranges.empty() && d.ranges[0].begin == 0) {
            std::vector<std::byte> q(d.header);
            std::size_t n = std::min<std::size_t>(8, d.ranges[0].end);
            q.insert(q.end(), d.payload.begin(), d.payload.begin() + static_cast<long>(n));
            expired_first.push_back(std::move(q));
        }
        auto next = std::next(it);
        discard(it);
        it = next;
    }
}

Instant Reassembler::next_deadline() const {
    Instant d = kNever;
    for (const auto& [k, v] : table_)
        d = std::min(d, v.deadline);
    return d;
}

}  // namespace ustack::net
