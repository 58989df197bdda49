#include "webhook/meta/endpoint.hpp"

#include <spdlog/spdlog.h>

#include "webhook/http/errors.hpp"
#include "webhook/http/query_string.hpp"
#include "webhook/meta/constant_time.hpp"
#include "webhook/meta/signature.hpp"

namespace bridge::webhook::meta {

namespace {

constexpr std::string_view signature_header = "X-Hub-Signature-256";

std::string_view describe(signature_status status) {
  switch (status) {
    case signature_status::missing:
      return "X-Hub-Signature-256 header is missing";
    case signature_status::malformed:
      return "X-Hub-Signature-256 is not of the form sha256=<64 hex digits>";
    case signature_status::mismatch:
      return "X-Hub-Signature-256 does not match the body";
    case signature_status::ok:
      break;
  }
  return "signature accepted";
}

// Computes the HMAC of a delivery's body while the listener reads it.
class signature_observer final : public http::body_observer {
 public:
  explicit signature_observer(signature_check check) : check_(std::move(check)) {}
  void on_body(std::string_view bytes) noexcept override { check_.update(bytes); }
  signature_status finish(std::string_view header_value) noexcept {
    return check_.finish(header_value);
  }

 private:
  signature_check check_;
};

std::string_view header_value(const http::request& req, std::string_view name) {
  const auto it = req.find(name);
  return it == req.end() ? std::string_view{} : std::string_view{it->value()};
}

// What Meta is told with a 503: its retries show in operators' logs of Meta's deliveries.
std::string_view unavailable_detail(admission result) {
  switch (result) {
    case admission::draining:
      return "the bridge is shutting down; retry later";
    case admission::unstored:
      return "the messages could not be stored (journal write failed); retry later";
    case admission::overloaded:
    case admission::accepted:
      break;
  }
  return "the queue is full; retry later";
}

std::string_view unavailable_code(admission result) {
  switch (result) {
    case admission::draining:
      return "draining";
    case admission::unstored:
      return "unstored";
    case admission::overloaded:
    case admission::accepted:
      break;
  }
  return "overloaded";
}

}  // namespace

webhook_endpoint::webhook_endpoint(std::shared_ptr<delivery_sink> sink, endpoint_settings settings)
    : sink_(std::move(sink)), settings_(std::move(settings)), key_(settings_.app_secret) {
  if (!settings_.previous_app_secret.empty()) previous_key_.emplace(settings_.previous_app_secret);
}

void webhook_endpoint::update(endpoint_settings settings) {
  // Keyed before anything changes, so a failure leaves the old settings whole.
  signature_key key(settings.app_secret);
  std::optional<signature_key> previous;
  if (!settings.previous_app_secret.empty()) previous.emplace(settings.previous_app_secret);
  settings_ = std::move(settings);
  key_ = std::move(key);
  previous_key_ = std::move(previous);
}

std::unique_ptr<http::body_observer> webhook_endpoint::observe_body(const http::request& header) {
  if (header.method() != http::verb::post || http::target_path(header.target()) != settings_.path) {
    return nullptr;
  }
  return std::make_unique<signature_observer>(key_.begin());
}

boost::asio::awaitable<http::response> webhook_endpoint::handle(http::request& req) {
  return handle_observed(req, nullptr);
}

boost::asio::awaitable<http::response> webhook_endpoint::handle_observed(
    http::request& req, std::unique_ptr<http::body_observer> observed) {
  // A delivery, nearly every request, goes to accept_delivery's coroutine directly: no frame of
  // a coroutine of its own around it (one allocation less per request).
  if (req.method() == http::verb::post && http::target_path(req.target()) == settings_.path) {
    return accept_delivery(req, std::move(observed));
  }
  return answer_other(req);
}

boost::asio::awaitable<http::response> webhook_endpoint::answer_other(http::request& req) {
  if (http::target_path(req.target()) != settings_.path) {
    ++counters_.not_found;
    co_return http::make_error_response(http::status::not_found, "not_found", "no such path",
                                        req.keep_alive());
  }
  if (req.method() == http::verb::get) co_return answer_handshake(req);
  ++counters_.method_not_allowed;
  auto res = http::make_error_response(http::status::method_not_allowed, "method_not_allowed",
                                       "use GET for the handshake and POST for deliveries",
                                       req.keep_alive());
  res.set(http::field::allow, "GET, POST");
  co_return res;
}

http::response webhook_endpoint::answer_handshake(const http::request& req) {
  const auto mode = http::query_parameter(req.target(), "hub.mode");
  const auto token = http::query_parameter(req.target(), "hub.verify_token");
  const auto challenge = http::query_parameter(req.target(), "hub.challenge");
  if (!mode || !token || !challenge) {
    ++counters_.handshake_bad_request;
    return http::make_error_response(http::status::bad_request, "missing_parameter",
                                     "hub.mode, hub.verify_token and hub.challenge are required",
                                     req.keep_alive());
  }
  // Both checks always run so the answer time does not tell which one failed.
  const bool token_ok = constant_time_equal(*token, settings_.verify_token);
  if (*mode != "subscribe" || !token_ok) {
    ++counters_.handshake_refused;
    if (const auto held_back = refusal_log_.admit()) {
      spdlog::warn("webhook handshake refused: {} ({} more refused since the last report)",
                   *mode != "subscribe" ? "hub.mode is not subscribe" : "verify token mismatch",
                   *held_back);
    }
    return http::make_error_response(http::status::forbidden, "verification_failed",
                                     "hub.mode or hub.verify_token is wrong", req.keep_alive());
  }
  ++counters_.handshake_accepted;
  spdlog::info("webhook handshake accepted");
  return http::make_response(http::status::ok, "text/plain", *challenge, req.keep_alive());
}

boost::asio::awaitable<http::response> webhook_endpoint::accept_delivery(
    http::request& req, std::unique_ptr<http::body_observer> observed) {
  const std::string_view claimed = header_value(req, signature_header);
  // The observer was made by observe_body() for this very http::request, so it is ours; a
  // http::request handed in without one (tests, fuzzing) is checked in one pass here.
  auto* streamed = dynamic_cast<signature_observer*>(observed.get());
  signature_status status = streamed ? streamed->finish(claimed) : key_.verify(claimed, req.body());
  if (status == signature_status::ok) {
    ++counters_.signed_current;
  } else if (status == signature_status::mismatch && previous_key_) {
    // During a rotation: the old secret in one more pass over the body (two HMACs at most).
    status = previous_key_->verify(claimed, req.body());
    if (status == signature_status::ok) ++counters_.signed_previous;
  }
  if (status != signature_status::ok) {
    ++counters_.bad_signature;
    if (const auto held_back = refusal_log_.admit()) {
      spdlog::warn("webhook POST refused: {} ({} more refused since the last report)",
                   describe(status), *held_back);
    }
    co_return http::make_error_response(http::status::unauthorized, "bad_signature",
                                        describe(status), req.keep_alive());
  }

  auto parsed = parse_delivery(req.body());
  if (!parsed) {
    if (parsed.error() == make_error_code(payload_errc::not_whatsapp)) {
      // Signed by Meta but for another product: a retry would never change the answer.
      ++counters_.ignored;
      spdlog::warn("webhook POST ignored: object is not whatsapp_business_account");
      co_return http::make_response(http::status::ok, "application/json", R"({"status":"ignored"})",
                                    req.keep_alive());
    }
    ++counters_.bad_request;
    spdlog::warn("webhook POST refused: {}", parsed.error().message());
    co_return http::make_error_response(http::status::bad_request, "bad_request",
                                        parsed.error().message(), req.keep_alive());
  }

  const admission result = co_await sink_->admit(std::move(*parsed));
  if (result == admission::accepted) {
    ++counters_.accepted;
    co_return http::make_response(http::status::ok, "application/json", R"({"status":"accepted"})",
                                  req.keep_alive());
  }
  ++(result == admission::draining   ? counters_.draining
     : result == admission::unstored ? counters_.unstored
                                     : counters_.overloaded);
  auto res = http::make_error_response(http::status::service_unavailable, unavailable_code(result),
                                       unavailable_detail(result), req.keep_alive());
  res.set(http::field::retry_after, std::to_string(settings_.retry_after.count()));
  co_return res;
}

}  // namespace bridge::webhook::meta
