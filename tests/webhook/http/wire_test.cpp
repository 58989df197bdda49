#include "webhook/http/wire.hpp"

#include <boost/beast/http/write.hpp>
#include <boost/test/unit_test.hpp>
#include <sstream>
#include <string>

// Our one-buffer layout must be byte for byte what Beast's own serializer writes, for every shape
// of message the bridge sends: the two are compared on the same messages.
namespace {

namespace http = bridge::webhook::http;

template <class Message>
std::string beast_bytes(const Message& message) {
  std::ostringstream out;
  out << message;
  return out.str();
}

template <class Message>
std::string our_bytes(const Message& message) {
  std::string out = "kept:";  // appends, never overwrites
  bridge::webhook::http::append_wire_bytes(message, out);
  BOOST_TEST_REQUIRE(out.starts_with("kept:"));
  return out.substr(5);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_wire)

BOOST_AUTO_TEST_CASE(responses_match_beast) {
  for (const bool keep_alive : {true, false}) {
    for (const unsigned version : {10u, 11u}) {
      for (const auto status : {http::status::ok, http::status::unauthorized,
                                http::status::service_unavailable, http::status::uri_too_long}) {
        bridge::webhook::http::response res{status, version};
        res.set(http::field::content_type, "application/json");
        res.set(http::field::retry_after, "10");
        res.body() = R"({"status":"accepted"})";
        res.keep_alive(keep_alive);
        res.prepare_payload();
        BOOST_TEST(our_bytes(res) == beast_bytes(res), "status " << res.result_int() << " version "
                                                                 << version << " keep-alive "
                                                                 << keep_alive);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(unknown_status_codes_and_custom_fields_match_beast) {
  bridge::webhook::http::response res{static_cast<http::status>(299), 11};
  res.set("X-Custom-Field", "a value, with: colons");
  res.body() = "";
  res.prepare_payload();
  BOOST_TEST(our_bytes(res) == beast_bytes(res));
  BOOST_TEST(our_bytes(res).starts_with("HTTP/1.1 299 "));
}

BOOST_AUTO_TEST_CASE(requests_match_beast) {
  bridge::webhook::http::request req{http::verb::post, "/v21.0/12345/messages?x=1", 11};
  req.set(http::field::host, "graph.example:8443");
  req.set(http::field::authorization, "Bearer token");
  req.set(http::field::content_type, "application/json");
  req.body() = std::string(5000, 'b') + "é\r\n";
  req.keep_alive(true);
  req.prepare_payload();
  BOOST_TEST(our_bytes(req) == beast_bytes(req));
  const std::string bytes = our_bytes(req);
  BOOST_TEST(bytes.starts_with("POST /v21.0/12345/messages?x=1 HTTP/1.1\r\n"));
  BOOST_TEST(bytes.ends_with(req.body()));

  bridge::webhook::http::request get{http::verb::get, "/healthz", 10};
  get.keep_alive(false);
  get.prepare_payload();
  BOOST_TEST(our_bytes(get) == beast_bytes(get));
}

BOOST_AUTO_TEST_SUITE_END()
