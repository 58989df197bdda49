#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace bridge::queue::redis {

// The delays between reconnect attempts: exponential from `first`, doubling up to `cap`, each drawn
// uniformly from the upper half of its step ([d/2, d]) so that replicas which lost Redis together
// do not come back in lockstep. Pure: the random source is seeded by the caller.
class reconnect_backoff {
 public:
  // Durations below 1 ms act as 1 ms; a cap below first acts as first.
  reconnect_backoff(std::chrono::milliseconds first, std::chrono::milliseconds cap,
                    std::uint64_t seed);

  // The delay before the next attempt; each call doubles the step until the cap.
  std::chrono::milliseconds next();
  // Starts over at `first` (after a connection succeeded).
  void reset() noexcept { step_ = first_; }

 private:
  std::chrono::milliseconds first_;
  std::chrono::milliseconds cap_;
  std::chrono::milliseconds step_;
  std::minstd_rand random_;
};

}  // namespace bridge::queue::redis
