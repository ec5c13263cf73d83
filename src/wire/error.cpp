#include "wire/error.hpp"

namespace ustack::wire {

std::string_view to_string(ParseError e) {
    switch (e) {
        case ParseError::kTruncated:
            return "truncated";
        case ParseError::kBadVersion:
            return "bad version";
        case ParseError::kBadHeaderLength:
            return "bad header length";
        case ParseError::kBadTotalLength:
            return "bad total length";
        case ParseError::kBadChecksum:
            return "bad checksum";
        case ParseError::kBadOption:
            return "bad option";
        case ParseError::kUnsupported:
            return "unsupported";
    }
    return "unknown";
}

}  // namespace ustack::wire
