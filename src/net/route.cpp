#include "net/route.hpp"

#include <algorithm>

namespace ustack::net {

namespace {
bool same_prefix(const wire::Ipv4Cidr& a, const wire::Ipv4Cidr& b) {
    return a.prefix_len == b.prefix_len && a.network() == b.network();
}
}  // namespace

void RouteTable::add(RouteEntry e) {
    remove(e.dest);
    auto pos = std::find_if(routes_.begin(), routes_.end(), [&](const RouteEntry& r) {
        return r.dest.prefix_len < e.dest.prefix_len;
    });
    routes_.insert(pos, e);
}

bool RouteTable::remove(wire::Ipv4Cidr dest) {
    auto it = std::find_if(routes_.begin(), routes_.end(),
                           [&](const RouteEntry& r) { return same_prefix(r.dest, dest); });
    if (it == routes_.end()) return false;
    routes_.erase(it);
    return true;
}

std::optional<RouteMatch> RouteTable::lookup(wire::Ipv4Addr dst) const {
    for (const auto& r : routes_) {
        if (r.dest.contains(dst)) return RouteMatch{r.ifc, r.gateway.value_or(dst)};
    }
    return std::nullopt;
}

}  // namespace ustack::net
