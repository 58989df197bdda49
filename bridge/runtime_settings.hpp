#pragma once

#include <chrono>
#include <memory>

#include "bridge/circuit_breaker.hpp"
#include "config/settings.hpp"
#include "robofy/client/chat_service.hpp"
#include "webhook/meta/graph_sender.hpp"

namespace bridge {

// The loaded configuration plus what is derived from it once per load rather than per message.
// Immutable once built; a reload builds a new one and swaps the pointer.
struct runtime_settings {
  config::settings config;
  webhook::http::upstream_origin robofy_origin;
  webhook::http::upstream_origin graph_origin;
  // First retry's upper bound for Robofy and Graph; each later retry doubles it, up to the cap.
  std::chrono::milliseconds retry_base_delay{500};
  std::chrono::milliseconds retry_max_delay{10'000};
  // One Graph call, connection included; Meta answers sends in well under a second.
  std::chrono::milliseconds graph_timeout{15'000};
  // Graph calls in all for one message part while Meta answers with throttling or transient
  // errors, and how long a part may keep trying before it is given up.
  int graph_max_attempts = 12;
  std::chrono::milliseconds graph_retry_deadline{10 * 60'000};
  // How often "typing…" is shown again while Robofy thinks (Meta hides it after 25 s).
  std::chrono::milliseconds typing_refresh{20'000};
  // Meta's pair rate limit (131056): the n-th retry for one customer waits base * 4^n.
  std::chrono::milliseconds pair_limit_base{1'000};
  // When to stop calling a failing upstream for a while.
  circuit_breaker::settings robofy_breaker;
  circuit_breaker::settings graph_breaker;

  robofy::client::chat_target robofy() const;
  // Where to send replies from business number phone_number_id, which `route` matched (the
  // route may be the "*" wildcard, so the number comes from the message, not the route).
  webhook::meta::graph_target graph_for(const config::route& route,
                                        const std::string& phone_number_id) const;
};

// Derives runtime settings from a validated configuration. Throws std::invalid_argument when a
// base URL cannot be used.
std::shared_ptr<const runtime_settings> make_runtime_settings(config::settings settings);

}  // namespace bridge
