// Small IPv4/UDP/TCP packet builders for the phy tests, independent of wire/'s builders so that
// these tests check the devices and nothing else.
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.hpp"
#include "phy/device.hpp"
#include "wire/checksum.hpp"

namespace ustack::phy::test_packets {

enum class L4Checksum { kFull, kPartial, kZero };

struct PacketSpec {
    std::uint32_t src = 0x0a630002;  // 10.99.0.2
    std::uint32_t dst = 0x0a630001;  // 10.99.0.1
    std::uint16_t sport = 6000;
    std::uint16_t dport = 5000;
    std::uint8_t protocol = 17;  // 17 UDP, 6 TCP
    std::uint32_t seq = 1;       // TCP only
    std::uint32_t ack = 0;
    std::uint8_t tcp_flags = 0x18;  // PSH|ACK
    L4Checksum checksum = L4Checksum::kFull;
    std::uint16_t ip_id = 1;
};

// An IPv4 packet (20-byte header) carrying UDP (8) or TCP (20) and `payload`. With kPartial the
// L4 checksum field holds the folded pseudo-header sum and `meta` says needs_csum.
inline std::vector<std::byte> make_packet(const PacketSpec& s, ByteSpan payload,
                                          FrameMeta* meta = nullptr) {
    const std::size_t l4_header = s.protocol == 6 ? 20 : 8;
    const std::size_t l4_len = l4_header + payload.size();
    std::vector<std::byte> p(20 + l4_len);
    std::byte* ip = p.data();
    store_u8(ip, 0x45);
    store_be16(ip + 2, static_cast<std::uint16_t>(p.size()));
    store_be16(ip + 4, s.ip_id);
    store_be16(ip + 6, 0x4000);  // DF
    store_u8(ip + 8, 64);
    store_u8(ip + 9, s.protocol);
    store_be32(ip + 12, s.src);
    store_be32(ip + 16, s.dst);
    store_be16(ip + 10, wire::internet_checksum(ByteSpan(ip, 20)));
    std::byte* l4 = ip + 20;
    store_be16(l4, s.sport);
    store_be16(l4 + 2, s.dport);
    std::size_t csum_field;
    if (s.protocol == 6) {
        store_be32(l4 + 4, s.seq);
        store_be32(l4 + 8, s.ack);
        store_u8(l4 + 12, 5 << 4);
        store_u8(l4 + 13, s.tcp_flags);
        store_be16(l4 + 14, 65535);
        csum_field = 16;
    } else {
        store_be16(l4 + 4, static_cast<std::uint16_t>(l4_len));
        csum_field = 6;
    }
    std::copy(payload.begin(), payload.end(), l4 + l4_header);
    const std::uint64_t pseudo =
        wire::pseudo_header_sum(wire::Ipv4Addr(s.src), wire::Ipv4Addr(s.dst), s.protocol,
                                static_cast<std::uint32_t>(l4_len));
    std::uint16_t field = 0;
    if (s.checksum == L4Checksum::kFull) {
        field = wire::internet_checksum(ByteSpan(l4, l4_len), pseudo);
        if (field == 0 && s.protocol == 17) field = 0xffff;
    } else if (s.checksum == L4Checksum::kPartial) {
        field = wire::checksum_fold(pseudo);
    }
    store_be16(l4 + csum_field, field);
    if (meta != nullptr) {
        *meta = FrameMeta{};
        if (s.checksum == L4Checksum::kPartial) {
            meta->needs_csum = true;
            meta->csum_start = 20;
            meta->csum_offset = static_cast<std::uint16_t>(csum_field);
        }
    }
    return p;
}

inline std::vector<std::byte> bytes_of(const char* text) {
    std::vector<std::byte> v;
    for (const char* c = text; *c != 0; ++c)
        v.push_back(static_cast<std::byte>(*c));
    return v;
}

}  // namespace ustack::phy::test_packets
