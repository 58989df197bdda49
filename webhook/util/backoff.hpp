#pragma once

#include <chrono>

// Retry timing for upstream calls, pure so it is testable: the caller supplies the random draw.
namespace bridge::webhook::util {

// Exponential backoff with full jitter: the delay before retry n (1 for the first retry) is
// unit_random * min(cap, base * 2^(n-1)), i.e. uniform in [0, ceiling) for unit_random uniform in
// [0,1). Out-of-range inputs are clamped (n < 1 acts as 1, negative durations as 0, unit_random
// outside [0,1) or NaN to the nearest bound); never overflows; never throws.
std::chrono::milliseconds backoff_delay(int retry_number, std::chrono::milliseconds base,
                                        std::chrono::milliseconds cap, double unit_random) noexcept;

}  // namespace bridge::webhook::util
