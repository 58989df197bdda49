#pragma once

#include <chrono>
#include <string_view>

#include "bridge/runtime_settings.hpp"
#include "webhook/meta/graph_codec.hpp"

namespace bridge {

// The retry policy of one message part sent through the Graph API, as a value tested without
// sockets: after each reply it says whether to send again, and after how long. Throttling and
// transient errors are retried with exponential backoff and full jitter, up to graph_max_attempts
// calls and the graph_retry_deadline; Meta's pair rate limit (131056, too many messages to one
// customer) is waited out 4^n × pair_limit_base at a time without counting as a failed attempt;
// permanent errors end it at once.
class send_retry {
 public:
  using clock = std::chrono::steady_clock;

  // What to do after a reply.
  struct decision {
    enum class action { done, retry, give_up };
    action what = action::done;
    clock::duration wait{0};    // retry: how long to wait first
    bool pair_limited = false;  // retry: the wait is the pair rate limit's
    std::string_view reason;    // give_up: why, for the log
  };

  // Meta's pair rate limit: too many messages to one customer in a short time.
  static constexpr int pair_rate_limit_code = 131056;

  // A part whose first try starts at `started`.
  send_retry(const runtime_settings& settings, clock::time_point started);

  // After `reply` arrived at `now`; `unit_random` in [0, 1) draws the jitter. Never throws.
  decision after(const webhook::meta::graph_reply& reply, clock::time_point now,
                 double unit_random) noexcept;
  // Whether a try that starts at `when` is still within the retry deadline.
  bool in_time(clock::time_point when) const noexcept { return when <= deadline_; }
  // The attempt the next try is (1 for the first).
  int attempt() const noexcept { return attempt_; }
  // Calls allowed in all.
  int attempts() const noexcept { return max_attempts_; }

 private:
  const runtime_settings& settings_;
  clock::time_point deadline_;
  int max_attempts_;
  int attempt_ = 1;
  int pair_waits_ = 0;
};

}  // namespace bridge
