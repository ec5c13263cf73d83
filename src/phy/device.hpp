// Device: the one interface between the stack and whatever carries its frames.
//
// A device is either L3 (frames are bare IPv4 datagrams: TUN, UDP tunnel in ip mode) or L2
// (frames are Ethernet II: TAP, in-memory pair in ethernet mode). Devices are non-blocking:
// receive() returns 0 bytes when nothing is waiting. Devices that talk to the OS expose a file
// descriptor for the event loop; wrappers that hold frames back (fault injection delay) report
// when they next need a call through next_deadline().
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "common/time.hpp"

namespace ustack::phy {

enum class LinkType : std::uint8_t { kIp, kEthernet };

// Offload metadata that travels with a frame, modelled on the virtio-net header the kernel uses
// with IFF_VNET_HDR. On receive it says what the sender left undone; on send it asks the device
// (or the kernel behind it) to finish the job.
struct FrameMeta {
    // The L4 checksum is partial: the field at csum_start + csum_offset holds only the
    // pseudo-header sum; the sum over [csum_start, end) must be folded in
    // (VIRTIO_NET_HDR_F_NEEDS_CSUM). Offsets count from the start of the frame as the stack sees
    // it (Ethernet header included on L2 devices).
    bool needs_csum = false;
    // The L4 checksum has been verified by the sender's side already (VIRTIO_NET_HDR_F_DATA_VALID).
    bool csum_valid = false;
    std::uint16_t csum_start = 0;
    std::uint16_t csum_offset = 0;
    // Segmentation offload: a TCP super-segment to be split at gso_size payload bytes.
    enum class Gso : std::uint8_t { kNone, kTcpV4 } gso = Gso::kNone;
    std::uint16_t gso_size = 0;
    std::uint16_t hdr_len = 0;  // headers in front of the payload (for GSO)
};

struct DeviceCaps {
    LinkType link = LinkType::kIp;
    std::uint32_t mtu = 1500;        // largest L3 packet the link carries without GSO
    std::uint32_t max_frame = 1514;  // largest frame receive() may return (64 KiB with GRO)
    bool tx_csum_offload = false;    // send() accepts needs_csum frames
    bool tx_tso = false;             // send() accepts Gso::kTcpV4 super-segments
    bool rx_offload = false;         // receive() may return needs_csum / GRO super-packets
};

// OS errors carry errno; devices never throw.
struct DeviceError {
    int code = 0;
    std::string what;
};

template <class T>
using DeviceResult = Result<T, DeviceError>;

// Frames moved, dropped or refused inside devices, for the stack's counters.
struct DeviceCounters {
    std::uint64_t rx_frames = 0;
    std::uint64_t rx_bytes = 0;
    std::uint64_t tx_frames = 0;
    std::uint64_t tx_bytes = 0;
    std::uint64_t rx_dropped_too_big = 0;
    std::uint64_t tx_dropped_queue_full = 0;
    // Received frames that could not be understood (short read, unknown offload header).
    std::uint64_t rx_dropped_malformed = 0;
    // Frames bigger than the link carries, or with an offload the device did not offer.
    std::uint64_t tx_dropped_too_big = 0;
    std::uint64_t tx_dropped_unsupported = 0;
    // Frames the OS refused one by one (link down, invalid offload header): the device still
    // works, this frame is lost.
    std::uint64_t tx_dropped_rejected = 0;
};

class Device {
  public:
    virtual ~Device() = default;

    virtual const DeviceCaps& caps() const = 0;
    virtual std::string name() const = 0;

    // Copies one frame into buf and fills meta. Returns its size, 0 when none is waiting. A frame
    // longer than buf is dropped and counted (returns 0 after consuming it).
    virtual DeviceResult<std::size_t> receive(MutableByteSpan buf, FrameMeta& meta,
                                              Instant now) = 0;

    // Sends one frame. A full queue (EAGAIN/ENOBUFS) is a counted drop, not an error: links lose
    // frames. Errors are for a device that no longer works.
    virtual DeviceResult<void> send(ByteSpan frame, const FrameMeta& meta, Instant now) = 0;

    // Zero-copy paths, for devices whose frames live in their own memory (the in-memory pair).
    // Both have defaults that copy, so a device (or a wrapper that must see every frame: pcap,
    // fault injection) that overrides neither works unchanged.
    //
    // Transmit: a buffer of at least min_size bytes in which the caller may build its next
    // frame, or an empty span when the device cannot lend one (the default) or has no room. A
    // frame built at the start of that buffer and handed to send() is queued where it lies,
    // without a copy. The buffer is the caller's until the next send() on this device.
    virtual MutableByteSpan tx_buffer(std::size_t /*min_size*/) { return {}; }

    // Receive: the next frame as a view, an empty one when none is waiting. Devices that can
    // lend the frame in place do; the default copies it into scratch through receive(). The
    // view stays valid until the next receive(), receive_view() or release_received() call on
    // this device; the caller must call release_received() when it is done with the last one.
    virtual DeviceResult<ByteSpan> receive_view(MutableByteSpan scratch, FrameMeta& meta,
                                                Instant now) {
        auto r = receive(scratch, meta, now);
        if (!r) return unexpected(r.error());
        return ByteSpan{scratch.data(), *r};
    }
    virtual void release_received() {}

    // A descriptor that becomes readable when receive() may return a frame; -1 when the device
    // is not backed by one (in-memory pair: see has_pending()).
    virtual int fd() const { return -1; }

    // For devices without an fd: whether receive() would return a frame now.
    virtual bool has_pending(Instant /*now*/) const { return false; }

    // When a held-back frame becomes due (fault-injection delay, rate limit); kNever if none.
    virtual Instant next_deadline() const { return kNever; }

    // What the device moved and dropped so far. Wrappers report their own counts; reach the
    // inner device through the wrapper for its counts.
    virtual DeviceCounters counters() const { return {}; }
};

}  // namespace ustack::phy
