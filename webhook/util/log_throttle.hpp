#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace bridge::webhook::util {

// Lets a repeated log line through at most once per interval and counts the ones it held back,
// so a flood of refusals (unsigned POSTs, descriptor exhaustion) costs one line per interval
// instead of one per event while the count still tells how many there were.
class log_throttle {
 public:
  using clock = std::chrono::steady_clock;

  explicit log_throttle(clock::duration interval = std::chrono::seconds(10))
      : interval_(interval) {}

  // When this occurrence should be logged: how many were held back since the last one logged.
  // nullopt when it should be held back (it is counted).
  std::optional<std::uint64_t> admit(clock::time_point now = clock::now());

 private:
  clock::duration interval_;
  std::optional<clock::time_point> last_logged_;
  std::uint64_t held_back_ = 0;
};

}  // namespace bridge::webhook::util
