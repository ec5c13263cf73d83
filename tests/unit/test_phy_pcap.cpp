#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "phy/memory_pair.hpp"
#include "phy/pcap.hpp"
#include "test_phy_packets.hpp"

using namespace ustack;
using namespace ustack::phy;
namespace tp = ustack::phy::test_packets;

namespace {

std::string temp_path(const char* tag) {
    return ::testing::TempDir() + "ustack_phy_" + tag + "_" + std::to_string(::getpid()) + ".pcap";
}

std::vector<std::uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::uint32_t le32(const std::vector<std::uint8_t>& b, std::size_t off) {
    return b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (std::uint32_t{b[off + 3]} << 24);
}
std::uint16_t le16(const std::vector<std::uint8_t>& b, std::size_t off) {
    return static_cast<std::uint16_t>(b[off] | (b[off + 1] << 8));
}

std::string run_command(const std::string& cmd) {
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
        std::array<char, 4096> chunk;
        while (std::fgets(chunk.data(), chunk.size(), p) != nullptr)
            out += chunk.data();
        ::pclose(p);
    }
    return out;
}

bool have_tshark() {
    return std::system("command -v tshark >/dev/null 2>&1") == 0;
}

}  // namespace

TEST(PhyPcap, GlobalAndRecordHeadersExact) {
    static_assert(std::endian::native == std::endian::little);
    for (auto precision : {PcapPrecision::kMicro, PcapPrecision::kNano}) {
        const std::string path = temp_path("hdr");
        {
            auto w = PcapWriter::open(path, LinkType::kIp, precision, 100);
            ASSERT_TRUE(w) << w.error().what;
            std::vector<std::byte> frame(150);
            for (std::size_t i = 0; i < frame.size(); ++i)
                frame[i] = static_cast<std::byte>(i);
            ASSERT_TRUE(w->write(frame, Instant{12s + 345'678'901ns}));
            ASSERT_TRUE(w->write(ByteSpan(frame).first(10), Instant{13s}));
            EXPECT_EQ(w->records(), 2u);
        }
        const auto b = read_file(path);
        ::unlink(path.c_str());
        ASSERT_EQ(b.size(), 24u + 16 + 100 + 16 + 10);
        EXPECT_EQ(le32(b, 0), precision == PcapPrecision::kNano ? 0xa1b23c4du : 0xa1b2c3d4u);
        EXPECT_EQ(le16(b, 4), 2);
        EXPECT_EQ(le16(b, 6), 4);
        EXPECT_EQ(le32(b, 8), 0u);   // thiszone
        EXPECT_EQ(le32(b, 12), 0u);  // sigfigs
        EXPECT_EQ(le32(b, 16), 100u);
        EXPECT_EQ(le32(b, 20), 101u);  // LINKTYPE_RAW
        EXPECT_EQ(le32(b, 24), 12u);
        EXPECT_EQ(le32(b, 28), precision == PcapPrecision::kNano ? 345'678'901u : 345'678u);
        EXPECT_EQ(le32(b, 32), 100u);  // cut to the snap length
        EXPECT_EQ(le32(b, 36), 150u);
        EXPECT_EQ(b[40], 0);
        EXPECT_EQ(b[139], 99);
        EXPECT_EQ(le32(b, 140), 13u);
        EXPECT_EQ(le32(b, 144), 0u);
        EXPECT_EQ(le32(b, 148), 10u);
        EXPECT_EQ(le32(b, 152), 10u);
    }
    const std::string path = temp_path("eth");
    { ASSERT_TRUE(PcapWriter::open(path, LinkType::kEthernet)); }
    const auto b = read_file(path);
    ::unlink(path.c_str());
    ASSERT_EQ(b.size(), 24u);
    EXPECT_EQ(le32(b, 16), 262144u);
    EXPECT_EQ(le32(b, 20), 1u);  // LINKTYPE_ETHERNET
}

TEST(PhyPcap, OpenFailureIsAnError) {
    auto w = PcapWriter::open("/nonexistent-dir/x.pcap", LinkType::kIp);
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().code, ENOENT);
    EXPECT_NE(w.error().what.find("/nonexistent-dir/x.pcap"), std::string::npos);
}

// Records frames both ways through a PcapDevice: partial checksums are completed in the
// capture (and only there) and a TCP super-segment is written whole.
TEST(PhyPcap, DeviceCompletesChecksumsInTheCaptureOnly) {
    const std::string path = temp_path("dev");
    MemoryLinkOptions o;
    o.offload = true;
    auto [a, b] = MemoryLink::make_pair(o);
    auto writer = PcapWriter::open(path, LinkType::kIp, PcapPrecision::kNano);
    ASSERT_TRUE(writer);
    PcapDevice cap(std::move(a), std::move(*writer));

    tp::PacketSpec udp;
    udp.checksum = tp::L4Checksum::kPartial;
    FrameMeta udp_meta;
    const auto payload = tp::bytes_of("partial checksum in flight");
    const auto udp_partial = tp::make_packet(udp, payload, &udp_meta);
    udp.checksum = tp::L4Checksum::kFull;
    const auto udp_full = tp::make_packet(udp, payload);

    tp::PacketSpec tcp;
    tcp.protocol = 6;
    tcp.checksum = tp::L4Checksum::kPartial;
    std::vector<std::byte> big(4000);
    for (std::size_t i = 0; i < big.size(); ++i)
        big[i] = static_cast<std::byte>(i * 13);
    FrameMeta tso;
    auto super = tp::make_packet(tcp, big, &tso);
    tso.gso = FrameMeta::Gso::kTcpV4;
    tso.gso_size = 1448;
    tso.hdr_len = 40;
    tcp.checksum = tp::L4Checksum::kFull;
    const auto super_full = tp::make_packet(tcp, big);

    ASSERT_TRUE(cap.send(udp_partial, udp_meta, Instant{1s}));
    ASSERT_TRUE(cap.send(super, tso, Instant{2s}));
    // The far side still gets the partial frame with its metadata.
    std::vector<std::byte> buf(70000);
    FrameMeta got;
    ASSERT_EQ(*b->receive(buf, got, Instant{2s}), udp_partial.size());
    EXPECT_TRUE(got.needs_csum);
    EXPECT_TRUE(std::equal(udp_partial.begin(), udp_partial.end(), buf.begin()));
    // A partial frame coming the other way is recorded on receive.
    tp::PacketSpec back = udp;
    back.src = udp.dst;
    back.dst = udp.src;
    back.checksum = tp::L4Checksum::kPartial;
    FrameMeta back_meta;
    const auto back_partial = tp::make_packet(back, payload, &back_meta);
    back.checksum = tp::L4Checksum::kFull;
    const auto back_full = tp::make_packet(back, payload);
    ASSERT_TRUE(b->send(back_partial, back_meta, Instant{3s}));
    ASSERT_EQ(*cap.receive(buf, got, Instant{3s}), back_partial.size());
    EXPECT_TRUE(got.needs_csum);
    EXPECT_EQ(cap.write_errors(), 0u);
    // Control: the partial frame as it travels, written without completion, must fail
    // tshark's validation (so that passing above means something).
    ASSERT_TRUE(cap.writer().write(udp_partial, Instant{4s}));
    ASSERT_TRUE(cap.writer().flush());

    const auto file = read_file(path);
    std::size_t off = 24;
    for (const auto* want : {&udp_full, &super_full, &back_full}) {
        ASSERT_LE(off + 16, file.size());
        const std::uint32_t incl = le32(file, off + 8);
        ASSERT_EQ(incl, want->size());
        EXPECT_TRUE(std::equal(want->begin(), want->end(),
                               reinterpret_cast<const std::byte*>(file.data() + off + 16)));
        off += 16 + incl;
    }
    EXPECT_EQ(off + 16 + udp_partial.size(), file.size());

    if (!have_tshark()) {
        ::unlink(path.c_str());
        GTEST_SKIP() << "tshark not installed: checksum validation by tshark not run";
    }
    const std::string out = run_command(
        "tshark -r " + path +
        " -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE"
        " -T fields -e ip.checksum.status -e udp.checksum.status -e tcp.checksum.status"
        " 2>/dev/null");
    ::unlink(path.c_str());
    // One line per record: IP, UDP and TCP checksum status, 1 meaning good and 0 bad. The
    // super-segment validates as one 4040-byte TCP segment.
    EXPECT_EQ(out, "1\t1\t\n1\t\t1\n1\t1\t\n1\t0\t\n") << out;
}
