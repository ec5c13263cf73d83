// Route table: longest-prefix match over a handful of routes, each with an optional gateway.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "wire/addr.hpp"

namespace ustack::net {

using InterfaceIndex = std::uint32_t;

struct RouteEntry {
    wire::Ipv4Cidr dest;
    std::optional<wire::Ipv4Addr> gateway;  // nullopt: destination is on-link
    InterfaceIndex ifc = 0;
};

struct RouteMatch {
    InterfaceIndex ifc = 0;
    wire::Ipv4Addr next_hop;  // gateway, or the destination itself when on-link
};

class RouteTable {
  public:
    // Replaces an entry with the same destination prefix.
    void add(RouteEntry e);
    bool remove(wire::Ipv4Cidr dest);
    std::optional<RouteMatch> lookup(wire::Ipv4Addr dst) const;
    const std::vector<RouteEntry>& entries() const { return routes_; }

  private:
    std::vector<RouteEntry> routes_;  // sorted by prefix length, longest first
};

}  // namespace ustack::net
