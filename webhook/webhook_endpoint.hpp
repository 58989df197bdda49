#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "webhook/delivery_sink.hpp"
#include "webhook/http_types.hpp"

namespace bridge::webhook {

struct endpoint_settings {
  std::string path = "/webhook";
  std::string app_secret;                // HMAC key of X-Hub-Signature-256
  std::string verify_token;              // the GET handshake's hub.verify_token
  std::chrono::seconds retry_after{10};  // told to Meta with a 503
};

// Meta's side of the public listener (DESIGN.md §4): the GET subscription handshake and signed
// POST deliveries. The signature is checked over the raw body before anything is parsed.
class webhook_endpoint final : public request_handler {
 public:
  webhook_endpoint(std::shared_ptr<delivery_sink> sink, endpoint_settings settings);

  boost::asio::awaitable<response> handle(request& req) override;
  // New secrets and path for requests from now on (configuration reload).
  void update(endpoint_settings settings);

 private:
  response answer_handshake(const request& req) const;
  boost::asio::awaitable<response> accept_delivery(request& req);

  std::shared_ptr<delivery_sink> sink_;
  endpoint_settings settings_;
};

}  // namespace bridge::webhook
