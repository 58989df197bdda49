#pragma once

#include <chrono>

namespace bridge {

// When a circuit breaker opens and how long it stays open.
struct circuit_breaker_settings {
  int failure_threshold = 5;                   // failures in a row that open it
  std::chrono::milliseconds open_time{5'000};  // first pause; doubles after each failed probe
  std::chrono::milliseconds max_open_time{60'000};
};

// Stops calling an upstream that keeps failing, and lets one probe through now and then to see
// whether it is back (closed → open → half-open → closed). Pure: the caller passes the time.
// Not thread-safe; one per upstream, on the event loop.
class circuit_breaker {
 public:
  using clock = std::chrono::steady_clock;
  enum class state { closed, open, half_open };

  using settings = circuit_breaker_settings;

  explicit circuit_breaker(settings s = {});

  // Whether a call may go out now. When open, false until the pause is over; then exactly one
  // caller gets true (the probe) until it reports back.
  bool allow(clock::time_point now);
  // The call allow() let through succeeded (the upstream answered): closes the breaker.
  void on_success();
  // The call allow() let through failed (transport error, timeout, 5xx, 429).
  void on_failure(clock::time_point now);

  state current() const { return state_; }
  // When the next probe may go (meaningful while open).
  clock::time_point retry_at() const { return retry_at_; }
  // Times it has opened, for logs and metrics.
  int times_opened() const { return times_opened_; }

 private:
  void open(clock::time_point now);

  settings settings_;
  state state_ = state::closed;
  int failures_ = 0;
  bool probe_out_ = false;
  std::chrono::milliseconds pause_;
  clock::time_point retry_at_{};
  int times_opened_ = 0;
};

}  // namespace bridge
