// NetnsScope: moves the calling thread into a fresh, empty network namespace and back.
//
// For tests, benchmarks and `ustack` runs that must not touch the host's interfaces. The
// namespace is anonymous (unshare(CLONE_NEWNET)): it is not listed by `ip netns`, and the kernel
// removes it, with every interface in it, once the thread has left and the last socket or TUN
// descriptor opened inside is closed -- also when the process dies, so nothing leaks. Threads
// started while inside inherit the namespace. Needs CAP_SYS_ADMIN.
#pragma once

#include "phy/device.hpp"
#include "phy/fd.hpp"

namespace ustack::phy {

class NetnsScope {
  public:
    // Enters a new namespace and brings its loopback interface up.
    static DeviceResult<NetnsScope> enter_new();

    NetnsScope(NetnsScope&&) noexcept = default;
    NetnsScope& operator=(NetnsScope&&) = delete;
    NetnsScope(const NetnsScope&) = delete;
    NetnsScope& operator=(const NetnsScope&) = delete;
    // Returns the thread to the namespace it came from.
    ~NetnsScope();

  private:
    explicit NetnsScope(UniqueFd original) : original_(std::move(original)) {}
    UniqueFd original_;
};

}  // namespace ustack::phy
