// What a request's header alone decides (RFC 9112): framing that could smuggle a second request,
// a missing Host, expectations, and the size bounds; every refusal closes the connection.
#include "webhook/http/request_checks.hpp"

#include <boost/test/unit_test.hpp>
#include <initializer_list>
#include <string>
#include <utility>

namespace {

namespace http = bridge::webhook::http;
using bridge::webhook::http::expects_continue;
using bridge::webhook::http::header_limits;
using bridge::webhook::http::refusal_for_header;
using bridge::webhook::http::request;

// A POST header with a Host and the given extra fields (repeated names are kept as separate
// fields, in order).
request header_with(std::initializer_list<std::pair<std::string, std::string>> fields,
                    unsigned version = 11) {
  request req{http::verb::post, "/webhook", version};
  req.insert(http::field::host, "bridge.example");
  for (const auto& [name, value] : fields)
    req.insert(name, value);
  return req;
}

// The status refusing `req`, or 0 when it may be served.
unsigned refusal_status(const request& req, header_limits limits = {}) {
  const auto refusal = refusal_for_header(req, limits);
  return refusal ? refusal->result_int() : 0u;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(request_checks)

// A Transfer-Encoding whose last coding is not chunked has no knowable length: its body could be
// read as the next request, so it is refused (400) instead of being taken as bodiless.
BOOST_AUTO_TEST_CASE(transfer_encoding_not_ending_in_chunked_is_400) {
  for (const char* coding : {"gzip", "chunked, identity", "xchunked", "identity", "chunked;x",
                             "gzip, chunked, gzip", "chunkedx"}) {
    const auto refusal = refusal_for_header(header_with({{"Transfer-Encoding", coding}}), {});
    BOOST_REQUIRE_MESSAGE(refusal.has_value(), coding);
    BOOST_TEST(refusal->result_int() == 400u, coding);
    BOOST_TEST(refusal->body().find("\"bad_transfer_encoding\"") != std::string::npos, coding);
    BOOST_TEST(!refusal->keep_alive(), coding);
  }
  // An empty Transfer-Encoding field frames nothing either.
  BOOST_TEST(refusal_status(header_with({{"Transfer-Encoding", ""}})) == 400u);
  BOOST_TEST(refusal_status(header_with({{"Transfer-Encoding", " , "}})) == 400u);
}

// chunked after another coding is valid HTTP but would hand the handler a compressed body: 501.
BOOST_AUTO_TEST_CASE(chunked_after_another_coding_is_501) {
  const auto refusal =
      refusal_for_header(header_with({{"Transfer-Encoding", "gzip, chunked"}}), {});
  BOOST_REQUIRE(refusal.has_value());
  BOOST_TEST(refusal->result_int() == 501u);
  BOOST_TEST(refusal->body().find("\"unsupported_transfer_encoding\"") != std::string::npos);
  BOOST_TEST(!refusal->keep_alive());
  // The codings of several fields are one list, in order.
  BOOST_TEST(refusal_status(header_with(
                 {{"Transfer-Encoding", "gzip"}, {"Transfer-Encoding", "chunked"}})) == 501u);
  BOOST_TEST(refusal_status(header_with(
                 {{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "gzip"}})) == 400u);
}

// Plain chunked, in any case and with spaces around it, and no Transfer-Encoding at all are fine.
BOOST_AUTO_TEST_CASE(plain_chunked_and_content_length_framing_pass) {
  BOOST_TEST(refusal_status(header_with({{"Transfer-Encoding", "chunked"}})) == 0u);
  BOOST_TEST(refusal_status(header_with({{"Transfer-Encoding", " Chunked "}})) == 0u);
  BOOST_TEST(refusal_status(header_with({{"Content-Length", "12"}})) == 0u);
  BOOST_TEST(refusal_status(header_with({})) == 0u);
}

// RFC 9112 section 3.2: an HTTP/1.1 request needs exactly one Host; HTTP/1.0 may have none.
BOOST_AUTO_TEST_CASE(http_1_1_without_exactly_one_host_is_400) {
  request no_host{http::verb::get, "/webhook", 11};
  const auto refusal = refusal_for_header(no_host, {});
  BOOST_REQUIRE(refusal.has_value());
  BOOST_TEST(refusal->result_int() == 400u);
  BOOST_TEST(refusal->body().find("\"bad_host\"") != std::string::npos);
  BOOST_TEST(refusal_status(header_with({{"Host", "second.example"}})) == 400u);
  request old{http::verb::get, "/webhook", 10};
  BOOST_TEST(refusal_status(old) == 0u);
}

// Expect: 100-continue (any case) is served and the client is told to go on; any other
// expectation cannot be met: 417.
BOOST_AUTO_TEST_CASE(expect_100_continue_is_served_and_other_expectations_are_417) {
  for (const char* value : {"100-continue", "100-Continue"}) {
    const request req = header_with({{"Expect", value}, {"Content-Length", "2"}});
    BOOST_TEST(refusal_status(req) == 0u, value);
    BOOST_TEST(expects_continue(req), value);
  }
  const auto refusal = refusal_for_header(header_with({{"Expect", "something"}}), {});
  BOOST_REQUIRE(refusal.has_value());
  BOOST_TEST(refusal->result_int() == 417u);
  BOOST_TEST(refusal->body().find("\"expectation_failed\"") != std::string::npos);
  BOOST_TEST(!expects_continue(header_with({{"Expect", "something"}})));
  BOOST_TEST(!expects_continue(header_with({})));
  // An HTTP/1.0 client does not know 100 Continue (RFC 9110 section 10.1.1).
  request old{http::verb::post, "/webhook", 10};
  old.set(http::field::expect, "100-continue");
  BOOST_TEST(!expects_continue(old));
}

// The size bounds come first: a URL over max_target_bytes is 414, more fields than
// max_header_fields 431.
BOOST_AUTO_TEST_CASE(long_url_is_414_and_too_many_fields_431) {
  const header_limits limits{20, 5};
  request long_url = header_with({});
  long_url.target("/webhook?" + std::string(20, 'a'));
  BOOST_TEST(refusal_status(long_url, limits) == 414u);
  long_url.target("/webhook?" + std::string(11, 'a'));
  BOOST_TEST(refusal_status(long_url, limits) == 0u);
  request many = header_with({{"A", "1"}, {"B", "2"}, {"C", "3"}, {"D", "4"}});  // Host + 4
  BOOST_TEST(refusal_status(many, limits) == 0u);
  many.insert("E", "5");
  BOOST_TEST(refusal_status(many, limits) == 431u);
}

BOOST_AUTO_TEST_SUITE_END()
