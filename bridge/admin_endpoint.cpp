#include "bridge/admin_endpoint.hpp"

#include "bridge/admin_auth.hpp"
#include "webhook/http/errors.hpp"
#include "webhook/http/query_string.hpp"

namespace bridge {

namespace http = webhook::http;

admin_endpoint::admin_endpoint(std::function<bool()> is_ready, std::function<std::string()> metrics,
                               std::function<admin_policy()> policy,
                               std::shared_ptr<control_api> control)
    : is_ready_(std::move(is_ready)),
      metrics_(std::move(metrics)),
      policy_(std::move(policy)),
      control_(std::move(control)) {}

boost::asio::awaitable<http::response> admin_endpoint::handle(http::request& req) {
  const std::string_view path = http::target_path(req.target());
  const admin_policy policy = policy_ ? policy_() : admin_policy{};
  if (control_ && control_api::serves(path)) {
    const admin_access access = check_admin_token(req, policy.token);
    if (access != admin_access::allowed) {
      ++refused_;
      co_return refusal_for(access, req.keep_alive());
    }
    co_return co_await control_->handle(req);
  }
  const bool known = path == "/healthz" || path == "/readyz" || path == "/metrics";
  if (!known) {
    co_return http::make_error_response(http::status::not_found, "not_found", "no such path",
                                        req.keep_alive());
  }
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    auto res = http::make_error_response(http::status::method_not_allowed, "method_not_allowed",
                                         "use GET", req.keep_alive());
    res.set(http::field::allow, "GET, HEAD");
    co_return res;
  }
  if (path == "/metrics") {
    if (policy.protect_metrics) {
      const admin_access access = check_admin_token(req, policy.token);
      if (access != admin_access::allowed) {
        ++refused_;
        co_return refusal_for(access, req.keep_alive());
      }
    }
    co_return http::make_response(http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                                  metrics_(), req.keep_alive());
  }
  if (path == "/healthz") {
    co_return http::make_response(http::status::ok, "application/json", R"({"status":"ok"})",
                                  req.keep_alive());
  }
  if (is_ready_()) {
    co_return http::make_response(http::status::ok, "application/json", R"({"status":"ready"})",
                                  req.keep_alive());
  }
  co_return http::make_error_response(http::status::service_unavailable, "not_ready",
                                      "starting up or draining", req.keep_alive());
}

}  // namespace bridge
