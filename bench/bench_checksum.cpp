// Throughput of the Internet checksum: the vectorised internet_checksum against the plain 16-bit
// reference loop, on a minimum-size frame, a full Ethernet MTU and a 64 KiB TSO-sized buffer;
// then copying and summing in one pass (checksum_copy) against memcpy followed by the checksum.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "wire/checksum.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using ustack::ByteSpan;

volatile std::uint16_t g_sink;

// Runs fn over data repeatedly for about `budget` and returns GB/s (10^9 bytes per second).
template <class Fn>
double measure(ByteSpan data, Fn fn, std::chrono::milliseconds budget) {
    // Calibrate a batch size that takes at least ~1 ms, then repeat batches until the budget.
    std::size_t batch = 1;
    for (;;) {
        auto t0 = Clock::now();
        for (std::size_t i = 0; i < batch; ++i)
            g_sink = fn(data);
        if (Clock::now() - t0 >= std::chrono::milliseconds(1)) break;
        batch *= 2;
    }
    std::size_t iterations = 0;
    auto start = Clock::now();
    auto elapsed = Clock::duration::zero();
    while (elapsed < budget) {
        for (std::size_t i = 0; i < batch; ++i)
            g_sink = fn(data);
        iterations += batch;
        elapsed = Clock::now() - start;
    }
    double seconds = std::chrono::duration<double>(elapsed).count();
    return static_cast<double>(iterations) * static_cast<double>(data.size()) / seconds / 1e9;
}

}  // namespace

int main() {
    const std::size_t sizes[] = {64, 1500, 64 * 1024};
    std::mt19937_64 rng(1071);
    std::vector<std::byte> buf(64 * 1024 + 8);
    for (auto& b : buf)
        b = static_cast<std::byte>(rng());

    // 3 sizes x 2 functions x 400 ms, plus calibration: well under 5 s.
    const auto budget = std::chrono::milliseconds(400);
    std::printf("%-10s %16s %16s %8s\n", "size", "fast GB/s", "reference GB/s", "ratio");
    bool mismatch = false;
    for (std::size_t size : sizes) {
        ByteSpan data{buf.data(), size};
        if (ustack::wire::internet_checksum(data) !=
            ustack::wire::internet_checksum_reference(data))
            mismatch = true;
        double fast = measure(
            data, [](ByteSpan d) { return ustack::wire::internet_checksum(d); }, budget);
        double ref = measure(
            data, [](ByteSpan d) { return ustack::wire::internet_checksum_reference(d); }, budget);
        std::printf("%-10zu %16.2f %16.2f %7.1fx\n", size, fast, ref, fast / ref);
    }
    std::printf("\n%-10s %16s %16s %8s\n", "size", "copy+sum GB/s", "memcpy, sum GB/s", "ratio");
    std::vector<std::byte> out(64 * 1024 + 8);
    for (std::size_t size : sizes) {
        ByteSpan data{buf.data(), size};
        if (ustack::wire::checksum_copy(out.data(), data) !=
                ustack::wire::checksum_accumulate(data) ||
            std::memcmp(out.data(), data.data(), size) != 0)
            mismatch = true;
        std::byte* o = out.data();
        double fused = measure(
            data,
            [o](ByteSpan d) {
                return ustack::wire::checksum_fold(ustack::wire::checksum_copy(o, d));
            },
            budget);
        double separate = measure(
            data,
            [o](ByteSpan d) {
                std::memcpy(o, d.data(), d.size());
                return ustack::wire::checksum_fold(
                    ustack::wire::checksum_accumulate(ByteSpan{o, d.size()}));
            },
            budget);
        std::printf("%-10zu %16.2f %16.2f %7.1fx\n", size, fused, separate, fused / separate);
    }
    if (mismatch) {
        std::fprintf(stderr, "checksum mismatch between fast and reference\n");
        return 1;
    }
    return 0;
}
