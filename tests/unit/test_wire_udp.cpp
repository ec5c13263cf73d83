// UDP against datagrams captured from the Linux kernel (see test_wire_vectors.hpp).
#include <gtest/gtest.h>

#include <cstring>

#include "test_wire_util.hpp"
#include "test_wire_vectors.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/udp.hpp"

using namespace ustack;
using namespace ustack::wire;
using namespace ustack::test;
namespace v = ustack::test::vectors;

namespace {
const Ipv4Addr kA(10, 99, 1, 1);
const Ipv4Addr kB(10, 99, 2, 2);

Bytes udp_of(const char* frame_hex) {
    Bytes f = from_hex(frame_hex);
    f.erase(f.begin(), f.begin() + kEthernetHeaderLen + kIpv4MinHeaderLen);
    return f;
}
}  // namespace

TEST(WireUdp, ParsesLinuxDatagram) {
    Bytes d = udp_of(v::kUdpHello);
    auto u = parse_udp(d, kA, kB);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->header.src_port, 40000);
    EXPECT_EQ(u->header.dst_port, 9);
    EXPECT_EQ(u->header.length, 20);
    EXPECT_EQ(u->header.checksum, 0xba81);
    EXPECT_EQ(to_hex(u->payload), to_hex(bytes_of("hello ustack")));
    EXPECT_EQ(u->payload.data(), d.data() + 8);
}

TEST(WireUdp, WriteIsByteIdenticalToLinux) {
    Bytes d = udp_of(v::kUdpHello);
    Bytes out(d.size(), std::byte{0xaa});
    std::memcpy(out.data() + 8, d.data() + 8, d.size() - 8);
    EXPECT_EQ(write_udp(out, 40000, 9, d.size() - 8, kA, kB), kUdpHeaderLen);
    EXPECT_EQ(to_hex(out), to_hex(d));
}

TEST(WireUdp, ChecksumCoversThePseudoHeader) {
    Bytes d = udp_of(v::kUdpHello);
    auto wrong_src = parse_udp(d, Ipv4Addr(10, 99, 1, 2), kB);
    ASSERT_FALSE(wrong_src);
    EXPECT_EQ(wrong_src.error(), ParseError::kBadChecksum);
    EXPECT_TRUE(parse_udp(d, Ipv4Addr(10, 99, 1, 2), kB, false));
    Bytes corrupt = d;
    corrupt[10] ^= std::byte{0x01};
    EXPECT_EQ(parse_udp(corrupt, kA, kB).error(), ParseError::kBadChecksum);
}

TEST(WireUdp, ZeroChecksumMeansNone) {
    Bytes d = udp_of(v::kUdpHello);
    store_be16(d.data() + 6, 0);
    d[10] ^= std::byte{0x01};  // not checked at all
    auto u = parse_udp(d, kA, kB);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->header.checksum, 0);
}

TEST(WireUdp, ComputedZeroIsSentAsAllOnes) {
    // RFC 768: a computed checksum of 0 is transmitted as 0xffff. Find a payload word that makes
    // the sum come out at zero, then check the builder's output and that the parser accepts it.
    Bytes out(kUdpHeaderLen + 2);
    store_be16(out.data() + 8, 0);
    write_udp(out, 1234, 5678, 2, kA, kB);
    std::uint16_t c = load_be16(out.data() + 6);
    // Adding the checksum value as payload makes the one's-complement sum all ones.
    store_be16(out.data() + 8, c);
    write_udp(out, 1234, 5678, 2, kA, kB);
    EXPECT_EQ(load_be16(out.data() + 6), 0xffff);
    EXPECT_TRUE(parse_udp(out, kA, kB));
}

TEST(WireUdp, LengthFieldTrimsAndBounds) {
    Bytes d = udp_of(v::kUdpHello);
    Bytes padded = d;
    padded.resize(d.size() + 10, std::byte{0xee});  // IP payload longer than UDP length
    auto u = parse_udp(padded, kA, kB);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->payload.size(), 12u);

    for (std::uint16_t len : {0, 1, 7}) {
        Bytes b = d;
        store_be16(b.data() + 4, len);
        EXPECT_EQ(parse_udp(b, kA, kB, false).error(), ParseError::kBadTotalLength) << len;
    }
    Bytes longer = d;
    store_be16(longer.data() + 4, 21);
    EXPECT_EQ(parse_udp(longer, kA, kB, false).error(), ParseError::kTruncated);
}

TEST(WireUdp, EveryPrefixFailsWithoutReadingPastIt) {
    Bytes d = udp_of(v::kUdpHello);
    for_each_prefix(d, [](ByteSpan p) {
        auto r = parse_udp(p, kA, kB);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), ParseError::kTruncated);
    });
}

TEST(WireUdp, RoundTripsOddAndEvenPayloads) {
    for (std::size_t n = 0; n < 64; ++n) {
        Bytes out(kUdpHeaderLen + n);
        for (std::size_t i = 0; i < n; ++i)
            out[8 + i] = static_cast<std::byte>(i * 37 + 1);
        write_udp(out, 53, static_cast<std::uint16_t>(30000 + n), n, Ipv4Addr(192, 0, 2, 1),
                  Ipv4Addr(192, 0, 2, 255));
        auto u = parse_udp(out, Ipv4Addr(192, 0, 2, 1), Ipv4Addr(192, 0, 2, 255));
        ASSERT_TRUE(u) << n;
        EXPECT_EQ(u->header.src_port, 53);
        EXPECT_EQ(u->header.dst_port, 30000 + n);
        EXPECT_EQ(u->header.length, 8 + n);
        EXPECT_EQ(u->payload.size(), n);
        EXPECT_NE(u->header.checksum, 0);
    }
}
