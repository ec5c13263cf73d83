// IPv4 and MAC addresses as host-order value types.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ustack::wire {

struct Ipv4Addr {
    std::uint32_t value = 0;  // host order: 10.0.0.1 == 0x0a000001

    constexpr Ipv4Addr() = default;
    constexpr explicit Ipv4Addr(std::uint32_t v) : value(v) {}
    constexpr Ipv4Addr(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d)
        : value((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) |
                std::uint32_t{d}) {}

    static std::optional<Ipv4Addr> parse(std::string_view text);
    std::string to_string() const;

    constexpr bool is_unspecified() const { return value == 0; }
    constexpr bool is_broadcast() const { return value == 0xffffffffu; }
    constexpr bool is_multicast() const { return (value >> 28) == 0xe; }
    constexpr bool is_loopback() const { return (value >> 24) == 127; }

    friend constexpr auto operator<=>(Ipv4Addr, Ipv4Addr) = default;
};

// An address with a prefix length, e.g. 10.77.0.2/24.
struct Ipv4Cidr {
    Ipv4Addr addr;
    std::uint8_t prefix_len = 32;

    static std::optional<Ipv4Cidr> parse(std::string_view text);
    std::string to_string() const;
    constexpr std::uint32_t mask() const {
        return prefix_len == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix_len);
    }
    constexpr Ipv4Addr network() const { return Ipv4Addr{addr.value & mask()}; }
    constexpr Ipv4Addr broadcast() const { return Ipv4Addr{addr.value | ~mask()}; }
    constexpr bool contains(Ipv4Addr a) const {
        return (a.value & mask()) == (addr.value & mask());
    }
    friend constexpr bool operator==(Ipv4Cidr, Ipv4Cidr) = default;
};

struct MacAddr {
    std::array<std::uint8_t, 6> bytes{};

    static constexpr MacAddr broadcast() { return MacAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
    static std::optional<MacAddr> parse(std::string_view text);
    std::string to_string() const;
    constexpr bool is_broadcast() const { return *this == broadcast(); }
    constexpr bool is_multicast() const { return (bytes[0] & 1) != 0; }
    constexpr bool is_zero() const { return *this == MacAddr{}; }
    friend constexpr bool operator==(const MacAddr&, const MacAddr&) = default;
};

}  // namespace ustack::wire

template <>
struct std::hash<ustack::wire::Ipv4Addr> {
    std::size_t operator()(ustack::wire::Ipv4Addr a) const noexcept {
        return std::hash<std::uint32_t>{}(a.value);
    }
};
