#include "robofy/chat_codec.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>
#include <string>

namespace robofy = bridge::robofy;
namespace json = boost::json;

namespace {

robofy::chat_request sample_request() {
  return {"Hello", "3..", "DKDvwn...", "918727000000"};
}

// Sample bodies from the Robofy pages (seeds 001, 003, 004).
constexpr std::string_view success_body = R"({
    "message": "Success",
    "data": {
        "answer": "Hello! How can I help you with your setup today?",
        "session_id": "918727..."
    }
})";

constexpr std::string_view unauthorized_body = R"({
  "message": "Unauthorized",
  "error": {
    "code": "UNAUTHORIZED",
    "detail": "Authentication token is missing or invalid."
  }
})";

constexpr std::string_view details_body = R"({
  "message": "The request is missing a valid API key.",
  "error": {
    "code": "Unauthorized",
    "details": "Authentication credentials were not provided."
  }
})";

constexpr std::string_view bad_request_body = R"({
  "message": "Bad Request",
  "error": {
    "code": "BAD_REQUEST",
    "detail": "Invalid request body or missing required fields."
  }
})";

}  // namespace

BOOST_AUTO_TEST_SUITE(chat_codec)

BOOST_AUTO_TEST_CASE(body_has_documented_shape) {
  const json::value v = json::parse(robofy::build_chat_body(sample_request()));
  const json::object& o = v.as_object();
  BOOST_TEST(o.size() == 4u);
  BOOST_TEST(o.at("query").as_string() == "Hello");
  BOOST_TEST(o.at("pid").as_string() == "3..");
  BOOST_TEST(o.at("chatbot_id").as_string() == "DKDvwn...");
  const json::object& ctx = o.at("user_context").as_object();
  BOOST_TEST(ctx.size() == 2u);
  BOOST_TEST(ctx.at("session_id").as_string() == "918727000000");
  BOOST_TEST(ctx.at("platform").as_string() == "whatsapp");
}

BOOST_AUTO_TEST_CASE(body_spells_platform_right) {
  const std::string body = robofy::build_chat_body(sample_request());
  BOOST_TEST(body.find("\"platform\"") != std::string::npos);
  BOOST_TEST(body.find("platfrom") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(body_escapes_query_text) {
  // Quotes, backslash, newline, tab, a control char, non-ASCII and an emoji (4-byte UTF-8).
  const std::string query =
      "He said \"hi\"\\ \nsecond line\tcol \x01 caf\xC3\xA9 \xE0\xA4\xA8\xE0\xA4\xAE "
      "\xF0\x9F\x98\x80";
  robofy::chat_request request = sample_request();
  request.query = query;
  request.session_id = "IN.13491208655302741918";
  const std::string body = robofy::build_chat_body(request);
  // The body is one line; a raw newline or control byte would make it invalid JSON.
  BOOST_TEST(body.find('\n') == std::string::npos);
  BOOST_TEST(body.find('\x01') == std::string::npos);
  const json::value v = json::parse(body);
  BOOST_TEST(std::string(v.at("query").as_string()) == query);
  BOOST_TEST(v.at("user_context").at("session_id").as_string() == "IN.13491208655302741918");
}

BOOST_AUTO_TEST_CASE(body_keeps_empty_fields) {
  const json::value v = json::parse(robofy::build_chat_body({}));
  BOOST_TEST(v.at("query").as_string().empty());
  BOOST_TEST(v.at("user_context").at("platform").as_string() == "whatsapp");
}

BOOST_AUTO_TEST_CASE(body_exact_wire) {
  BOOST_TEST(robofy::build_chat_body(sample_request()) ==
             R"({"query":"Hello","pid":"3..","chatbot_id":"DKDvwn...",)"
             R"("user_context":{"session_id":"918727000000","platform":"whatsapp"}})");
  BOOST_TEST(robofy::build_chat_body({}) ==
             R"({"query":"","pid":"","chatbot_id":"","user_context":{"session_id":"",)"
             R"("platform":"whatsapp"}})");
}

BOOST_AUTO_TEST_CASE(body_is_what_boost_json_wrote) {
  // The body was built as a Boost.JSON object before; the bytes on the wire are unchanged.
  for (const std::string& query :
       {std::string("Hello"), std::string(""), std::string("quote \" backslash \\ slash /"),
        std::string("\b\f\n\r\t \x01\x0b\x1f\x7f"), std::string("\0 nul", 5),
        std::string("caf\xC3\xA9 \xE4\xBD\xA0\xE5\xA5\xBD "
                    "\xF0\x9F\x98\x80\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD"),
        std::string(5000, 'x')}) {
    robofy::chat_request request{query, "p\"id", "bot\\1", "IN.1349\n"};
    json::object user_context;
    user_context["session_id"] = request.session_id;
    user_context["platform"] = "whatsapp";
    json::object body;
    body["query"] = request.query;
    body["pid"] = request.pid;
    body["chatbot_id"] = request.chatbot_id;
    body["user_context"] = std::move(user_context);
    BOOST_TEST(robofy::build_chat_body(request) == json::serialize(body));
  }
}

BOOST_AUTO_TEST_CASE(body_replaces_invalid_utf8) {
  robofy::chat_request request = sample_request();
  request.query = "ok \xFF \xC3 \xED\xA0\x80 end";
  request.session_id = "\x80";
  const json::value v = json::parse(robofy::build_chat_body(request));  // validates UTF-8
  BOOST_TEST(std::string(v.at("query").as_string()) ==
             "ok \xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD end");
  BOOST_TEST(std::string(v.at("user_context").at("session_id").as_string()) == "\xEF\xBF\xBD");
}

BOOST_AUTO_TEST_CASE(chat_path_is_whatsapp_endpoint) {
  BOOST_TEST(robofy::chat_path == "/v1/ai-agent/whatsapp/chat");
}

BOOST_AUTO_TEST_CASE(auth_header_bearer) {
  const robofy::header_field h =
      robofy::auth_header_for(bridge::config::auth_header::authorization, "k-123");
  BOOST_TEST(h.name == "authorization");
  BOOST_TEST(h.value == "Bearer k-123");
}

BOOST_AUTO_TEST_CASE(auth_header_api_key) {
  const robofy::header_field h =
      robofy::auth_header_for(bridge::config::auth_header::api_key, "k-123");
  BOOST_TEST(h.name == "api-key");
  BOOST_TEST(h.value == "k-123");
}

BOOST_AUTO_TEST_CASE(success_is_answered) {
  const robofy::chat_reply r = robofy::parse_chat_reply(200, success_body);
  BOOST_TEST((r.outcome == robofy::chat_outcome::answered));
  BOOST_TEST(r.answer == "Hello! How can I help you with your setup today?");
  BOOST_TEST(r.http_status == 200);
  BOOST_TEST(r.message == "Success");
  BOOST_TEST(r.error_code.empty());
  BOOST_TEST(r.error_detail.empty());
}

BOOST_AUTO_TEST_CASE(answer_unescaped_and_utf8_kept) {
  const robofy::chat_reply r = robofy::parse_chat_reply(
      201, R"({"data":{"answer":"Line 1\nLine \"2\" \u00e9 \ud83d\ude00"}})");
  BOOST_TEST((r.outcome == robofy::chat_outcome::answered));
  BOOST_TEST(r.answer == "Line 1\nLine \"2\" \xC3\xA9 \xF0\x9F\x98\x80");
}

BOOST_AUTO_TEST_CASE(unauthorized_is_permanent_with_error_fields) {
  const robofy::chat_reply r = robofy::parse_chat_reply(401, unauthorized_body);
  BOOST_TEST((r.outcome == robofy::chat_outcome::permanent));
  BOOST_TEST(r.http_status == 401);
  BOOST_TEST(r.answer.empty());
  BOOST_TEST(r.message == "Unauthorized");
  BOOST_TEST(r.error_code == "UNAUTHORIZED");
  BOOST_TEST(r.error_detail == "Authentication token is missing or invalid.");
}

BOOST_AUTO_TEST_CASE(details_spelling_is_read) {
  const robofy::chat_reply r = robofy::parse_chat_reply(400, details_body);
  BOOST_TEST((r.outcome == robofy::chat_outcome::permanent));
  BOOST_TEST(r.message == "The request is missing a valid API key.");
  BOOST_TEST(r.error_code == "Unauthorized");
  BOOST_TEST(r.error_detail == "Authentication credentials were not provided.");
}

BOOST_AUTO_TEST_CASE(bad_request_is_permanent) {
  const robofy::chat_reply r = robofy::parse_chat_reply(400, bad_request_body);
  BOOST_TEST((r.outcome == robofy::chat_outcome::permanent));
  BOOST_TEST(r.error_code == "BAD_REQUEST");
  BOOST_TEST(r.error_detail == "Invalid request body or missing required fields.");
}

BOOST_AUTO_TEST_CASE(other_client_errors_are_permanent) {
  for (int status : {403, 404, 408, 413, 422, 499}) {
    BOOST_TEST_CONTEXT("status " << status) {
      const robofy::chat_reply r = robofy::parse_chat_reply(status, bad_request_body);
      BOOST_TEST((r.outcome == robofy::chat_outcome::permanent));
      BOOST_TEST(r.http_status == status);
    }
  }
}

BOOST_AUTO_TEST_CASE(too_many_requests_retries) {
  const robofy::chat_reply r = robofy::parse_chat_reply(
      429,
      R"({"message":"Too Many Requests","error":{"code":"RATE_LIMITED","detail":"slow down"}})");
  BOOST_TEST((r.outcome == robofy::chat_outcome::retry));
  BOOST_TEST(r.error_code == "RATE_LIMITED");
  BOOST_TEST(r.error_detail == "slow down");
}

BOOST_AUTO_TEST_CASE(server_errors_retry) {
  for (int status : {500, 502, 503, 504, 599}) {
    BOOST_TEST_CONTEXT("status " << status) {
      const robofy::chat_reply r = robofy::parse_chat_reply(
          status, R"({"message":"Internal Server Error","error":{"code":"INTERNAL"}})");
      BOOST_TEST((r.outcome == robofy::chat_outcome::retry));
      BOOST_TEST(r.error_code == "INTERNAL");
      BOOST_TEST(r.message == "Internal Server Error");
    }
  }
}

BOOST_AUTO_TEST_CASE(html_503_retries_without_fields) {
  const robofy::chat_reply r = robofy::parse_chat_reply(
      503,
      "<html><head><title>503 Service Temporarily Unavailable</title></head>"
      "<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>");
  BOOST_TEST((r.outcome == robofy::chat_outcome::retry));
  BOOST_TEST(r.http_status == 503);
  BOOST_TEST(r.error_code.empty());
  BOOST_TEST(r.message.empty());
}

BOOST_AUTO_TEST_CASE(success_without_data_is_bad_reply) {
  const robofy::chat_reply r = robofy::parse_chat_reply(200, R"({"message":"Success"})");
  BOOST_TEST((r.outcome == robofy::chat_outcome::permanent));
  BOOST_TEST(r.error_code == "bad_reply");
  BOOST_TEST(!r.error_detail.empty());
  BOOST_TEST(r.answer.empty());
  BOOST_TEST(r.message == "Success");
}

BOOST_AUTO_TEST_CASE(success_with_non_string_answer_is_bad_reply) {
  for (std::string_view body :
       {R"({"data":{"answer":42}})", R"({"data":{"answer":null}})",
        R"({"data":{"answer":{"text":"hi"}}})", R"({"data":{"answer":["hi"]}})", R"({"data":"hi"})",
        R"({"data":{}})"}) {
    BOOST_TEST_CONTEXT(body) {
      const robofy::chat_reply r = robofy::parse_chat_reply(200, body);
      BOOST_TEST((r.outcome == robofy::chat_outcome::permanent));
      BOOST_TEST(r.error_code == "bad_reply");
      BOOST_TEST(r.answer.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(success_with_empty_answer_is_bad_reply) {
  for (std::string_view body : {R"({"data":{"answer":""}})", R"({"data":{"answer":" \n\t "}})"}) {
    BOOST_TEST_CONTEXT(body) {
      const robofy::chat_reply r = robofy::parse_chat_reply(200, body);
      BOOST_TEST((r.outcome == robofy::chat_outcome::permanent));
      BOOST_TEST(r.error_code == "bad_reply");
    }
  }
}

BOOST_AUTO_TEST_CASE(non_json_success_is_bad_reply) {
  for (std::string_view body : {"OK", "<html>ok</html>", "[]", "\"answer\"",
                                "{\"data\":", "{\"data\":{\"answer\":\"\xFF\xFE\"}}"}) {
    BOOST_TEST_CONTEXT(body) {
      const robofy::chat_reply r = robofy::parse_chat_reply(200, body);
      BOOST_TEST((r.outcome == robofy::chat_outcome::permanent));
      BOOST_TEST(r.error_code == "bad_reply");
    }
  }
}

BOOST_AUTO_TEST_CASE(empty_body) {
  const robofy::chat_reply ok = robofy::parse_chat_reply(200, "");
  BOOST_TEST((ok.outcome == robofy::chat_outcome::permanent));
  BOOST_TEST(ok.error_code == "bad_reply");
  const robofy::chat_reply busy = robofy::parse_chat_reply(502, "");
  BOOST_TEST((busy.outcome == robofy::chat_outcome::retry));
  BOOST_TEST(busy.error_code.empty());
  const robofy::chat_reply denied = robofy::parse_chat_reply(401, "");
  BOOST_TEST((denied.outcome == robofy::chat_outcome::permanent));
}

BOOST_AUTO_TEST_CASE(unusual_statuses_are_permanent) {
  for (int status : {0, -1, 100, 199, 300, 302, 304, 600, 1000}) {
    BOOST_TEST_CONTEXT("status " << status) {
      BOOST_TEST((robofy::parse_chat_reply(status, success_body).outcome ==
                  robofy::chat_outcome::permanent));
    }
  }
}

BOOST_AUTO_TEST_CASE(odd_error_shapes) {
  const robofy::chat_reply text = robofy::parse_chat_reply(401, R"({"error":"Unauthorized"})");
  BOOST_TEST(text.error_detail == "Unauthorized");
  BOOST_TEST(text.error_code.empty());
  const robofy::chat_reply numeric =
      robofy::parse_chat_reply(400, R"({"message":7,"error":{"code":1001,"detail":["x"]}})");
  BOOST_TEST(numeric.error_code == "1001");
  BOOST_TEST(numeric.error_detail.empty());
  BOOST_TEST(numeric.message == "7");
}

BOOST_AUTO_TEST_CASE(long_error_fields_are_capped_on_utf8_boundary) {
  std::string detail(1023, 'a');
  detail += "\xC3\xA9\xC3\xA9";  // the first é straddles the 1024-byte limit
  const std::string body = R"({"error":{"detail":")" + detail + R"("}})";
  const robofy::chat_reply r = robofy::parse_chat_reply(400, body);
  BOOST_TEST(r.error_detail.size() == 1023u);
  BOOST_TEST(r.error_detail == std::string(1023, 'a'));
}

BOOST_AUTO_TEST_CASE(hostile_bodies_never_throw) {
  const std::string deep(100000, '[');
  const std::string nul_inside("{\"data\":{\"answer\":\"a\0b\"}}", 25);
  const std::string truncated(success_body.substr(0, success_body.size() / 2));
  for (const std::string& body :
       {deep, nul_inside, truncated, std::string(3, '\0'), std::string("\xEF\xBB\xBF{}")}) {
    BOOST_CHECK_NO_THROW(robofy::parse_chat_reply(200, body));
    BOOST_CHECK_NO_THROW(robofy::parse_chat_reply(500, body));
    BOOST_TEST((robofy::parse_chat_reply(200, body).outcome != robofy::chat_outcome::answered));
  }
}

BOOST_AUTO_TEST_CASE(large_answer_then_small_ones) {
  // The parser is kept per thread and dropped after a large body; replies keep parsing either way.
  const std::string long_answer(300 * 1024, 'a');
  const robofy::chat_reply big =
      robofy::parse_chat_reply(200, R"({"data":{"answer":")" + long_answer + R"("}})");
  BOOST_TEST((big.outcome == robofy::chat_outcome::answered));
  BOOST_TEST(big.answer == long_answer);
  for (int i = 0; i < 3; ++i) {
    const robofy::chat_reply r = robofy::parse_chat_reply(200, success_body);
    BOOST_TEST((r.outcome == robofy::chat_outcome::answered));
    BOOST_TEST(r.answer == "Hello! How can I help you with your setup today?");
  }
}

BOOST_AUTO_TEST_CASE(views_into_larger_buffers_are_read_to_their_end_only) {
  const std::string buffer = std::string(success_body) + R"({"data":{"answer":"other"}})";
  const robofy::chat_reply r =
      robofy::parse_chat_reply(200, std::string_view(buffer).substr(0, success_body.size()));
  BOOST_TEST(r.answer == "Hello! How can I help you with your setup today?");
  BOOST_TEST((robofy::parse_chat_reply(200, buffer).outcome == robofy::chat_outcome::permanent));
  BOOST_TEST((robofy::parse_chat_reply(200, std::string_view()).outcome ==
              robofy::chat_outcome::permanent));
}

BOOST_AUTO_TEST_SUITE_END()
