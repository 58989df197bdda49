// The public and admin listeners of DESIGN.md §4, through real sockets.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/test/unit_test.hpp>
#include <sstream>

#include "tests/support/meta_payloads.hpp"
#include "tests/support/running_bridge.hpp"
#include "tests/support/self_signed.hpp"
#include "tests/support/test_client.hpp"
#include "webhook/http/types.hpp"
#include "webhook/meta/signature.hpp"

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

// Raw bytes of a signed POST to /webhook: the header (with Content-Length) and the body apart, so
// a test can send them separately.
struct raw_post {
  std::string header;
  std::string body;
};
raw_post signed_post(const std::string& body, const std::string& secret = test_app_secret,
                     const std::string& extra_fields = "") {
  return {
      "POST /webhook HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/json\r\n"
      "X-Hub-Signature-256: " +
          bridge::webhook::meta::sign_body(secret, body) +
          "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra_fields + "\r\n",
      body};
}

// The answers in `received`, parsed in order; head[i] says whether the i-th answered a HEAD
// (then it has no body, whatever its Content-Length says). Stops at the first incomplete one.
std::vector<bridge::webhook::http::response> parse_answers(std::string_view received,
                                                           const std::vector<bool>& head) {
  namespace http = boost::beast::http;
  std::vector<bridge::webhook::http::response> answers;
  for (const bool is_head : head) {
    http::response_parser<http::string_body> parser;
    parser.skip(is_head);
    parser.eager(true);
    boost::system::error_code ec;
    while (!parser.is_done() && !received.empty()) {
      const std::size_t used = parser.put(asio::buffer(received.data(), received.size()), ec);
      received.remove_prefix(used);
      if (ec || used == 0) break;
    }
    if (!parser.is_done()) break;
    answers.push_back(parser.release());
  }
  return answers;
}

constexpr auto answer_wait = 5s;

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

  // Signed posts one after another on one kept-alive connection: after the first is accepted
  // the connection is trusted and keeps OpenSSL's record buffers between requests; every later
  // request and answer still goes through whole.
  std::vector<client_request> posts;
  for (int i = 0; i < 4; ++i) {
    client_request post;
    post.method = "POST";
    post.target = "/webhook";
    post.body =
        delivery_body({{test_number, "91980000000" + std::to_string(i),
                        "wamid.tls-kept-" + std::to_string(i), std::string(3000, 'a' + i)}});
    post.headers = {
        {"Content-Type", "application/json"},
        {"X-Hub-Signature-256", bridge::webhook::meta::sign_body(test_app_secret, post.body)}};
    post.ca_file = pem.cert_file;
    posts.push_back(std::move(post));
  }
  const auto answers = send_on_one_connection(bridge.webhook(), posts);
  BOOST_REQUIRE(answers.size() == posts.size());
  for (const auto& answer : answers)
    BOOST_TEST(answer.status == 200u, answer.error);
  BOOST_TEST(bridge.robofy().wait_for_requests(posts.size(), 10s));

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

// A refused POST (no valid signature) ends its connection, so a client cannot hold a connection
// with one refused request per idle timeout; Meta's signed deliveries keep theirs alive.
BOOST_AUTO_TEST_CASE(an_unsigned_post_gets_401_and_closes_while_signed_posts_keep_alive) {
  running_bridge bridge;
  client_request unsigned_post;
  unsigned_post.method = "POST";
  unsigned_post.target = "/webhook";
  unsigned_post.body = delivery_body({{test_number, "919800000001", "wamid.u1", "forged"}});
  const auto refused = send_on_one_connection(
      bridge.webhook(),
      {unsigned_post, get(handshake_target("subscribe", test_verify_token, "x"))});
  BOOST_REQUIRE_GE(refused.size(), 1u);
  BOOST_TEST(refused[0].status == 401u);
  BOOST_TEST(refused[0].header("connection") == "close");
  BOOST_TEST((refused.size() == 1u || refused[1].status == 0u));

  client_request signed_post;
  signed_post.method = "POST";
  signed_post.target = "/webhook";
  std::vector<client_request> deliveries;
  for (int i = 0; i < 2; ++i) {
    signed_post.body = delivery_body({{test_number, "919800000001", "wamid.ka" + std::to_string(i),
                                       "hello " + std::to_string(i)}});
    signed_post.headers = {{"Content-Type", "application/json"},
                           {"X-Hub-Signature-256",
                            bridge::webhook::meta::sign_body(test_app_secret, signed_post.body)}};
    deliveries.push_back(signed_post);
  }
  const auto kept = send_on_one_connection(bridge.webhook(), deliveries);
  BOOST_REQUIRE_EQUAL(kept.size(), 2u);
  BOOST_TEST(kept[0].status == 200u);
  BOOST_TEST(kept[0].header("connection") != "close");
  BOOST_TEST(kept[1].status == 200u);
  BOOST_TEST(bridge.robofy().wait_for_requests(2, answer_wait));
}

// server.unauthenticated_idle_timeout: a connection that sent nothing is closed after it; one
// that completed the verify-token handshake (a 2xx) waits server.idle_timeout.
BOOST_AUTO_TEST_CASE(idle_connections_without_a_2xx_are_closed_after_the_unauthenticated_timeout) {
  running_bridge bridge([](bridge::config::settings& s) {
    s.server.unauthenticated_idle_timeout = 300ms;
    s.server.idle_timeout = 30s;
  });
  raw_connection silent(bridge.webhook());
  raw_connection verified(bridge.webhook());
  const std::string handshake = "GET " + handshake_target("subscribe", test_verify_token, "hs") +
                                " HTTP/1.1\r\nHost: bridge\r\n\r\n";
  verified.write(handshake);
  BOOST_TEST(verified.read_until("\r\n\r\nhs", answer_wait).starts_with("HTTP/1.1 200 "));
  BOOST_TEST(silent.wait_closed(answer_wait));
  BOOST_TEST(!verified.wait_closed(300ms));
  const std::size_t before = verified.received().size();
  verified.write(handshake);
  BOOST_TEST(verified.read_until("\r\n\r\nhs", answer_wait, before)
                 .substr(before)
                 .starts_with("HTTP/1.1 200 "));
}

// server.max_inflight_body_bytes: while one sender holds most of the budget with a body it
// sends slowly, a POST whose body would not fit gets 503 busy + Retry-After from its header
// alone; the metric counts it, and the budget is free again once the slow request is answered.
BOOST_AUTO_TEST_CASE(a_body_over_the_inflight_budget_gets_503_busy_and_is_counted) {
  running_bridge bridge([](bridge::config::settings& s) {
    s.server.max_body_bytes = 4096;
    s.server.max_inflight_body_bytes = 4096;
  });
  const std::string p = "robofy_wa_bridge_";
  raw_connection slow(bridge.webhook());
  const raw_post held = signed_post(std::string(3000, ' ') + "{}");
  slow.write(held.header + held.body.substr(0, 100));
  // Scrapes the gauge again (each scrape is a round trip) until it shows `bytes`; bounded.
  const auto inflight_becomes = [&](double bytes) {
    const auto deadline = std::chrono::steady_clock::now() + answer_wait;
    while (metric_sample(scrape_metrics(bridge.admin()), p + "inflight_body_bytes") != bytes) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
    }
    return true;
  };
  BOOST_TEST(inflight_becomes(3002));

  const std::string body = delivery_body({{test_number, "919800000002", "wamid.b1", "fits?"}});
  const raw_post over = signed_post(body + std::string(1200, ' '));
  raw_connection refused(bridge.webhook());
  refused.write(over.header);  // its body is never sent: the answer comes from the header
  BOOST_TEST(refused.wait_closed(answer_wait));
  const auto answers = parse_answers(refused.received(), {false});
  BOOST_REQUIRE_EQUAL(answers.size(), 1u);
  BOOST_TEST(answers[0].result_int() == 503u);
  BOOST_TEST(answers[0][boost::beast::http::field::retry_after] == "1");
  BOOST_TEST(answers[0].body().find("\"busy\"") != std::string::npos);

  slow.write(held.body.substr(100));
  BOOST_TEST(slow.read_until("\r\n\r\n", answer_wait).starts_with("HTTP/1.1 200 "));
  BOOST_TEST(inflight_becomes(0));  // released once its answer is written
  const auto accepted = post_signed(bridge.webhook(), "/webhook", over.body, test_app_secret);
  BOOST_TEST(accepted.status == 200u);
  BOOST_TEST(metric_sample(scrape_metrics(bridge.admin()),
                           p + "webhook_requests_total{result=\"busy\"}") == 1);
  BOOST_TEST(bridge.robofy().wait_for_requests(1, answer_wait));
}

// The signature is computed while the body arrives: a signed body sent byte by byte and in
// uneven pieces is accepted, on a kept-alive connection; a wrongly signed one sent the same way
// is refused and its connection closed.
BOOST_AUTO_TEST_CASE(a_body_fed_in_pieces_is_verified_as_it_arrives) {
  running_bridge bridge;
  raw_connection client(bridge.webhook());
  const raw_post good =
      signed_post(delivery_body({{test_number, "919800000003", "wamid.p1", "piece by piece"}}));
  client.write(good.header);
  for (std::size_t at = 0; at < good.body.size();) {
    const std::size_t piece = at < 40 ? 1 : 97;  // byte by byte first, then uneven pieces
    client.write(good.body.substr(at, piece));   // no delay: each write leaves on its own
    at += piece;
  }
  BOOST_TEST(client.read_until("accepted", answer_wait).starts_with("HTTP/1.1 200 "));

  // The same connection, chunked this time.
  const std::size_t before = client.received().size();
  const std::string body = delivery_body({{test_number, "919800000003", "wamid.p2", "chunked"}});
  client.write(
      "POST /webhook HTTP/1.1\r\nHost: bridge\r\nTransfer-Encoding: chunked\r\n"
      "X-Hub-Signature-256: " +
      bridge::webhook::meta::sign_body(test_app_secret, body) + "\r\n\r\n");
  for (std::size_t at = 0; at < body.size(); at += 50) {
    const std::string piece = body.substr(at, 50);
    std::ostringstream chunk;
    chunk << std::hex << piece.size() << "\r\n" << piece << "\r\n";
    client.write(chunk.str());
  }
  client.write("0\r\n\r\n");
  BOOST_TEST(client.read_until("accepted", answer_wait, before)
                 .substr(before)
                 .starts_with("HTTP/1.1 200 "));

  const std::size_t after_two = client.received().size();
  const raw_post forged = signed_post(
      delivery_body({{test_number, "919800000003", "wamid.p3", "forged"}}), "not-the-secret");
  client.write(forged.header);
  for (char c : forged.body)
    client.write(std::string(1, c));
  BOOST_TEST(client.wait_closed(answer_wait));
  BOOST_TEST(client.received().substr(after_two).starts_with("HTTP/1.1 401 "));
  BOOST_TEST(bridge.robofy().wait_for_requests(2, answer_wait));
  BOOST_TEST(
      bridge.on_loop([](bridge::app& a) { return a.pipeline_view().admissions().accepted; }) == 2u);
}

// Request smuggling: a Transfer-Encoding whose final coding is not chunked (gzip, "chunked,
// identity", xchunked) cannot be framed, so the bytes after its header would be read as a second
// request; it is refused with one 400 and the connection closes, so the smuggled GET is never
// answered. chunked after gzip is 501, also closing.
BOOST_AUTO_TEST_CASE(a_smuggled_request_behind_an_unframeable_transfer_encoding_is_never_answered) {
  running_bridge bridge;
  const std::string smuggled = "GET " +
                               handshake_target("subscribe", test_verify_token, "SMUGGLED") +
                               " HTTP/1.1\r\nHost: bridge\r\n\r\n";
  const std::pair<std::string, unsigned> cases[] = {
      {"gzip", 400}, {"chunked, identity", 400}, {"xchunked", 400}, {"gzip, chunked", 501}};
  for (const auto& [coding, status] : cases) {
    raw_connection client(bridge.webhook());
    client.write("POST /webhook HTTP/1.1\r\nHost: bridge\r\nTransfer-Encoding: " + coding +
                 "\r\nX-Hub-Signature-256: sha256=" + std::string(64, '0') + "\r\n\r\n" +
                 (status == 501 ? "0\r\n\r\n" : "") + smuggled);
    BOOST_TEST(client.wait_closed(answer_wait), coding);
    const std::string& answer = client.received();
    BOOST_TEST(answer.starts_with("HTTP/1.1 " + std::to_string(status) + " "),
               coding << ": " << answer);
    BOOST_TEST(count_answers(answer) == 1u, coding << ": " << answer);
    BOOST_TEST(answer.find("SMUGGLED") == std::string::npos, coding);
  }
  // An HTTP/1.1 request without Host is refused too (RFC 9112 section 3.2).
  raw_connection no_host(bridge.webhook());
  no_host.write("GET " + handshake_target("subscribe", test_verify_token, "nohost") +
                " HTTP/1.1\r\n\r\n");
  BOOST_TEST(no_host.wait_closed(answer_wait));
  BOOST_TEST(no_host.received().starts_with("HTTP/1.1 400 "));
  BOOST_TEST(no_host.received().find("nohost") == std::string::npos);
  BOOST_TEST(bridge.robofy().request_count() == 0u);
}

// Expect: 100-continue: the client hears "100 Continue" before it sends the body, then the real
// answer; an expectation the server cannot meet is 417.
BOOST_AUTO_TEST_CASE(expect_100_continue_is_answered_before_the_body_and_others_are_417) {
  running_bridge bridge;
  const raw_post post =
      signed_post(delivery_body({{test_number, "919800000004", "wamid.e1", "may I?"}}),
                  test_app_secret, "Expect: 100-continue\r\n");
  raw_connection client(bridge.webhook());
  client.write(post.header);
  BOOST_TEST(client.read_until("\r\n\r\n", answer_wait) == "HTTP/1.1 100 Continue\r\n\r\n");
  client.write(post.body);
  const std::string& answers = client.read_until("accepted", answer_wait);
  BOOST_TEST(answers.find("\r\n\r\nHTTP/1.1 200 ") != std::string::npos, answers);
  BOOST_TEST(bridge.robofy().wait_for_requests(1, answer_wait));

  const raw_post odd =
      signed_post(delivery_body({{test_number, "919800000004", "wamid.e2", "and now?"}}),
                  test_app_secret, "Expect: something-else\r\n");
  raw_connection refused(bridge.webhook());
  refused.write(odd.header);
  BOOST_TEST(refused.wait_closed(answer_wait));
  BOOST_TEST(refused.received().starts_with("HTTP/1.1 417 "));
}

// HEAD on the admin listener is the GET answer without its body (Content-Length still the GET
// body's size), so a GET pipelined after it on the same connection is read correctly.
BOOST_AUTO_TEST_CASE(head_on_the_admin_listener_answers_headers_only) {
  running_bridge bridge;
  raw_connection client(bridge.admin());
  client.write(
      "HEAD /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
      "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
      "HEAD /metrics HTTP/1.1\r\nHost: a\r\n\r\n"
      "GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  BOOST_TEST(client.wait_closed(answer_wait));
  const auto answers = parse_answers(client.received(), {true, false, true, false});
  BOOST_REQUIRE_EQUAL(answers.size(), 4u);
  for (const auto& answer : answers)
    BOOST_TEST(answer.result_int() == 200u);
  BOOST_TEST(answers[0].body().empty());
  BOOST_TEST(answers[1].body() == R"({"status":"ok"})");
  BOOST_TEST(answers[0][boost::beast::http::field::content_length] ==
             std::to_string(answers[1].body().size()));
  BOOST_TEST(answers[2].body().empty());
  BOOST_TEST(answers[3].body().find("robofy_wa_bridge_ready 1") != std::string::npos);
  BOOST_TEST(answers[2][boost::beast::http::field::content_length] ==
             std::to_string(answers[3].body().size()));
  // Nothing followed the last answer: every byte was accounted for.
  const auto all = parse_answers(client.received(), {true, false, true, false, false});
  BOOST_TEST(all.size() == 4u);
}

// 300 idle connections to the admin listener (its cap is 256) do not lock out the liveness
// probe: the longest-idle one is closed to make room and /healthz answers 200.
BOOST_AUTO_TEST_CASE(idle_admin_connections_over_the_cap_do_not_lock_out_healthz) {
  running_bridge bridge;
  asio::io_context io;
  std::vector<asio::ip::tcp::socket> idle;
  for (int i = 0; i < 300; ++i) {
    idle.emplace_back(io);
    idle.back().connect(bridge.admin());
  }
  client_request healthz = get("/healthz");
  healthz.timeout = 3s;
  const auto res = send_request(bridge.admin(), healthz);
  BOOST_TEST(res.status == 200u, res.error);
  BOOST_TEST(res.body == R"({"status":"ok"})");
}

BOOST_AUTO_TEST_SUITE_END()
