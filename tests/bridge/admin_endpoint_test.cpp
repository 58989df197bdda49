// The admin listener's routing and gate, without sockets: which paths need the token, and that a
// changed policy applies to the next request.
#include "bridge/admin_endpoint.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <optional>
#include <string>

#include "bridge/runtime_settings.hpp"
#include "bridge/store/local_store.hpp"

namespace asio = boost::asio;
namespace http = bridge::webhook::http;

namespace {

const std::string token = "s3cret-admin-token";

// An admin endpoint over a memory store whose policy the test changes between requests.
struct endpoint_under_test {
  asio::io_context io;
  bridge::admin_policy policy;
  std::shared_ptr<bridge::admin_endpoint> endpoint;

  endpoint_under_test() {
    auto store = std::make_shared<bridge::store::local_store>(io.get_executor(), 100);
    auto settings = std::make_shared<bridge::runtime_settings>();
    auto control = std::make_shared<bridge::control_api>(
        store, bridge::webhook::io::make_system_clock(), [settings] { return settings; });
    endpoint = std::make_shared<bridge::admin_endpoint>(
        [] { return true; }, [] { return std::string("robofy_wa_bridge_ready 1\n"); },
        [this] { return policy; }, control);
  }

  // The answer to `method target`, with "Authorization: Bearer <bearer>" unless empty.
  http::response answer(http::verb method, const std::string& target,
                        const std::string& bearer = {}) {
    http::request req{method, target, 11};
    if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
    std::optional<http::response> out;
    asio::co_spawn(io, endpoint->handle(req), [&](std::exception_ptr e, http::response res) {
      BOOST_TEST(!e);
      out = std::move(res);
    });
    io.restart();
    io.run_for(std::chrono::seconds(5));
    BOOST_TEST_REQUIRE(out.has_value());
    return *out;
  }

  unsigned status(http::verb method, const std::string& target, const std::string& bearer = {}) {
    return answer(method, target, bearer).result_int();
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(admin_endpoint)

BOOST_AUTO_TEST_CASE(health_and_readiness_never_need_the_token) {
  endpoint_under_test admin;
  for (const bool configured : {false, true}) {
    admin.policy = {configured ? token : "", true};
    BOOST_TEST(admin.status(http::verb::get, "/healthz") == 200u);
    BOOST_TEST(admin.status(http::verb::get, "/readyz") == 200u);
    BOOST_TEST(admin.status(http::verb::get, "/healthz", "wrong") == 200u);
  }
}

BOOST_AUTO_TEST_CASE(control_paths_are_closed_until_a_token_is_configured) {
  endpoint_under_test admin;
  BOOST_TEST(admin.status(http::verb::get, "/v1/conversations/paused") == 403u);
  BOOST_TEST(admin.status(http::verb::get, "/v1/dead-letters", token) == 403u);
  BOOST_TEST(admin.status(http::verb::post, "/v1/conversations/1/2/pause", token) == 403u);
  // Metrics stay open unless protect_metrics asks otherwise.
  BOOST_TEST(admin.status(http::verb::get, "/metrics") == 200u);
  BOOST_TEST(admin.endpoint->refused() == 3u);
}

BOOST_AUTO_TEST_CASE(control_paths_need_the_right_token_and_a_change_applies_at_once) {
  endpoint_under_test admin;
  admin.policy = {token, false};
  const http::response missing = admin.answer(http::verb::get, "/v1/conversations/paused");
  BOOST_TEST(missing.result_int() == 401u);
  BOOST_TEST(!missing[http::field::www_authenticate].empty());
  BOOST_TEST(admin.status(http::verb::get, "/v1/conversations/paused", "wrong") == 401u);
  BOOST_TEST(admin.status(http::verb::get, "/v1/conversations/paused",
                          token.substr(0, token.size() - 1)) == 401u);
  const http::response allowed = admin.answer(http::verb::get, "/v1/conversations/paused", token);
  BOOST_TEST(allowed.result_int() == 200u);
  BOOST_TEST(allowed.body() == R"({"paused":[]})");
  // An unknown control path does not tell a caller without the token that it is unknown.
  BOOST_TEST(admin.status(http::verb::get, "/v1/nothing-here") == 401u);
  BOOST_TEST(admin.status(http::verb::get, "/v1/nothing-here", token) == 404u);
  BOOST_TEST(admin.status(http::verb::get, "/metrics") == 200u);

  admin.policy = {"rotated-token", false};  // a reload
  BOOST_TEST(admin.status(http::verb::get, "/v1/conversations/paused", token) == 401u);
  BOOST_TEST(admin.status(http::verb::get, "/v1/conversations/paused", "rotated-token") == 200u);
}

BOOST_AUTO_TEST_CASE(protect_metrics_puts_metrics_behind_the_token) {
  endpoint_under_test admin;
  admin.policy = {token, true};
  const http::response refused = admin.answer(http::verb::get, "/metrics");
  BOOST_TEST(refused.result_int() == 401u);
  BOOST_TEST(!refused[http::field::www_authenticate].empty());
  BOOST_TEST(admin.status(http::verb::get, "/metrics", "wrong") == 401u);
  const http::response metrics = admin.answer(http::verb::get, "/metrics", token);
  BOOST_TEST(metrics.result_int() == 200u);
  BOOST_TEST(metrics.body() == "robofy_wa_bridge_ready 1\n");
  // Protected metrics without any token configured are closed like the control paths.
  admin.policy = {"", true};
  BOOST_TEST(admin.status(http::verb::get, "/metrics") == 403u);
}

BOOST_AUTO_TEST_SUITE_END()
