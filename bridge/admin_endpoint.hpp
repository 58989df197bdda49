#pragma once

#include <functional>
#include <memory>
#include <string>

#include "bridge/control_api.hpp"
#include "webhook/http/types.hpp"

namespace bridge {

// Who may use the admin listener, read per request (so a reload applies at once).
struct admin_policy {
  std::string token;             // admin.token; empty: control paths are closed
  bool protect_metrics = false;  // /metrics needs the token too
};

// The admin listener's answers (DESIGN.md §4, §9): GET /healthz is 200 while the event loop
// answers; GET /readyz is 200 when `is_ready` says so and 503 otherwise (neither ever needs a
// token); GET /metrics is Prometheus text (behind the token with protect_metrics); /v1/... are the
// control paths of control_api, always behind "Authorization: Bearer <admin.token>": 403 while
// no token is configured, 401 with WWW-Authenticate for a missing or wrong one.
class admin_endpoint final : public webhook::http::request_handler {
 public:
  // GET /metrics answers metrics() as Prometheus text; `control` may be null (no control API).
  admin_endpoint(std::function<bool()> is_ready, std::function<std::string()> metrics,
                 std::function<admin_policy()> policy = {},
                 std::shared_ptr<control_api> control = nullptr);
  boost::asio::awaitable<webhook::http::response> handle(webhook::http::request& req) override;

  // Control requests refused for their token, for the metrics.
  std::uint64_t refused() const { return refused_; }

 private:
  std::function<bool()> is_ready_;
  std::function<std::string()> metrics_;
  std::function<admin_policy()> policy_;
  std::shared_ptr<control_api> control_;
  std::uint64_t refused_ = 0;
};

}  // namespace bridge
