#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace bridge {

// A latency histogram with fixed bucket bounds (seconds), as Prometheus histograms count them:
// each bucket counts observations at or below its bound. Not thread-safe.
class latency_histogram {
 public:
  static constexpr std::array<double, 14> bounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                    1,     2.5,  5,     10,   30,  60,   120};

  void observe(std::chrono::steady_clock::duration elapsed);

  // Observations at or below bounds[i].
  std::uint64_t cumulative(std::size_t i) const;
  std::uint64_t count() const { return count_; }
  double sum_seconds() const { return sum_; }

 private:
  std::array<std::uint64_t, bounds.size()> buckets_{};  // observations in (bounds[i-1], bounds[i]]
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

}  // namespace bridge
