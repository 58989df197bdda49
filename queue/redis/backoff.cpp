#include "queue/redis/backoff.hpp"

#include <algorithm>

namespace bridge::queue::redis {

reconnect_backoff::reconnect_backoff(std::chrono::milliseconds first, std::chrono::milliseconds cap,
                                     std::uint64_t seed)
    : first_(std::max(first, std::chrono::milliseconds(1))),
      cap_(std::max(cap, first_)),
      step_(first_),
      random_(static_cast<std::minstd_rand::result_type>(seed % 0x7fffffffULL) + 1) {}

std::chrono::milliseconds reconnect_backoff::next() {
  const std::chrono::milliseconds step = step_;
  step_ = std::min(cap_, step_ * 2);
  std::uniform_int_distribution<std::int64_t> half(step.count() / 2, step.count());
  return std::chrono::milliseconds(half(random_));
}

}  // namespace bridge::queue::redis
