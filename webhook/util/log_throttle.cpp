#include "webhook/util/log_throttle.hpp"

namespace bridge::webhook::util {

std::optional<std::uint64_t> log_throttle::admit(clock::time_point now) {
  if (last_logged_ && now - *last_logged_ < interval_) {
    ++held_back_;
    return std::nullopt;
  }
  last_logged_ = now;
  const std::uint64_t held = held_back_;
  held_back_ = 0;
  return held;
}

}  // namespace bridge::webhook::util
