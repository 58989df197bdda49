#pragma once

#include <functional>

#include "webhook/http/types.hpp"

namespace bridge {

// The admin listener's answers (DESIGN.md §4): GET /healthz is 200 while the event loop answers;
// GET /readyz is 200 when `is_ready` says so and 503 otherwise; GET /metrics is Prometheus text.
class admin_endpoint final : public webhook::http::request_handler {
 public:
  // GET /metrics answers metrics() as Prometheus text.
  admin_endpoint(std::function<bool()> is_ready, std::function<std::string()> metrics);
  boost::asio::awaitable<webhook::http::response> handle(webhook::http::request& req) override;

 private:
  std::function<bool()> is_ready_;
  std::function<std::string()> metrics_;
};

}  // namespace bridge
