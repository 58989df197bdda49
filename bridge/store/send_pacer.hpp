#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace bridge::store {

// Paces outbound messages per business number so a burst never trips Meta's throughput limit
// (130429). A token bucket in its "virtual scheduling" form: each number may send `rate`
// messages per second, with bursts of up to a quarter second's worth. Pure: the caller passes the
// time and sleeps for the delay it gets back. Not thread-safe.
class send_pacer {
 public:
  using clock = std::chrono::steady_clock;

  // Reserves the next send slot for `number` at `rate` messages per second and returns how long
  // to wait before using it (zero when a token is free now).
  clock::duration reserve(const std::string& number, std::uint32_t rate, clock::time_point now);

  // The burst a number may send at once at `rate`.
  static std::uint32_t burst_for(std::uint32_t rate);

 private:
  // When the bucket would next be empty at the steady rate ("theoretical arrival time").
  std::unordered_map<std::string, clock::time_point> next_slot_;
};

}  // namespace bridge::store
