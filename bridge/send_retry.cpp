#include "bridge/send_retry.hpp"

#include <algorithm>

#include "webhook/util/backoff.hpp"

namespace bridge {

using webhook::meta::graph_outcome;

send_retry::send_retry(const runtime_settings& settings, clock::time_point started)
    : settings_(settings),
      deadline_(started + settings.graph_retry_deadline),
      max_attempts_(std::max(1, settings.graph_max_attempts)) {}

send_retry::decision send_retry::after(const webhook::meta::graph_reply& reply,
                                       clock::time_point now, double unit_random) noexcept {
  using action = decision::action;
  if (reply.outcome == graph_outcome::sent) return {};
  if (reply.code == pair_rate_limit_code) {
    // The Graph API itself is fine; only this customer must wait, 4^n times the base.
    const auto wait = settings_.pair_limit_base * (1LL << (2 * std::min(pair_waits_, 8)));
    ++pair_waits_;
    if (now + wait > deadline_) {
      return {action::give_up, {}, false, "pair rate limit (131056) past the deadline"};
    }
    return {action::retry, wait, true, {}};
  }
  const bool final_try =
      reply.outcome == graph_outcome::permanent || attempt_ >= max_attempts_ || now >= deadline_;
  if (final_try) {
    return {
        action::give_up,
        {},
        false,
        reply.outcome == graph_outcome::permanent ? "a permanent error" : "its retries are spent"};
  }
  const auto wait = webhook::util::backoff_delay(attempt_, settings_.retry_base_delay,
                                                 settings_.retry_max_delay, unit_random);
  ++attempt_;
  return {action::retry, wait, false, {}};
}

}  // namespace bridge
