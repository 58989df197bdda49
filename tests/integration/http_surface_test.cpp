// The public and admin listeners of DESIGN.md §4, through real sockets.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/support/meta_payloads.hpp"
#include "tests/support/running_bridge.hpp"
#include "tests/support/self_signed.hpp"
#include "tests/support/test_client.hpp"

using namespace bridge::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

client_request get(const std::string& target) {
  client_request req;
  req.target = target;
  return req;
}

std::string handshake_target(const std::string& mode, const std::string& token,
                             const std::string& challenge) {
  return "/webhook?hub.mode=" + mode + "&hub.verify_token=" + token + "&hub.challenge=" + challenge;
}

// Sends raw bytes on a fresh connection and returns everything the server sends back until it
// closes the connection (or the deadline passes).
std::string raw_exchange(const asio::ip::tcp::endpoint& to, const std::string& bytes,
                         std::chrono::milliseconds deadline = 10s) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect(to);
  asio::write(socket, asio::buffer(bytes));
  std::string received;
  std::array<char, 4096> chunk{};
  std::function<void()> read_more = [&] {
    socket.async_read_some(asio::buffer(chunk), [&](boost::system::error_code ec, std::size_t n) {
      received.append(chunk.data(), n);
      if (!ec) read_more();
    });
  };
  read_more();
  io.run_for(deadline);
  return received;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_surface)

BOOST_AUTO_TEST_CASE(handshake_echoes_the_challenge_when_the_token_matches) {
  running_bridge bridge;
  const auto ok = send_request(bridge.webhook(),
                               get(handshake_target("subscribe", test_verify_token, "1158201444")));
  BOOST_TEST(ok.status == 200u);
  BOOST_TEST(ok.body == "1158201444");
  BOOST_TEST(ok.header("content-type") == "text/plain");

  const auto encoded = send_request(
      bridge.webhook(), get("/webhook?hub.challenge=a%2Bb+c&hub.verify_token=test-verify-token"
                            "&hub.mode=subscribe"));
  BOOST_TEST(encoded.status == 200u);
  BOOST_TEST(encoded.body == "a+b c");
}

BOOST_AUTO_TEST_CASE(handshake_with_wrong_token_or_mode_is_forbidden) {
  running_bridge bridge;
  const auto wrong_token =
      send_request(bridge.webhook(), get(handshake_target("subscribe", "guess", "42")));
  BOOST_TEST(wrong_token.status == 403u);
  BOOST_TEST(wrong_token.body.find("42") == std::string::npos);
  BOOST_TEST(wrong_token.header("content-type") == "application/json");
  const auto wrong_mode =
      send_request(bridge.webhook(), get(handshake_target("unsubscribe", test_verify_token, "42")));
  BOOST_TEST(wrong_mode.status == 403u);
}

BOOST_AUTO_TEST_CASE(handshake_missing_a_parameter_is_a_bad_request) {
  running_bridge bridge;
  for (const char* target : {"/webhook", "/webhook?hub.mode=subscribe&hub.challenge=1",
                             "/webhook?hub.mode=subscribe&hub.verify_token=test-verify-token",
                             "/webhook?hub.verify_token=test-verify-token&hub.challenge=1"}) {
    const auto res = send_request(bridge.webhook(), get(target));
    BOOST_TEST(res.status == 400u, target);
    BOOST_TEST(res.body.find("\"missing_parameter\"") != std::string::npos, target);
  }
}

BOOST_AUTO_TEST_CASE(unknown_path_is_404_and_other_methods_405) {
  running_bridge bridge;
  BOOST_TEST(send_request(bridge.webhook(), get("/other")).status == 404u);
  client_request put = get("/webhook");
  put.method = "PUT";
  const auto res = send_request(bridge.webhook(), put);
  BOOST_TEST(res.status == 405u);
  BOOST_TEST(res.header("allow") == "GET, POST");
  BOOST_TEST(res.body.find("\"method_not_allowed\"") != std::string::npos);
  // The admin endpoints are never on the public listener.
  BOOST_TEST(send_request(bridge.webhook(), get("/healthz")).status == 404u);
}

BOOST_AUTO_TEST_CASE(malformed_json_with_a_valid_signature_is_a_bad_request) {
  running_bridge bridge;
  const auto res = post_signed(bridge.webhook(), "/webhook", "{\"object\": ", test_app_secret);
  BOOST_TEST(res.status == 400u);
  BOOST_TEST(res.body.find("\"bad_request\"") != std::string::npos);
  BOOST_TEST(bridge.robofy().request_count() == 0u);
}

BOOST_AUTO_TEST_CASE(body_over_the_limit_is_413_and_the_connection_closes) {
  running_bridge bridge([](bridge::config::settings& s) { s.server.max_body_bytes = 1024; });
  const std::string big(4096, 'x');
  client_request post;
  post.method = "POST";
  post.target = "/webhook";
  post.body = big;
  post.headers = {{"X-Hub-Signature-256", "sha256=" + std::string(64, '0')}};
  client_request next = get("/webhook?hub.mode=subscribe");
  const auto answers = send_on_one_connection(bridge.webhook(), {post, next});
  BOOST_REQUIRE_GE(answers.size(), 1u);
  BOOST_TEST(answers[0].status == 413u);
  BOOST_TEST(answers[0].body.find("\"too_large\"") != std::string::npos);
  BOOST_TEST(answers[0].header("connection") == "close");
  // The connection was closed: the second request on it got no answer.
  BOOST_TEST((answers.size() == 1u || answers[1].status == 0u));
}

BOOST_AUTO_TEST_CASE(oversized_headers_are_refused) {
  running_bridge bridge;
  client_request req = get("/webhook?hub.mode=subscribe&pad=" + std::string(20000, 'a'));
  const auto res = send_request(bridge.webhook(), req);
  BOOST_TEST(res.status == 431u);
}

BOOST_AUTO_TEST_CASE(a_long_url_is_414_and_too_many_header_fields_431) {
  running_bridge bridge;
  const auto long_url = send_request(
      bridge.webhook(), get("/webhook?hub.mode=subscribe&pad=" + std::string(9000, 'a')));
  BOOST_TEST(long_url.status == 414u);
  BOOST_TEST(long_url.body.find("\"uri_too_long\"") != std::string::npos);

  client_request many = get("/webhook");
  for (int i = 0; i < 150; ++i)
    many.headers.emplace_back("X-Filler-" + std::to_string(i), "1");
  const auto res = send_request(bridge.webhook(), many);
  BOOST_TEST(res.status == 431u);
  BOOST_TEST(res.body.find("\"too_many_headers\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(slow_senders_are_cut_off_while_normal_traffic_flows) {
  running_bridge bridge([](bridge::config::settings& s) { s.server.read_timeout = 500ms; });
  // Thirty connections that start a request and never finish it.
  asio::io_context io;
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> slow;
  std::vector<bool> closed(30, false);
  std::array<char, 64> sink{};
  for (int i = 0; i < 30; ++i) {
    slow.push_back(std::make_unique<asio::ip::tcp::socket>(io));
    slow.back()->connect(bridge.webhook());
    asio::write(*slow.back(),
                asio::buffer(std::string("POST /webhook HTTP/1.1\r\nHost: x\r\nX-A: ")));
    slow.back()->async_read_some(asio::buffer(sink),
                                 [&closed, i](boost::system::error_code ec, std::size_t) {
                                   closed[i] = static_cast<bool>(ec);
                                 });
  }
  // Normal traffic is served meanwhile.
  for (int i = 0; i < 5; ++i) {
    const auto res =
        send_request(bridge.webhook(), get(handshake_target("subscribe", test_verify_token, "ok")));
    BOOST_TEST(res.status == 200u);
  }
  // And every slow connection is closed by the server once read_timeout has passed.
  io.run_for(10s);
  for (int i = 0; i < 30; ++i)
    BOOST_TEST(closed[i], "slow connection " << i);
}

BOOST_AUTO_TEST_CASE(garbage_is_a_bad_request) {
  running_bridge bridge;
  const std::string answer = raw_exchange(bridge.webhook(), "NOT HTTP AT ALL\r\n\r\n");
  BOOST_TEST(answer.starts_with("HTTP/1.1 400"));
}

BOOST_AUTO_TEST_CASE(requests_share_a_kept_alive_connection) {
  running_bridge bridge;
  const auto target = handshake_target("subscribe", test_verify_token, "7");
  const auto answers =
      send_on_one_connection(bridge.webhook(), {get(target), get(target), get(target)});
  BOOST_REQUIRE_EQUAL(answers.size(), 3u);
  for (const auto& answer : answers)
    BOOST_TEST(answer.status == 200u);
}

BOOST_AUTO_TEST_CASE(a_sender_slower_than_read_timeout_is_cut_off) {
  running_bridge bridge([](bridge::config::settings& s) { s.server.read_timeout = 300ms; });
  // Headers that never finish: the server closes the connection once read_timeout has passed,
  // well before this client's own 10 s deadline.
  const auto started = std::chrono::steady_clock::now();
  const std::string answer =
      raw_exchange(bridge.webhook(), "POST /webhook HTTP/1.1\r\nHost: x\r\n");
  const auto waited = std::chrono::steady_clock::now() - started;
  BOOST_TEST(answer.empty());
  BOOST_TEST(waited < 9s);
  // And normal traffic still flows.
  BOOST_TEST(
      send_request(bridge.webhook(), get(handshake_target("subscribe", test_verify_token, "1")))
          .status == 200u);
}

BOOST_AUTO_TEST_CASE(tls_listener_serves_the_handshake_and_signed_posts) {
  temp_dir dir;
  const pem_files pem = write_self_signed(dir.path());
  running_bridge bridge([&](bridge::config::settings& s) {
    s.server.tls = bridge::config::tls_settings{pem.cert_file, pem.key_file};
  });
  client_request handshake = get(handshake_target("subscribe", test_verify_token, "tls-ok"));
  handshake.ca_file = pem.cert_file;
  const auto res = send_request(bridge.webhook(), handshake);
  BOOST_TEST(res.status == 200u, res.error);
  BOOST_TEST(res.body == "tls-ok");

  // Plain HTTP on the TLS port gets no HTTP answer.
  BOOST_TEST(send_request(bridge.webhook(), get("/webhook")).status == 0u);
}

BOOST_AUTO_TEST_CASE(upstreams_over_tls_are_verified_and_used) {
  temp_dir dir;
  const pem_files pem = write_self_signed(dir.path());
  auto server_tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  server_tls->use_certificate_chain_file(pem.cert_file);
  server_tls->use_private_key_file(pem.key_file, asio::ssl::context::pem);

  asio::io_context io;
  fake_upstream robofy(io.get_executor(), robofy_echo(), server_tls);
  fake_upstream graph(io.get_executor(), graph_accepting(), server_tls);
  robofy.start();
  graph.start();
  std::thread loop([&] { io.run(); });

  bridge::app_options options;
  options.http.extra_ca_file = pem.cert_file;
  running_bridge bridge(
      [&](bridge::config::settings& s) {
        s.robofy.base_url = robofy.base_url();
        s.meta.graph_base_url = graph.base_url();
      },
      options);
  const auto body = delivery_body({{test_number, "919800000001", "wamid.tls1", "secure?"}});
  BOOST_TEST(post_signed(bridge.webhook(), "/webhook", body, test_app_secret).status == 200u);
  BOOST_TEST(graph.wait_for_requests(1, 10s));
  BOOST_TEST(robofy.request_count() == 1u);
  io.stop();
  loop.join();
}

BOOST_AUTO_TEST_CASE(admin_listener_answers_health_and_readiness) {
  running_bridge bridge;
  const auto health = send_request(bridge.admin(), get("/healthz"));
  BOOST_TEST(health.status == 200u);
  const auto ready = send_request(bridge.admin(), get("/readyz"));
  BOOST_TEST(ready.status == 200u);
  BOOST_TEST(send_request(bridge.admin(), get("/webhook")).status == 404u);
  client_request post = get("/readyz");
  post.method = "POST";
  BOOST_TEST(send_request(bridge.admin(), post).status == 405u);
}

BOOST_AUTO_TEST_CASE(draining_turns_readyz_503_and_refuses_posts_with_retry_after) {
  running_bridge bridge;
  bridge.robofy().set_responder([inner = robofy_echo()](const recorded_request& req) {
    canned_reply reply = inner(req);
    reply.hold = true;
    return reply;
  });
  const auto first = delivery_body({{test_number, "919800000001", "wamid.d1", "before stop"}});
  BOOST_TEST(post_signed(bridge.webhook(), "/webhook", first, test_app_secret).status == 200u);
  BOOST_REQUIRE(bridge.robofy().wait_for_requests(1, 10s));

  // Start the drain on the loop; it waits for the held answer.
  std::promise<std::size_t> dropped;
  bridge.on_loop([&](bridge::app& a) {
    asio::co_spawn(a.executor(), a.shutdown(),
                   [&](std::exception_ptr, std::size_t n) { dropped.set_value(n); });
  });
  BOOST_TEST(send_request(bridge.admin(), get("/readyz")).status == 503u);
  BOOST_TEST(send_request(bridge.admin(), get("/healthz")).status == 200u);
  const auto second = delivery_body({{test_number, "919800000002", "wamid.d2", "after stop"}});
  const auto refused = post_signed(bridge.webhook(), "/webhook", second, test_app_secret);
  BOOST_TEST(refused.status == 503u);
  BOOST_TEST(refused.header("retry-after") == "10");
  BOOST_TEST(refused.body.find("\"draining\"") != std::string::npos);

  // The conversation being answered finishes within the grace, and nothing is dropped.
  bridge.robofy().release_held();
  auto result = dropped.get_future();
  BOOST_REQUIRE(result.wait_for(10s) == std::future_status::ready);
  BOOST_TEST(result.get() == 0u);
  BOOST_TEST(bridge.graph().request_count() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
