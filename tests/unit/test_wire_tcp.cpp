// TCP headers and options against segments captured from the Linux kernel (see
// test_wire_vectors.hpp), plus hand-made option lists for the cases Linux does not send.
#include <gtest/gtest.h>

#include <cstring>

#include "test_wire_util.hpp"
#include "test_wire_vectors.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

using namespace ustack;
using namespace ustack::wire;
using namespace ustack::test;
namespace v = ustack::test::vectors;

namespace {

const Ipv4Addr kA(10, 99, 1, 1);
const Ipv4Addr kB(10, 99, 2, 2);
const Ipv4Addr kScapyPeer(10, 99, 1, 50);

struct Captured {
    Bytes segment;  // the TCP header and payload
    Ipv4Addr src;
    Ipv4Addr dst;
};

// The TCP segment inside a captured frame; `payload_fill` regenerates a cut-off payload.
Captured tcp_of(const char* frame_hex, std::size_t cut_payload = 0, char fill = 0) {
    Bytes f = from_hex(frame_hex);
    ByteSpan ip = ByteSpan{f}.subspan(kEthernetHeaderLen);
    Captured c;
    c.src = Ipv4Addr{load_be32(ip.data() + 12)};
    c.dst = Ipv4Addr{load_be32(ip.data() + 16)};
    c.segment.assign(ip.begin() + kIpv4MinHeaderLen, ip.end());
    c.segment.resize(c.segment.size() + cut_payload, static_cast<std::byte>(fill));
    return c;
}

TcpSegment parse_ok(const Captured& c) {
    auto s = parse_tcp(c.segment, c.src, c.dst);
    EXPECT_TRUE(s);
    if (!s) std::abort();
    return *s;
}

// Writes the header again from the parsed fields with the Linux layout and compares.
void expect_rebuilds_identically(const Captured& c) {
    TcpSegment s = parse_ok(c);
    Bytes out(c.segment.size(), std::byte{0xaa});
    std::size_t hlen = s.header.header_len;
    std::memcpy(out.data() + hlen, c.segment.data() + hlen, c.segment.size() - hlen);
    EXPECT_EQ(tcp_options_size(s.options), hlen - kTcpMinHeaderLen);
    ASSERT_EQ(write_tcp(out, s.header, s.options, s.payload.size(), c.src, c.dst), hlen);
    EXPECT_EQ(to_hex(out), to_hex(c.segment));
}

TcpOptions parse_options_ok(const char* hex) {
    Bytes b = from_hex(hex);
    auto o = parse_tcp_options(b);
    EXPECT_TRUE(o) << hex;
    if (!o) std::abort();
    return *o;
}

ParseError options_error(const char* hex) {
    Bytes b = from_hex(hex);
    auto o = parse_tcp_options(b);
    EXPECT_FALSE(o) << hex;
    return o ? ParseError::kUnsupported : o.error();
}

std::string written_options(const TcpOptions& o) {
    Bytes out(40, std::byte{0xaa});
    std::size_t n = write_tcp_options(out, o);
    EXPECT_EQ(n, tcp_options_size(o));
    EXPECT_EQ(n % 4, 0u);
    EXPECT_LE(n, 40u);
    out.resize(n);
    return to_hex(out);
}

}  // namespace

TEST(WireTcp, ParsesLinuxSynWithTimestamps) {
    auto c = tcp_of(v::kTcpSyn);
    TcpSegment s = parse_ok(c);
    const TcpHeader& h = s.header;
    EXPECT_EQ(h.src_port, 36878);
    EXPECT_EQ(h.dst_port, 5000);
    EXPECT_EQ(h.seq, 0xf83c013eu);
    EXPECT_EQ(h.ack, 0u);
    EXPECT_EQ(h.header_len, 40);
    EXPECT_EQ(h.reserved, 0);
    EXPECT_EQ(h.flags, tcp_flags::kSyn);
    EXPECT_TRUE(h.has(tcp_flags::kSyn));
    EXPECT_FALSE(h.has(tcp_flags::kAck));
    EXPECT_EQ(h.window, 64480);
    EXPECT_EQ(h.checksum, 0xabd7);
    EXPECT_EQ(h.urgent, 0);
    EXPECT_EQ(h.raw_options.size(), 20u);
    EXPECT_EQ(h.raw_options.data(), c.segment.data() + 20);
    EXPECT_EQ(s.options.mss, 1240);  // the path MTU of 1280 was already known
    EXPECT_TRUE(s.options.sack_permitted);
    ASSERT_TRUE(s.options.timestamps);
    EXPECT_EQ(s.options.timestamps->value, 0xd929131du);
    EXPECT_EQ(s.options.timestamps->echo, 0u);
    EXPECT_EQ(s.options.window_scale, 10);
    EXPECT_EQ(s.options.sack_count, 0);
    EXPECT_EQ(s.options.unknown_count, 0);
    EXPECT_TRUE(s.payload.empty());
}

TEST(WireTcp, ParsesLinuxSynAck) {
    TcpSegment s = parse_ok(tcp_of(v::kTcpSynAck));
    EXPECT_EQ(s.header.src_port, 5000);
    EXPECT_EQ(s.header.seq, 0x8fa20847u);
    EXPECT_EQ(s.header.ack, 0xf83c013fu);
    EXPECT_EQ(s.header.flags, tcp_flags::kSyn | tcp_flags::kAck);
    EXPECT_EQ(s.header.window, 65084);
    EXPECT_EQ(s.options.mss, 1240);
    EXPECT_TRUE(s.options.sack_permitted);
    EXPECT_EQ(s.options.timestamps, (TcpTimestamps{0x46eba67f, 0xd929131d}));
    EXPECT_EQ(s.options.window_scale, 10);
}

TEST(WireTcp, ParsesLinuxAckDataAndFin) {
    TcpSegment ack = parse_ok(tcp_of(v::kTcpAck));
    EXPECT_EQ(ack.header.header_len, 32);
    EXPECT_EQ(ack.header.flags, tcp_flags::kAck);
    EXPECT_EQ(ack.header.ack, 0x8fa20848u);
    EXPECT_EQ(ack.header.window, 63);  // scaled by 2^10
    EXPECT_FALSE(ack.options.mss);
    EXPECT_FALSE(ack.options.window_scale);
    EXPECT_FALSE(ack.options.sack_permitted);
    EXPECT_EQ(ack.options.timestamps, (TcpTimestamps{0xd929131d, 0x46eba67f}));

    auto dc = tcp_of(v::kTcpData, 100, 'A');
    TcpSegment data = parse_ok(dc);  // the checksum proves the payload was 100 x 'A'
    EXPECT_EQ(data.header.flags, tcp_flags::kPsh | tcp_flags::kAck);
    EXPECT_EQ(data.header.seq, 0xf83c013fu);
    EXPECT_EQ(data.payload.size(), 100u);
    EXPECT_EQ(data.payload.data(), dc.segment.data() + 32);

    TcpSegment fin = parse_ok(tcp_of(v::kTcpFin));
    EXPECT_EQ(fin.header.flags, tcp_flags::kFin | tcp_flags::kAck);
    EXPECT_EQ(fin.header.seq, 0xf83c0207u);  // ISN + 1 + 200 bytes
    EXPECT_EQ(fin.options.timestamps, (TcpTimestamps{0xd92914ae, 0x46eba6b2}));
}

TEST(WireTcp, ParsesLinuxSackBlocks) {
    TcpSegment one = parse_ok(tcp_of(v::kTcpSack1));
    EXPECT_EQ(one.header.dst_port, 41000);
    EXPECT_EQ(one.header.ack, 0x44du);
    EXPECT_EQ(one.header.header_len, 44);
    EXPECT_EQ(one.options.timestamps, (TcpTimestamps{0x0a7e82de, 0x65}));
    ASSERT_EQ(one.options.sack_count, 1);
    EXPECT_EQ(one.options.sack_blocks[0], (SackBlock{0x4b1, 0x515}));

    TcpSegment two = parse_ok(tcp_of(v::kTcpSack2));
    EXPECT_EQ(two.header.header_len, 52);
    ASSERT_EQ(two.options.sack_count, 2);
    EXPECT_EQ(two.options.sack_blocks[0], (SackBlock{0x579, 0x5dd}));  // most recent first
    EXPECT_EQ(two.options.sack_blocks[1], (SackBlock{0x4b1, 0x515}));
    EXPECT_EQ(two.options.sack_blocks[2], SackBlock{});
}

TEST(WireTcp, ParsesLinuxSynWithoutTimestamps) {
    TcpSegment s = parse_ok(tcp_of(v::kTcpSynNoTs));
    EXPECT_EQ(s.header.header_len, 32);
    EXPECT_EQ(s.options.mss, 1240);
    EXPECT_TRUE(s.options.sack_permitted);
    EXPECT_FALSE(s.options.timestamps);
    EXPECT_EQ(s.options.window_scale, 10);

    auto dc = tcp_of(v::kTcpDataNoTs);
    TcpSegment d = parse_ok(dc);
    EXPECT_EQ(d.header.header_len, 20);
    EXPECT_TRUE(d.header.raw_options.empty());
    EXPECT_EQ(d.options, TcpOptions{});
    EXPECT_EQ(to_hex(d.payload), to_hex(bytes_of("no timestamps")));
}

TEST(WireTcp, WriteIsByteIdenticalToLinux) {
    for (const char* hex : {v::kTcpSyn, v::kTcpSynAck, v::kTcpAck, v::kTcpFin, v::kTcpSack1,
                            v::kTcpSack2, v::kTcpSynNoTs, v::kTcpSynAckNoTs, v::kTcpDataNoTs}) {
        SCOPED_TRACE(hex);
        expect_rebuilds_identically(tcp_of(hex));
    }
    expect_rebuilds_identically(tcp_of(v::kTcpData, 100, 'A'));
}

TEST(WireTcp, BuildsLinuxSynFromFields) {
    TcpHeader h;
    h.src_port = 36878;
    h.dst_port = 5000;
    h.seq = 0xf83c013e;
    h.flags = tcp_flags::kSyn;
    h.window = 64480;
    TcpOptions o;
    o.mss = 1240;
    o.sack_permitted = true;
    o.timestamps = TcpTimestamps{0xd929131d, 0};
    o.window_scale = 10;
    EXPECT_EQ(written_options(o), "020404d80402080ad929131d000000000103030a");
    Bytes out(40);
    ASSERT_EQ(write_tcp(out, h, o, 0, kA, kB), 40u);
    EXPECT_EQ(to_hex(out), to_hex(tcp_of(v::kTcpSyn).segment));
}

TEST(WireTcp, BuildsLinuxSynWithoutTimestampsFromFields) {
    TcpHeader h;
    h.src_port = 36888;
    h.dst_port = 5000;
    h.seq = 0xa00380e4;
    h.flags = tcp_flags::kSyn;
    h.window = 64480;
    TcpOptions o;
    o.mss = 1240;
    o.sack_permitted = true;
    o.window_scale = 10;
    EXPECT_EQ(written_options(o), "020404d8010104020103030a");
    Bytes out(32);
    ASSERT_EQ(write_tcp(out, h, o, 0, kA, kB), 32u);
    EXPECT_EQ(to_hex(out), to_hex(tcp_of(v::kTcpSynNoTs).segment));
}

TEST(WireTcp, BuildsLinuxDataAckAndSackFromFields) {
    auto dc = tcp_of(v::kTcpData, 100, 'A');
    TcpHeader h;
    h.src_port = 36878;
    h.dst_port = 5000;
    h.seq = 0xf83c013f;
    h.ack = 0x8fa20848;
    h.flags = tcp_flags::kPsh | tcp_flags::kAck;
    h.window = 63;
    TcpOptions o;
    o.timestamps = TcpTimestamps{0xd929131d, 0x46eba67f};
    EXPECT_EQ(written_options(o), "0101080ad929131d46eba67f");
    Bytes out(132);
    std::memset(out.data() + 32, 'A', 100);
    ASSERT_EQ(write_tcp(out, h, o, 100, kA, kB), 32u);
    EXPECT_EQ(to_hex(out), to_hex(dc.segment));

    TcpHeader sh;
    sh.src_port = 5000;
    sh.dst_port = 41000;
    sh.seq = 0x024af4bc;
    sh.ack = 0x44d;
    sh.flags = tcp_flags::kAck;
    sh.window = 64;
    TcpOptions so;
    so.timestamps = TcpTimestamps{0x0a7e8345, 0x65};
    so.sack_blocks[0] = {0x579, 0x5dd};
    so.sack_blocks[1] = {0x4b1, 0x515};
    so.sack_count = 2;
    Bytes sack(52);
    ASSERT_EQ(write_tcp(sack, sh, so, 0, kB, kScapyPeer), 52u);
    EXPECT_EQ(to_hex(sack), to_hex(tcp_of(v::kTcpSack2).segment));
}

TEST(WireTcp, SackBlocksAreLimitedByOptionSpace) {
    TcpOptions o;
    for (std::uint32_t i = 0; i < 4; ++i)
        o.sack_blocks[i] = {100 * i + 1, 100 * i + 50};
    o.sack_count = 4;
    // Without timestamps all four fit: NOP NOP SACK(34) = 36 bytes.
    EXPECT_EQ(tcp_options_size(o), 36u);
    auto four = parse_tcp_options(from_hex(written_options(o)));
    ASSERT_TRUE(four);
    EXPECT_EQ(*four, o);
    // With timestamps only three fit (12 + 28 = 40), like Linux.
    o.timestamps = TcpTimestamps{1, 2};
    EXPECT_EQ(tcp_options_size(o), 40u);
    auto three = parse_tcp_options(from_hex(written_options(o)));
    ASSERT_TRUE(three);
    EXPECT_EQ(three->sack_count, 3);
    EXPECT_EQ(three->sack_blocks[2], o.sack_blocks[2]);
    EXPECT_EQ(three->sack_blocks[3], SackBlock{});
}

TEST(WireTcp, OptionLayoutsForEveryCombination) {
    // Each combination of the SYN options writes a list that parses back to the same values.
    for (int mask = 0; mask < 16; ++mask) {
        TcpOptions o;
        if (mask & 1) o.mss = 536;
        if (mask & 2) o.window_scale = 14;
        if (mask & 4) o.sack_permitted = true;
        if (mask & 8) o.timestamps = TcpTimestamps{0xffffffff, 0x80000000};
        std::string hex = written_options(o);
        auto back = parse_tcp_options(from_hex(hex));
        ASSERT_TRUE(back) << mask;
        EXPECT_EQ(*back, o) << mask << " " << hex;
    }
    TcpOptions ws_only;
    ws_only.window_scale = 7;
    EXPECT_EQ(written_options(ws_only), "01030307");
    TcpOptions ts_no_sack;
    ts_no_sack.mss = 1460;
    ts_no_sack.timestamps = TcpTimestamps{5, 0};
    EXPECT_EQ(written_options(ts_no_sack), "020405b40101080a0000000500000000");
    EXPECT_EQ(written_options(TcpOptions{}), "");
}

TEST(WireTcp, ParsesEolNopAndStopsAtEol) {
    TcpOptions o = parse_options_ok("01010204057800");
    EXPECT_EQ(o.mss, 1400);
    // After EOL anything goes (it is padding), even bytes that would be malformed.
    o = parse_options_ok("0204057800ff01ff");
    EXPECT_EQ(o.mss, 1400);
    EXPECT_EQ(o.unknown_count, 0);
    o = parse_options_ok("00020405b4");
    EXPECT_FALSE(o.mss);
    o = parse_options_ok("01010101");
    EXPECT_EQ(o, TcpOptions{});
    EXPECT_EQ(parse_options_ok(""), TcpOptions{});
}

TEST(WireTcp, SkipsUnknownOptionsByLength) {
    // MPTCP (30, length 4), an experimental option (254, length 2) and an MD5 signature (19,
    // length 18), around options we know (a TFO cookie among them).
    TcpOptions o = parse_options_ok(
        "1e040000"
        "220a0102030405060708"
        "0402"
        "fe02"
        "0303070000");
    EXPECT_TRUE(o.sack_permitted);
    EXPECT_EQ(o.window_scale, 7);
    EXPECT_EQ(o.unknown_count, 2);
    ASSERT_TRUE(o.fastopen);
    EXPECT_EQ(o.fastopen->len, 8);
    EXPECT_EQ(o.fastopen->bytes[0], std::byte{1});
    EXPECT_EQ(o.fastopen->bytes[7], std::byte{8});
    o = parse_options_ok("1312000102030405060708090a0b0c0d0e0f0204ffff");
    EXPECT_EQ(o.unknown_count, 1);
    EXPECT_EQ(o.mss, 0xffff);
}

// RFC 7413 4.1.1: an empty Fast Open option asks for a cookie; a cookie is 4 to 16 bytes, even.
// A Fast Open option of any other length is skipped, not taken as a broken option list.
TEST(WireTcp, FastOpenOptionParsesRequestsAndCookies) {
    TcpOptions o = parse_options_ok("2202");
    ASSERT_TRUE(o.fastopen);
    EXPECT_EQ(o.fastopen->len, 0);
    o = parse_options_ok("2212000102030405060708090a0b0c0d0e0f");
    ASSERT_TRUE(o.fastopen);
    EXPECT_EQ(o.fastopen->len, 16);
    EXPECT_EQ(o.fastopen->bytes[15], std::byte{0x0f});
    for (const char* odd : {"220300", "22050102030000", "2204010200"}) {
        o = parse_options_ok(odd);
        EXPECT_FALSE(o.fastopen) << odd;
        EXPECT_EQ(o.unknown_count, 1) << odd;
    }
}

// Linux's SYN layout: the Fast Open option after window scale, NOP-padded to a word.
TEST(WireTcp, FastOpenOptionWrittenLastInSyn) {
    TcpOptions o;
    o.mss = 1460;
    o.sack_permitted = true;
    o.window_scale = 8;
    o.fastopen = FastOpenCookie{};
    // <mss 1460,nop,nop,sackOK,nop,wscale 8,FO,nop,nop>
    EXPECT_EQ(written_options(o), "020405b4010104020103030822020101");
    o.fastopen->len = 8;
    for (int i = 0; i < 8; ++i)
        o.fastopen->bytes[i] = std::byte(0xa0 + i);
    o.timestamps = TcpTimestamps{100, 0};
    // <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8,FO a0..a7,nop,nop>
    EXPECT_EQ(written_options(o),
              "020405b40402080a000000640000000001030308220aa0a1a2a3a4a5a6a70101");
    EXPECT_EQ(tcp_options_size(o), 32u);
    EXPECT_EQ(parse_options_ok(written_options(o).c_str()).fastopen, o.fastopen);
}

TEST(WireTcp, RejectsMalformedOptionLists) {
    const char* bad[] = {
        "02",                                // kind without a length byte
        "010102",                            // the same after NOPs
        "0200",                              // length 0
        "0201",                              // length 1 (would loop forever if accepted)
        "fe01",                              // length 1 on an unknown kind
        "020405",                            // MSS runs past the end
        "fe0a00000000",                      // unknown option runs past the end
        "02030500",                          // MSS with length 3
        "0205050000",                        // MSS with length 5
        "030203",                            // WS with length 2
        "0304030000",                        // WS with length 4
        "0403000000",                        // SACK-permitted with length 3
        "080800000000000000",                // timestamps with length 8
        "080b0000000000000000000000",        // timestamps with length 11
        "0502",                              // SACK with no blocks
        "050e000000010000000200000003",      // SACK with a block and a half
        "050600000001",                      // SACK with half a block
        "05120000000100000002000000030000",  // SACK whose length runs past the end
    };
    for (const char* hex : bad)
        EXPECT_EQ(options_error(hex), ParseError::kBadOption) << hex;
}

TEST(WireTcp, LaterSackOptionReplacesEarlierOne) {
    // Two SACK options (not something a sane sender does): the last one wins, completely.
    TcpOptions o = parse_options_ok(
        "051a000000010000000200000003000000040000000500000006"
        "050a0000000a0000000b");
    TcpOptions only_last = parse_options_ok("050a0000000a0000000b");
    EXPECT_EQ(o.sack_count, 1);
    EXPECT_EQ(o.sack_blocks[0], (SackBlock{10, 11}));
    EXPECT_EQ(o, only_last);
}

TEST(WireTcp, RejectsBadHeaderLengthAndChecksum) {
    auto c = tcp_of(v::kTcpAck);
    for (std::uint8_t off = 0; off < 5; ++off) {
        Bytes b = c.segment;
        b[12] = static_cast<std::byte>(off << 4);
        EXPECT_EQ(parse_tcp(b, c.src, c.dst, false).error(), ParseError::kBadHeaderLength);
    }
    {
        Bytes b = c.segment;  // data offset 15 (60 bytes) in a 32-byte segment
        b[12] = std::byte{0xf0};
        EXPECT_EQ(parse_tcp(b, c.src, c.dst, false).error(), ParseError::kTruncated);
    }
    {
        Bytes b = c.segment;
        b[31] ^= std::byte{0x01};
        EXPECT_EQ(parse_tcp(b, c.src, c.dst).error(), ParseError::kBadChecksum);
        EXPECT_TRUE(parse_tcp(b, c.src, c.dst, false));
        EXPECT_EQ(parse_tcp(c.segment, c.src, Ipv4Addr(10, 99, 2, 3)).error(),
                  ParseError::kBadChecksum);
    }
    {
        Bytes b = c.segment;  // a malformed option inside an otherwise valid header
        b[20] = std::byte{0x02};
        b[21] = std::byte{0x00};
        EXPECT_EQ(parse_tcp(b, c.src, c.dst, false).error(), ParseError::kBadOption);
    }
}

TEST(WireTcp, KeepsReservedBitsAndEveryFlag) {
    auto c = tcp_of(v::kTcpAck);
    Bytes b = c.segment;
    b[12] = std::byte{0x8f};  // data offset 8, all four reserved bits (incl. AccECN's AE)
    b[13] = std::byte{0xff};
    TcpSegment s = parse_ok({[&] {
                                 store_be16(b.data() + 16, 0);
                                 std::uint64_t sum =
                                     pseudo_header_sum(c.src, c.dst, kIpProtoTcp,
                                                       static_cast<std::uint32_t>(b.size()));
                                 store_be16(b.data() + 16, internet_checksum(b, sum));
                                 return b;
                             }(),
                             c.src, c.dst});
    EXPECT_EQ(s.header.reserved, 0x0f);
    EXPECT_EQ(s.header.flags, 0xff);
    for (std::uint8_t f : {tcp_flags::kFin, tcp_flags::kSyn, tcp_flags::kRst, tcp_flags::kPsh,
                           tcp_flags::kAck, tcp_flags::kUrg, tcp_flags::kEce, tcp_flags::kCwr})
        EXPECT_TRUE(s.header.has(f));
    expect_rebuilds_identically({b, c.src, c.dst});
}

TEST(WireTcp, EveryPrefixFailsWithoutReadingPastIt) {
    for (const char* hex : {v::kTcpSyn, v::kTcpSack2, v::kTcpDataNoTs}) {
        auto c = tcp_of(hex);
        std::size_t hlen = (static_cast<std::size_t>(c.segment[12]) >> 4) * 4;
        for_each_prefix(c.segment, [&](ByteSpan p) {
            auto checked = parse_tcp(p, c.src, c.dst);
            ASSERT_FALSE(checked) << p.size();
            auto unchecked = parse_tcp(p, c.src, c.dst, false);
            if (p.size() < hlen) {
                ASSERT_FALSE(unchecked) << p.size();
                EXPECT_EQ(unchecked.error(), ParseError::kTruncated);
                EXPECT_EQ(checked.error(), ParseError::kTruncated);
            } else {
                ASSERT_TRUE(unchecked) << p.size();
                EXPECT_EQ(unchecked->payload.size(), p.size() - hlen);
            }
        });
        // Every prefix of the option list alone: an error or a value, never a read past it.
        ByteSpan opts = ByteSpan{c.segment}.subspan(20, hlen - 20);
        for_each_prefix(opts, [](ByteSpan p) { (void)parse_tcp_options(p); });
    }
}

TEST(WireTcp, RoundTripsRandomHeadersAndOptions) {
    std::uint64_t x = 0x9e3779b97f4a7c15ull;
    auto next = [&x] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    };
    for (int i = 0; i < 2000; ++i) {
        TcpHeader h;
        h.src_port = static_cast<std::uint16_t>(next());
        h.dst_port = static_cast<std::uint16_t>(next());
        h.seq = static_cast<std::uint32_t>(next());
        h.ack = static_cast<std::uint32_t>(next());
        h.reserved = static_cast<std::uint8_t>(next() & 0x0f);
        h.flags = static_cast<std::uint8_t>(next());
        h.window = static_cast<std::uint16_t>(next());
        h.urgent = static_cast<std::uint16_t>(next());
        TcpOptions o;
        std::uint64_t r = next();
        if (r & 1) o.mss = static_cast<std::uint16_t>(r >> 8);
        if (r & 2) o.window_scale = static_cast<std::uint8_t>((r >> 24) % 15);
        if (r & 4) o.sack_permitted = true;
        if (r & 8) o.timestamps = TcpTimestamps{static_cast<std::uint32_t>(next()), 0};
        bool syn = (r & 7) != 0;
        if (!syn) {
            o.sack_count = static_cast<std::uint8_t>((r >> 4) % 5);
            if (o.timestamps && o.sack_count > 3) o.sack_count = 3;
            for (std::size_t b = 0; b < o.sack_count; ++b)
                o.sack_blocks[b] = {static_cast<std::uint32_t>(next()),
                                    static_cast<std::uint32_t>(next())};
        }
        std::size_t payload = next() % 50;
        std::size_t hlen = kTcpMinHeaderLen + tcp_options_size(o);
        Bytes out(hlen + payload);
        for (std::size_t p = 0; p < payload; ++p)
            out[hlen + p] = static_cast<std::byte>(next());
        ASSERT_EQ(write_tcp(out, h, o, payload, kA, kB), hlen);
        auto s = parse_tcp(out, kA, kB);
        ASSERT_TRUE(s) << i;
        EXPECT_EQ(s->header.src_port, h.src_port);
        EXPECT_EQ(s->header.dst_port, h.dst_port);
        EXPECT_EQ(s->header.seq, h.seq);
        EXPECT_EQ(s->header.ack, h.ack);
        EXPECT_EQ(s->header.reserved, h.reserved);
        EXPECT_EQ(s->header.flags, h.flags);
        EXPECT_EQ(s->header.window, h.window);
        EXPECT_EQ(s->header.urgent, h.urgent);
        EXPECT_EQ(s->header.header_len, hlen);
        EXPECT_EQ(s->options, o) << i;
        EXPECT_EQ(s->payload.size(), payload);
    }
}
