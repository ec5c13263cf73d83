// Software fallbacks for the offloads a FrameMeta may ask for, shared by the devices that must
// finish a frame themselves (pcap capture, links that do not offer offloads).
#pragma once

#include <cstddef>
#include <optional>

#include "common/bytes.hpp"
#include "phy/device.hpp"

namespace ustack::phy {

// Offset of the IPv4 header inside a frame: 0 on L3 links, 14 behind an Ethernet II header
// carrying IPv4; nullopt when the frame is too short or carries something else.
std::optional<std::size_t> ipv4_offset(LinkType link, ByteSpan frame);

// Completes a partial checksum in place as the virtio-net NEEDS_CSUM contract describes: the
// field at csum_start + csum_offset holds the pseudo-header sum; the one's-complement sum over
// [csum_start, end) is folded, inverted and stored there. A UDP checksum that comes out as 0 is
// stored as 0xffff (RFC 768: 0 means "no checksum"). Returns false, leaving the frame as it was,
// when the offsets do not fit inside the frame.
bool complete_checksum(MutableByteSpan frame, const FrameMeta& meta, LinkType link);

}  // namespace ustack::phy
