#include "phy/netns.hpp"

#include <fcntl.h>
#include <sched.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "phy/tun.hpp"

namespace ustack::phy {

DeviceResult<NetnsScope> NetnsScope::enter_new() {
    // The thread's own namespace, not the process leader's.
    UniqueFd original(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!original) {
        const int e = errno;
        return unexpected(DeviceError{
            e, std::string("cannot open /proc/thread-self/ns/net: ") + std::strerror(e)});
    }
    if (::unshare(CLONE_NEWNET) != 0) {
        const int e = errno;
        return unexpected(DeviceError{
            e, std::string("cannot create a network namespace (needs CAP_SYS_ADMIN): ") +
                   std::strerror(e)});
    }
    NetnsScope scope(std::move(original));
    if (auto r = netif::set_link_up("lo"); !r) return unexpected(r.error());
    return scope;
}

NetnsScope::~NetnsScope() {
    if (original_) (void)::setns(original_.get(), CLONE_NEWNET);
}

}  // namespace ustack::phy
