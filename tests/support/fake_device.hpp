// A device for tests: frames the stack sends are recorded; frames to deliver are queued.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "phy/device.hpp"

namespace ustack::testing {

class FakeDevice : public phy::Device {
  public:
    explicit FakeDevice(phy::LinkType link, std::uint32_t mtu = 1500) {
        caps_.link = link;
        caps_.mtu = mtu;
        caps_.max_frame = mtu + (link == phy::LinkType::kEthernet ? 14 : 0);
    }

    const phy::DeviceCaps& caps() const override { return caps_; }
    std::string name() const override { return "fake"; }

    phy::DeviceResult<std::size_t> receive(MutableByteSpan buf, phy::FrameMeta& meta,
                                           Instant) override {
        if (inbox.empty()) return std::size_t{0};
        auto f = std::move(inbox.front());
        inbox.pop_front();
        if (f.size() > buf.size()) return std::size_t{0};
        std::copy(f.begin(), f.end(), buf.begin());
        meta = {};
        return f.size();
    }

    phy::DeviceResult<void> send(ByteSpan frame, const phy::FrameMeta&, Instant) override {
        sent.emplace_back(frame.begin(), frame.end());
        return {};
    }

    bool has_pending(Instant) const override { return !inbox.empty(); }

    // Removes and returns what the stack sent so far.
    std::vector<std::vector<std::byte>> take_sent() {
        auto out = std::move(sent);
        sent.clear();
        return out;
    }

    phy::DeviceCaps caps_;
    std::deque<std::vector<std::byte>> inbox;
    std::vector<std::vector<std::byte>> sent;
};

inline std::vector<std::byte> bytes_of(std::initializer_list<int> v) {
    std::vector<std::byte> out;
    for (int b : v)
        out.push_back(static_cast<std::byte>(b));
    return out;
}

}  // namespace ustack::testing
