#include "queue/redis/backoff.hpp"

#include <algorithm>

namespace bridge::queue::redis {

namespace {

// Close seeds (a counter, a pid) must still give unrelated sequences: seed_seq mixes them.
std::minstd_rand seeded(std::uint64_t seed) {
  std::seed_seq mixed{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
  return std::minstd_rand(mixed);
}

}  // namespace

reconnect_backoff::reconnect_backoff(std::chrono::milliseconds first, std::chrono::milliseconds cap,
                                     std::uint64_t seed)
    : first_(std::max(first, std::chrono::milliseconds(1))),
      cap_(std::max(cap, first_)),
      step_(first_),
      random_(seeded(seed)) {}

std::chrono::milliseconds reconnect_backoff::next() {
  const std::chrono::milliseconds step = step_;
  step_ = std::min(cap_, step_ * 2);
  std::uniform_int_distribution<std::int64_t> half(step.count() / 2, step.count());
  return std::chrono::milliseconds(half(random_));
}

}  // namespace bridge::queue::redis
