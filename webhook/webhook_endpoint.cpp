#include "webhook/webhook_endpoint.hpp"

#include <spdlog/spdlog.h>

#include "webhook/constant_time.hpp"
#include "webhook/http_errors.hpp"
#include "webhook/query_string.hpp"
#include "webhook/signature.hpp"

namespace bridge::webhook {

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

}  // namespace

webhook_endpoint::webhook_endpoint(std::shared_ptr<delivery_sink> sink, endpoint_settings settings)
    : sink_(std::move(sink)), settings_(std::move(settings)), key_(settings_.app_secret) {}

void webhook_endpoint::update(endpoint_settings settings) {
  // Keyed before anything changes, so a failure leaves the old settings whole.
  signature_key key(settings.app_secret);
  settings_ = std::move(settings);
  key_ = std::move(key);
}

boost::asio::awaitable<response> webhook_endpoint::handle(request& req) {
  if (target_path(req.target()) != settings_.path) {
    ++counters_.not_found;
    co_return make_error_response(http::status::not_found, "not_found", "no such path",
                                  req.keep_alive());
  }
  if (req.method() == http::verb::get) co_return answer_handshake(req);
  if (req.method() == http::verb::post) co_return co_await accept_delivery(req);
  ++counters_.method_not_allowed;
  auto res =
      make_error_response(http::status::method_not_allowed, "method_not_allowed",
                          "use GET for the handshake and POST for deliveries", req.keep_alive());
  res.set(http::field::allow, "GET, POST");
  co_return res;
}

response webhook_endpoint::answer_handshake(const request& req) {
  const auto mode = query_parameter(req.target(), "hub.mode");
  const auto token = query_parameter(req.target(), "hub.verify_token");
  const auto challenge = query_parameter(req.target(), "hub.challenge");
  if (!mode || !token || !challenge) {
    ++counters_.handshake_bad_request;
    return make_error_response(http::status::bad_request, "missing_parameter",
                               "hub.mode, hub.verify_token and hub.challenge are required",
                               req.keep_alive());
  }
  // Both checks always run so the answer time does not tell which one failed.
  const bool token_ok = constant_time_equal(*token, settings_.verify_token);
  if (*mode != "subscribe" || !token_ok) {
    ++counters_.handshake_refused;
    spdlog::warn("webhook handshake refused: {}",
                 *mode != "subscribe" ? "hub.mode is not subscribe" : "verify token mismatch");
    return make_error_response(http::status::forbidden, "verification_failed",
                               "hub.mode or hub.verify_token is wrong", req.keep_alive());
  }
  ++counters_.handshake_accepted;
  spdlog::info("webhook handshake accepted");
  return make_response(http::status::ok, "text/plain", *challenge, req.keep_alive());
}

boost::asio::awaitable<response> webhook_endpoint::accept_delivery(request& req) {
  const auto header = req.find(signature_header);
  const std::string_view header_value =
      header == req.end() ? std::string_view{} : std::string_view{header->value()};
  const signature_status status = key_.verify(header_value, req.body());
  if (status != signature_status::ok) {
    ++counters_.bad_signature;
    spdlog::warn("webhook POST refused: {}", describe(status));
    co_return make_error_response(http::status::unauthorized, "bad_signature", describe(status),
                                  req.keep_alive());
  }

  auto parsed = parse_delivery(req.body());
  if (!parsed) {
    if (parsed.error() == make_error_code(payload_errc::not_whatsapp)) {
      // Signed by Meta but for another product: a retry would never change the answer.
      ++counters_.ignored;
      spdlog::warn("webhook POST ignored: object is not whatsapp_business_account");
      co_return make_response(http::status::ok, "application/json", R"({"status":"ignored"})",
                              req.keep_alive());
    }
    ++counters_.bad_request;
    spdlog::warn("webhook POST refused: {}", parsed.error().message());
    co_return make_error_response(http::status::bad_request, "bad_request",
                                  parsed.error().message(), req.keep_alive());
  }

  const admission result = co_await sink_->admit(std::move(*parsed));
  if (result == admission::accepted) {
    ++counters_.accepted;
    co_return make_response(http::status::ok, "application/json", R"({"status":"accepted"})",
                            req.keep_alive());
  }
  const bool draining = result == admission::draining;
  ++(draining ? counters_.draining : counters_.overloaded);
  auto res = make_error_response(
      http::status::service_unavailable, draining ? "draining" : "overloaded",
      draining ? "the bridge is shutting down; retry later" : "the queue is full; retry later",
      req.keep_alive());
  res.set(http::field::retry_after, std::to_string(settings_.retry_after.count()));
  co_return res;
}

}  // namespace bridge::webhook
