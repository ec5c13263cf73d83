#include "phy/pcap.hpp"

#include <cerrno>
#include <cstring>

#include "phy/offload.hpp"
#include "wire/checksum.hpp"

namespace ustack::phy {

namespace {

constexpr std::uint32_t kMagicMicro = 0xa1b2c3d4;
constexpr std::uint32_t kMagicNano = 0xa1b23c4d;

DeviceError os_error(int code, const std::string& what) {
    return DeviceError{code, what + ": " + std::strerror(code)};
}

}  // namespace

void PcapWriter::FileCloser::operator()(std::FILE* f) const {
    if (f != nullptr) std::fclose(f);
}

PcapWriter::PcapWriter(std::unique_ptr<std::FILE, FileCloser> file, PcapPrecision precision,
                       std::uint32_t snaplen)
    : file_(std::move(file)), precision_(precision), snaplen_(snaplen) {}

PcapWriter::~PcapWriter() = default;

DeviceResult<PcapWriter> PcapWriter::open(const std::string& path, LinkType link,
                                          PcapPrecision precision, std::uint32_t snaplen) {
    std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "wb"));
    if (!file) return unexpected(os_error(errno, "pcap: cannot create " + path));
    // The global header in the writer's byte order; readers detect it from the magic number.
    struct {
        std::uint32_t magic;
        std::uint16_t version_major;
        std::uint16_t version_minor;
        std::int32_t thiszone;
        std::uint32_t sigfigs;
        std::uint32_t snaplen;
        std::uint32_t network;
    } header{precision == PcapPrecision::kNano ? kMagicNano : kMagicMicro,  2, 4, 0, 0, snaplen,
             link == LinkType::kEthernet ? kLinktypeEthernet : kLinktypeRaw};
    static_assert(sizeof header == 24);
    if (std::fwrite(&header, sizeof header, 1, file.get()) != 1)
        return unexpected(os_error(errno, "pcap: cannot write " + path));
    return PcapWriter(std::move(file), precision, snaplen);
}

DeviceResult<void> PcapWriter::write(ByteSpan frame, Instant when) {
    const std::int64_t ns = when.count() < 0 ? 0 : when.count();
    const std::uint32_t frac_per_sec =
        precision_ == PcapPrecision::kNano ? 1'000'000'000 : 1'000'000;
    const std::int64_t frac =
        precision_ == PcapPrecision::kNano ? ns % 1'000'000'000 : (ns % 1'000'000'000) / 1000;
    const auto incl = static_cast<std::uint32_t>(std::min<std::size_t>(frame.size(), snaplen_));
    const std::uint32_t record[4] = {static_cast<std::uint32_t>(ns / 1'000'000'000),
                                     static_cast<std::uint32_t>(frac % frac_per_sec), incl,
                                     static_cast<std::uint32_t>(frame.size())};
    if (std::fwrite(record, sizeof record, 1, file_.get()) != 1 ||
        (incl != 0 && std::fwrite(frame.data(), incl, 1, file_.get()) != 1))
        return unexpected(os_error(errno, "pcap: write failed"));
    ++records_;
    return {};
}

DeviceResult<void> PcapWriter::flush() {
    if (std::fflush(file_.get()) != 0) return unexpected(os_error(errno, "pcap: flush failed"));
    return {};
}

// ---------------------------------------------------------------------------------------------

PcapDevice::PcapDevice(std::unique_ptr<Device> inner, PcapWriter writer)
    : inner_(std::move(inner)), writer_(std::move(writer)) {}

void PcapDevice::record(ByteSpan frame, const FrameMeta& meta, Instant now) {
    ByteSpan out = frame;
    const bool gso = meta.gso != FrameMeta::Gso::kNone;
    if (meta.needs_csum || gso) {
        copy_.assign(frame.begin(), frame.end());
        MutableByteSpan c(copy_);
        const LinkType link = inner_->caps().link;
        if (gso) {
            auto ip = ipv4_offset(link, c);
            const std::size_t ip_len = ip ? c.size() - *ip : 0;
            if (ip && load_be16(c.data() + *ip + 2) == 0 && ip_len <= 0xffff) {
                // Fill in the length and patch the header checksum (RFC 1624).
                const auto len16 = static_cast<std::uint16_t>(ip_len);
                store_be16(c.data() + *ip + 2, len16);
                const std::uint16_t old = load_be16(c.data() + *ip + 10);
                store_be16(c.data() + *ip + 10, wire::checksum_update16(old, 0, len16));
            }
        }
        if (meta.needs_csum) complete_checksum(c, meta, link);
        out = c;
    }
    if (!writer_.write(out, now)) ++write_errors_;
}

DeviceResult<std::size_t> PcapDevice::receive(MutableByteSpan buf, FrameMeta& meta, Instant now) {
    auto r = inner_->receive(buf, meta, now);
    if (r && *r > 0) record(buf.first(*r), meta, now);
    return r;
}

DeviceResult<void> PcapDevice::send(ByteSpan frame, const FrameMeta& meta, Instant now) {
    record(frame, meta, now);
    return inner_->send(frame, meta, now);
}

}  // namespace ustack::phy
