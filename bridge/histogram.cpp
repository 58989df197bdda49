#include "bridge/histogram.hpp"

#include <algorithm>

namespace bridge {

void latency_histogram::observe(std::chrono::steady_clock::duration elapsed) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  const auto it = std::lower_bound(bounds.begin(), bounds.end(), seconds);
  if (it != bounds.end()) ++buckets_[static_cast<std::size_t>(it - bounds.begin())];
  ++count_;
  sum_ += seconds;
}

std::uint64_t latency_histogram::cumulative(std::size_t i) const {
  std::uint64_t total = 0;
  for (std::size_t b = 0; b <= i && b < buckets_.size(); ++b)
    total += buckets_[b];
  return total;
}

}  // namespace bridge
