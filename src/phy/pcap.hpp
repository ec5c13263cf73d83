// pcap capture: a file writer and a device wrapper that records every frame it moves.
//
// Files use the classic libpcap format (not pcapng), with microsecond or nanosecond timestamps,
// LINKTYPE_RAW (101) for L3 devices and LINKTYPE_ETHERNET (1) for L2 ones, so tcpdump, tshark
// and Wireshark open them as they are.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "phy/device.hpp"

namespace ustack::phy {

enum class PcapPrecision : std::uint8_t { kMicro, kNano };

inline constexpr std::uint32_t kLinktypeEthernet = 1;
inline constexpr std::uint32_t kLinktypeRaw = 101;

class PcapWriter {
  public:
    static DeviceResult<PcapWriter> open(const std::string& path, LinkType link,
                                         PcapPrecision precision = PcapPrecision::kNano,
                                         std::uint32_t snaplen = 262144);

    PcapWriter(PcapWriter&&) noexcept = default;
    PcapWriter& operator=(PcapWriter&&) noexcept = default;
    ~PcapWriter();

    // Appends one record stamped with `when` (nanoseconds since the driver's epoch), cut to the
    // snap length.
    DeviceResult<void> write(ByteSpan frame, Instant when);
    DeviceResult<void> flush();

    std::uint64_t records() const { return records_; }

  private:
    struct FileCloser {
        void operator()(std::FILE* f) const;
    };
    PcapWriter(std::unique_ptr<std::FILE, FileCloser> file, PcapPrecision precision,
               std::uint32_t snaplen);

    std::unique_ptr<std::FILE, FileCloser> file_;
    PcapPrecision precision_;
    std::uint32_t snaplen_;
    std::uint64_t records_ = 0;
};

// Wraps a device and writes every frame sent and received to a PcapWriter, stamped with the
// `now` of the call.
//
// Frames with offload metadata are written as a NIC would put them on the wire, as far as one
// record can: a partial checksum (needs_csum) is completed in the copy, so checksum validation
// passes. A TCP super-segment (GSO) is written as one record, not split: tshark shows a single
// TCP segment larger than the MSS, with checksums that validate over the whole super-segment.
// Where such a frame has an IPv4 total length of 0 (allowed for >64 KiB packets), the copy gets
// the real length if it fits in 16 bits.
class PcapDevice final : public Device {
  public:
    PcapDevice(std::unique_ptr<Device> inner, PcapWriter writer);

    const DeviceCaps& caps() const override { return inner_->caps(); }
    std::string name() const override { return inner_->name(); }
    DeviceResult<std::size_t> receive(MutableByteSpan buf, FrameMeta& meta, Instant now) override;
    DeviceResult<void> send(ByteSpan frame, const FrameMeta& meta, Instant now) override;
    int fd() const override { return inner_->fd(); }
    bool has_pending(Instant now) const override { return inner_->has_pending(now); }
    Instant next_deadline() const override { return inner_->next_deadline(); }
    DeviceCounters counters() const override { return inner_->counters(); }

    Device& inner() { return *inner_; }
    PcapWriter& writer() { return writer_; }
    // Records that could not be written (disk full); capture never fails the link.
    std::uint64_t write_errors() const { return write_errors_; }

  private:
    void record(ByteSpan frame, const FrameMeta& meta, Instant now);

    std::unique_ptr<Device> inner_;
    PcapWriter writer_;
    std::vector<std::byte> copy_;
    std::uint64_t write_errors_ = 0;
};

}  // namespace ustack::phy
