#include "wire/ethernet.hpp"

#include <cstring>

namespace ustack::wire {

ParseResult<EthernetFrame> parse_ethernet(ByteSpan frame) {
    if (frame.size() < kEthernetHeaderLen) return unexpected(ParseError::kTruncated);
    EthernetFrame f;
    std::memcpy(f.header.dst.bytes.data(), frame.data(), 6);
    std::memcpy(f.header.src.bytes.data(), frame.data() + 6, 6);
    f.header.ethertype = load_be16(frame.data() + 12);
    f.payload = frame.subspan(kEthernetHeaderLen);
    return f;
}

void write_ethernet(MutableByteSpan out, const EthernetHeader& h) {
    std::memcpy(out.data(), h.dst.bytes.data(), 6);
    std::memcpy(out.data() + 6, h.src.bytes.data(), 6);
    store_be16(out.data() + 12, h.ethertype);
}

}  // namespace ustack::wire
