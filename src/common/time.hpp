// Time is a parameter: the core never reads a clock. An Instant is nanoseconds since an
// arbitrary epoch chosen by whoever drives the stack (real monotonic clock or virtual clock).
#pragma once

#include <chrono>
#include <cstdint>

namespace ustack {

using Duration = std::chrono::nanoseconds;
using Instant = std::chrono::nanoseconds;  // since the driver's epoch

using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""s;
using std::chrono_literals::operator""us;
using std::chrono_literals::operator""ns;

inline constexpr Instant kNever = Instant::max();

}  // namespace ustack
