#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "webhook/http/types.hpp"
#include "webhook/meta/delivery_sink.hpp"
#include "webhook/meta/signature.hpp"
#include "webhook/util/log_throttle.hpp"

namespace bridge::webhook::meta {

struct endpoint_settings {
  std::string path = "/webhook";
  std::string app_secret;                // HMAC key of X-Hub-Signature-256
  std::string verify_token;              // the GET handshake's hub.verify_token
  std::chrono::seconds retry_after{10};  // told to Meta with a 503
  // The app secret before a rotation: deliveries signed with it are accepted too. Empty: none.
  std::string previous_app_secret;
};

// What the endpoint answered, by result (read by the metrics).
struct endpoint_counters {
  std::uint64_t accepted = 0;       // POST 200: every message accepted
  std::uint64_t ignored = 0;        // POST 200: signed, but not a WhatsApp delivery
  std::uint64_t bad_signature = 0;  // POST 401
  std::uint64_t bad_request = 0;    // POST 400: malformed JSON
  std::uint64_t overloaded = 0;     // POST 503: queue full
  std::uint64_t draining = 0;       // POST 503: stopping
  std::uint64_t unstored = 0;       // POST 503: the messages could not be stored
  std::uint64_t not_found = 0;      // 404
  std::uint64_t method_not_allowed = 0;
  std::uint64_t handshake_accepted = 0;
  std::uint64_t handshake_refused = 0;  // 403
  std::uint64_t handshake_bad_request = 0;
  std::uint64_t signed_current = 0;   // deliveries whose signature matched meta.app_secret
  std::uint64_t signed_previous = 0;  // ... meta.previous_app_secret (the old one can go at 0)
};

// Meta's side of the public listener (DESIGN.md §4): the GET subscription handshake and signed
// POST deliveries. The signature is checked over the raw body before anything is parsed.
class webhook_endpoint final : public http::request_handler {
 public:
  webhook_endpoint(std::shared_ptr<delivery_sink> sink, endpoint_settings settings);

  // A POST to the webhook path gets an observer that computes the signature's HMAC while the
  // body arrives.
  std::unique_ptr<http::body_observer> observe_body(const http::request& header) override;
  boost::asio::awaitable<http::response> handle_observed(
      http::request& req, std::unique_ptr<http::body_observer> observed) override;
  boost::asio::awaitable<http::response> handle(http::request& req) override;
  // New secrets and path for requests from now on (configuration reload).
  void update(endpoint_settings settings);
  const endpoint_counters& counters() const { return counters_; }

 private:
  // Everything but a delivery: the handshake, 404, 405.
  boost::asio::awaitable<http::response> answer_other(http::request& req);
  http::response answer_handshake(const http::request& req);
  // `observed` is the HMAC computed as the body arrived, or null to compute it now.
  boost::asio::awaitable<http::response> accept_delivery(
      http::request& req, std::unique_ptr<http::body_observer> observed);

  std::shared_ptr<delivery_sink> sink_;
  endpoint_settings settings_;
  signature_key key_;                          // settings_.app_secret, keyed once
  std::optional<signature_key> previous_key_;  // settings_.previous_app_secret, when set
  endpoint_counters counters_;
  util::log_throttle refusal_log_;  // refused POSTs are logged once per interval, with a count
};

}  // namespace bridge::webhook::meta
