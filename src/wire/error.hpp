// Parse errors shared by every wire-format parser.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.hpp"

namespace ustack::wire {

enum class ParseError : std::uint8_t {
    kTruncated,        // span shorter than the header or a length field says
    kBadVersion,       // IPv4 version field is not 4
    kBadHeaderLength,  // IHL < 5, TCP data offset < 5, or header longer than the packet
    kBadTotalLength,   // IPv4 total length < header length or > span; UDP length out of range
    kBadChecksum,      // checksum does not verify (only where the parser is asked to verify)
    kBadOption,        // malformed TCP option list (zero/short length, runs past the header)
    kUnsupported,      // well-formed but not a kind we handle (e.g. ARP for non-IPv4)
};

std::string_view to_string(ParseError e);

template <class T>
using ParseResult = Result<T, ParseError>;

}  // namespace ustack::wire
