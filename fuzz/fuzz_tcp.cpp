// Fuzzes parse_tcp and parse_tcp_options. Input: 8 bytes of source and destination address,
// then the segment. Invariants:
//  - options: o1 = parse(build(o)) succeeds and keeps every known option of o (SACK blocks may
//    only be dropped from the end, and only when no more fit), and parse(build(o1)) == o1;
//  - segment: write_tcp of the parsed header, options and payload produces a segment that
//    verifies and parses back to the same header fields, options and payload.
#include "fuzz_util.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

using namespace ustack;
using namespace ustack::wire;

namespace {

TcpOptions rebuild_options(const TcpOptions& o) {
    std::byte buf[kTcpMaxHeaderLen];
    std::size_t expected = tcp_options_size(o);
    FUZZ_CHECK(expected <= 40 && expected % 4 == 0);
    std::size_t n = write_tcp_options(buf, o);
    FUZZ_CHECK(n == expected);
    auto back = parse_tcp_options(ByteSpan{buf, n});
    FUZZ_CHECK(back.has_value());
    return *back;
}

void check_options(const TcpOptions& o) {
    FUZZ_CHECK(o.sack_count <= kTcpMaxSackBlocks);
    // Unused SACK slots are always zero, so that equal option lists compare equal.
    for (std::size_t i = o.sack_count; i < kTcpMaxSackBlocks; ++i)
        FUZZ_CHECK(o.sack_blocks[i] == SackBlock{});
    TcpOptions o1 = rebuild_options(o);
    FUZZ_CHECK(o1.mss == o.mss);
    FUZZ_CHECK(o1.window_scale == o.window_scale);
    FUZZ_CHECK(o1.sack_permitted == o.sack_permitted);
    FUZZ_CHECK(o1.timestamps == o.timestamps);
    FUZZ_CHECK(o1.unknown_count == 0);
    FUZZ_CHECK(o1.sack_count <= o.sack_count);
    for (std::size_t i = 0; i < o1.sack_count; ++i)
        FUZZ_CHECK(o1.sack_blocks[i] == o.sack_blocks[i]);
    if (o1.sack_count < o.sack_count) {
        // A block was dropped: the next one would not have fitted in 40 bytes.
        std::size_t used = tcp_options_size(o1);
        std::size_t with_one_more = o1.sack_count == 0 ? used + 4 + 8 : used + 8;
        FUZZ_CHECK(with_one_more > 40);
    }
    TcpOptions o2 = rebuild_options(o1);
    FUZZ_CHECK(o2 == o1);
}

void check_segment(ByteSpan in, Ipv4Addr src, Ipv4Addr dst, bool verify) {
    auto s = parse_tcp(in, src, dst, verify);
    if (!s) return;
    const TcpHeader& h = s->header;
    FUZZ_CHECK(h.header_len >= kTcpMinHeaderLen && h.header_len <= kTcpMaxHeaderLen);
    FUZZ_CHECK(h.header_len <= in.size() && h.header_len % 4 == 0);
    FUZZ_CHECK(h.reserved <= 0x0f);
    FUZZ_CHECK(fuzz::within(h.raw_options, in) && fuzz::within(s->payload, in));
    FUZZ_CHECK(h.raw_options.size() == h.header_len - kTcpMinHeaderLen);
    FUZZ_CHECK(s->payload.size() == in.size() - h.header_len);
    check_options(s->options);

    TcpOptions o1 = rebuild_options(s->options);
    std::size_t hlen = kTcpMinHeaderLen + tcp_options_size(o1);
    std::vector<std::byte> out(hlen + s->payload.size());
    if (!s->payload.empty()) std::memcpy(out.data() + hlen, s->payload.data(), s->payload.size());
    FUZZ_CHECK(write_tcp(out, h, o1, s->payload.size(), src, dst) == hlen);
    auto again = parse_tcp(ByteSpan{out.data(), out.size()}, src, dst, true);
    FUZZ_CHECK(again.has_value());
    const TcpHeader& g = again->header;
    FUZZ_CHECK(g.src_port == h.src_port && g.dst_port == h.dst_port && g.seq == h.seq &&
               g.ack == h.ack && g.reserved == h.reserved && g.flags == h.flags &&
               g.window == h.window && g.urgent == h.urgent && g.header_len == hlen);
    FUZZ_CHECK(again->options == o1);
    FUZZ_CHECK(fuzz::same_bytes(again->payload, s->payload));
    // A segment whose options are already in our layout rebuilds byte for byte.
    if (verify &&
        fuzz::same_bytes(ByteSpan{out.data(), out.size()}.subspan(20, hlen - 20), h.raw_options)) {
        FUZZ_CHECK(out.size() == in.size());
        FUZZ_CHECK(fuzz::same_bytes(ByteSpan{out.data(), 16}, in.first(16)));
        FUZZ_CHECK(fuzz::same_bytes(ByteSpan{out.data(), out.size()}.subspan(18), in.subspan(18)));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto input = fuzz::copy_input(data, size);
    ByteSpan whole{input.data(), input.size()};
    // The whole input as a bare option list too (up to any length, not only 40 bytes).
    if (auto o = parse_tcp_options(whole)) check_options(*o);
    auto a = fuzz::split_addresses(whole);
    check_segment(a.rest, a.src, a.dst, true);
    check_segment(a.rest, a.src, a.dst, false);
    return 0;
}
