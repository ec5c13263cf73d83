#include "phy/offload.hpp"

#include "wire/checksum.hpp"

namespace ustack::phy {

namespace {

constexpr std::size_t kEthernetHeader = 14;
constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
constexpr std::uint8_t kIpProtoUdp = 17;

}  // namespace

std::optional<std::size_t> ipv4_offset(LinkType link, ByteSpan frame) {
    std::size_t off = 0;
    if (link == LinkType::kEthernet) {
        if (frame.size() < kEthernetHeader || load_be16(frame.data() + 12) != kEtherTypeIpv4) {
            return std::nullopt;
        }
        off = kEthernetHeader;
    }
    if (frame.size() < off + 20 || (load_u8(frame.data() + off) >> 4) != 4) return std::nullopt;
    return off;
}

bool complete_checksum(MutableByteSpan frame, const FrameMeta& meta, LinkType link) {
    const std::size_t start = meta.csum_start;
    const std::size_t field = start + meta.csum_offset;
    if (start >= frame.size() || field + 2 > frame.size()) return false;
    std::uint16_t sum = wire::internet_checksum(ByteSpan(frame).subspan(start));
    if (sum == 0) {
        auto ip = ipv4_offset(link, frame);
        if (ip && load_u8(frame.data() + *ip + 9) == kIpProtoUdp) sum = 0xffff;
    }
    store_be16(frame.data() + field, sum);
    return true;
}

}  // namespace ustack::phy
