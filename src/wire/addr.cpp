#include "wire/addr.hpp"

#include <charconv>
#include <cstdio>

namespace ustack::wire {

std::optional<Ipv4Addr> Ipv4Addr::parse(std::string_view text) {
    std::uint32_t v = 0;
    const char* p = text.data();
    const char* end = text.data() + text.size();
    for (int i = 0; i < 4; ++i) {
        unsigned octet = 0;
        if (p == end || *p < '0' || *p > '9') return std::nullopt;
        auto [next, ec] = std::from_chars(p, end, octet);
        if (ec != std::errc{} || octet > 255 || next - p > 3) return std::nullopt;
        v = (v << 8) | octet;
        p = next;
        if (i < 3) {
            if (p == end || *p != '.') return std::nullopt;
            ++p;
        }
    }
    if (p != end) return std::nullopt;
    return Ipv4Addr{v};
}

std::string Ipv4Addr::to_string() const {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", value >> 24, (value >> 16) & 0xff,
                  (value >> 8) & 0xff, value & 0xff);
    return buf;
}

std::optional<Ipv4Cidr> Ipv4Cidr::parse(std::string_view text) {
    auto slash = text.find('/');
    auto addr = Ipv4Addr::parse(text.substr(0, slash));
    if (!addr) return std::nullopt;
    if (slash == std::string_view::npos) return Ipv4Cidr{*addr, 32};
    auto len_text = text.substr(slash + 1);
    unsigned len = 0;
    auto [next, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
    if (ec != std::errc{} || next != len_text.data() + len_text.size() || len > 32 ||
        len_text.empty())
        return std::nullopt;
    return Ipv4Cidr{*addr, static_cast<std::uint8_t>(len)};
}

std::string Ipv4Cidr::to_string() const {
    return addr.to_string() + "/" + std::to_string(prefix_len);
}

std::optional<MacAddr> MacAddr::parse(std::string_view text) {
    MacAddr m;
    if (text.size() != 17) return std::nullopt;
    for (int i = 0; i < 6; ++i) {
        unsigned v = 0;
        auto [next, ec] = std::from_chars(text.data() + i * 3, text.data() + i * 3 + 2, v, 16);
        if (ec != std::errc{} || next != text.data() + i * 3 + 2) return std::nullopt;
        if (i < 5 && text[i * 3 + 2] != ':') return std::nullopt;
        m.bytes[i] = static_cast<std::uint8_t>(v);
    }
    return m;
}

std::string MacAddr::to_string() const {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                  bytes[3], bytes[4], bytes[5]);
    return buf;
}

}  // namespace ustack::wire
