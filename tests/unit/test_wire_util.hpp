// Helpers shared by the wire-format tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"

namespace ustack::test {

using Bytes = std::vector<std::byte>;

inline Bytes from_hex(std::string_view hex) {
    auto nibble = [](char c) -> unsigned {
        if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
        if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
        if (c >= 'A' && c <= 'F') return static_cast<unsigned>(c - 'A' + 10);
        std::abort();
    };
    if (hex.size() % 2 != 0) std::abort();
    Bytes out(hex.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<std::byte>((nibble(hex[2 * i]) << 4) | nibble(hex[2 * i + 1]));
    return out;
}

inline std::string to_hex(ByteSpan b) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s;
    s.reserve(b.size() * 2);
    for (std::byte x : b) {
        s.push_back(kDigits[static_cast<unsigned>(x) >> 4]);
        s.push_back(kDigits[static_cast<unsigned>(x) & 0xf]);
    }
    return s;
}

inline Bytes bytes_of(std::string_view text) {
    Bytes out(text.size());
    for (std::size_t i = 0; i < text.size(); ++i)
        out[i] = static_cast<std::byte>(text[i]);
    return out;
}

inline void append(Bytes& to, ByteSpan from) {
    to.insert(to.end(), from.begin(), from.end());
}

inline ByteSpan span(const Bytes& b) {
    return {b.data(), b.size()};
}

// Calls fn with every proper prefix of data, each copied into a heap buffer of exactly that size
// so that AddressSanitizer reports any read past the span.
template <class Fn>
void for_each_prefix(ByteSpan data, Fn fn) {
    for (std::size_t n = 0; n < data.size(); ++n) {
        Bytes copy(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
        fn(ByteSpan{copy.data(), copy.size()});
    }
}

}  // namespace ustack::test
