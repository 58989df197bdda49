#include "webhook/meta/graph_codec.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <string>

namespace {

using namespace bridge::webhook::meta;
namespace json = boost::json;

json::object parse_object(const std::string& text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  BOOST_TEST_REQUIRE(!ec, text << ": " << ec.message());
  BOOST_TEST_REQUIRE(value.is_object(), text);
  return value.get_object();
}

std::string error_body(long long code, const std::string& message, long long subcode = 0) {
  json::object error{{"message", message},
                     {"type", "OAuthException"},
                     {"code", code},
                     {"fbtrace_id", "AbCdEf123"}};
  if (subcode != 0) error["error_subcode"] = subcode;
  return json::serialize(json::object{{"error", error}});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(graph_codec)

BOOST_AUTO_TEST_CASE(text_message_exact_shape) {
  BOOST_TEST(build_text_message("919876543210", false, "Hello") ==
             R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"919876543210",)"
             R"("type":"text","text":{"preview_url":false,"body":"Hello"}})");
}

BOOST_AUTO_TEST_CASE(text_message_fields) {
  const json::object message = parse_object(build_text_message("919876543210", false, "Hi"));
  BOOST_TEST(message.size() == 5u);
  BOOST_TEST(message.at("messaging_product").as_string() == "whatsapp");
  BOOST_TEST(message.at("recipient_type").as_string() == "individual");
  BOOST_TEST(message.at("to").as_string() == "919876543210");
  BOOST_TEST(!message.contains("recipient"));
  BOOST_TEST(message.at("type").as_string() == "text");
  const json::object& text = message.at("text").as_object();
  BOOST_TEST(text.size() == 2u);
  BOOST_TEST(text.at("preview_url").as_bool() == false);
  BOOST_TEST(text.at("body").as_string() == "Hi");
}

BOOST_AUTO_TEST_CASE(username_recipient_uses_recipient_field) {
  const json::object message =
      parse_object(build_text_message("IN.13491208655302741918", true, "Hi"));
  BOOST_TEST(message.at("recipient").as_string() == "IN.13491208655302741918");
  BOOST_TEST(!message.contains("to"));
  BOOST_TEST(message.size() == 5u);
}

BOOST_AUTO_TEST_CASE(body_escaping_round_trips) {
  const std::string body =
      "He said \"hi\" \\ back\\slash\nnew line\r\n\ttab \x01\x1f ctrl </script> / "
      "caf\xC3\xA9 \xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\x98\x80 *bold* _it_";
  const std::string wire = build_text_message("1", false, body);
  BOOST_TEST(wire.find('\n') == std::string::npos);  // control characters are escaped
  BOOST_TEST(wire.find('\x01') == std::string::npos);
  BOOST_TEST(wire.find(R"(\"hi\")") != std::string::npos);
  const json::object message = parse_object(wire);
  BOOST_TEST(std::string(message.at("text").as_object().at("body").as_string()) == body);
}

BOOST_AUTO_TEST_CASE(empty_body_and_nul_byte) {
  const std::string with_nul("a\0b", 3);
  const json::object message = parse_object(build_text_message("1", false, with_nul));
  BOOST_TEST(std::string(message.at("text").as_object().at("body").as_string()) == with_nul);
  const json::object empty = parse_object(build_text_message("1", false, ""));
  BOOST_TEST(empty.at("text").as_object().at("body").as_string().empty());
}

BOOST_AUTO_TEST_CASE(invalid_utf8_becomes_replacement_character) {
  const std::string wire = build_text_message("1", false, "ok \xFF \xC3 \xED\xA0\x80 end");
  const json::object message = parse_object(wire);  // Boost.JSON validates UTF-8 on parse
  BOOST_TEST(std::string(message.at("text").as_object().at("body").as_string()) ==
             "ok \xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD end");
}

BOOST_AUTO_TEST_CASE(mark_read) {
  const json::object plain = parse_object(build_mark_read("wamid.X", false));
  BOOST_TEST(plain.size() == 3u);
  BOOST_TEST(plain.at("messaging_product").as_string() == "whatsapp");
  BOOST_TEST(plain.at("status").as_string() == "read");
  BOOST_TEST(plain.at("message_id").as_string() == "wamid.X");
  const json::object typing = parse_object(build_mark_read("wamid.X", true));
  BOOST_TEST(typing.size() == 4u);
  BOOST_TEST(typing.at("typing_indicator").as_object().at("type").as_string() == "text");
}

BOOST_AUTO_TEST_CASE(text_message_escapes_exactly) {
  BOOST_TEST(
      build_text_message("IN.1349", true, "a \"q\" \\ \n\t\x01 \xC3\xA9\xF0\x9F\x98\x80") ==
      R"({"messaging_product":"whatsapp","recipient_type":"individual","recipient":"IN.1349",)"
      R"("type":"text","text":{"preview_url":false,"body":"a \"q\" \\ \n\t\u0001 )"
      "\xC3\xA9\xF0\x9F\x98\x80\"}}");
  BOOST_TEST(build_text_message("", false, "") ==
             R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"",)"
             R"("type":"text","text":{"preview_url":false,"body":""}})");
}

BOOST_AUTO_TEST_CASE(text_message_is_what_boost_json_wrote) {
  // The body was built as a Boost.JSON object before; the bytes on the wire are unchanged.
  for (const std::string& body :
       {std::string("Hello"), std::string(""), std::string("\b\f\n\r\t \x01\x0b\x1f\x7f \" \\ /"),
        std::string("\0 nul", 5),
        std::string("\xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\x91\xA9\xE2\x80\x8D"),
        std::string(4096, 'x')}) {
    for (const bool username : {false, true}) {
      json::object text{{"preview_url", false}, {"body", body}};
      json::object message;
      message["messaging_product"] = "whatsapp";
      message["recipient_type"] = "individual";
      message[username ? "recipient" : "to"] = "919876543210";
      message["type"] = "text";
      message["text"] = std::move(text);
      BOOST_TEST(build_text_message("919876543210", username, body) == json::serialize(message));
    }
  }
}

BOOST_AUTO_TEST_CASE(invalid_utf8_recipient_becomes_replacement_character) {
  const json::object message = parse_object(build_text_message("91\xFF", false, "Hi"));
  BOOST_TEST(std::string(message.at("to").as_string()) == "91\xEF\xBF\xBD");
}

BOOST_AUTO_TEST_CASE(mark_read_exact_wire) {
  BOOST_TEST(build_mark_read("wamid.X", false) ==
             R"({"messaging_product":"whatsapp","status":"read","message_id":"wamid.X"})");
  BOOST_TEST(build_mark_read("wamid.\"X\"", true) ==
             R"({"messaging_product":"whatsapp","status":"read","message_id":"wamid.\"X\"",)"
             R"("typing_indicator":{"type":"text"}})");
  BOOST_TEST(build_mark_read("", false) ==
             R"({"messaging_product":"whatsapp","status":"read","message_id":""})");
}

BOOST_AUTO_TEST_CASE(accepted_send) {
  const graph_reply reply = parse_graph_reply(
      200,
      R"({"messaging_product":"whatsapp","contacts":[{"input":"919876543210","wa_id":"919876543210"}],)"
      R"("messages":[{"id":"wamid.HBgMOTE5ODc2NTQzMjEwFQIAERgSNzc1"}]})");
  BOOST_TEST((reply.outcome == graph_outcome::sent));
  BOOST_TEST(reply.message_id == "wamid.HBgMOTE5ODc2NTQzMjEwFQIAERgSNzc1");
  BOOST_TEST(reply.http_status == 200);
  BOOST_TEST(reply.code == 0);
  BOOST_TEST(error_label(reply) == "none");  // the metrics' code label of a message sent
  BOOST_TEST(describe(reply).find("wamid.HBgM") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(accepted_without_message_id) {
  for (const char* body : {"", "garbage", "{}", R"({"messages":[]})", R"({"messages":[{"id":5}]})",
                           R"({"messages":"x"})", R"([1])", R"({"success":true})"}) {
    const graph_reply reply = parse_graph_reply(200, body);
    BOOST_TEST((reply.outcome == graph_outcome::sent), body);
    BOOST_TEST(reply.message_id.empty(), body);
  }
  BOOST_TEST((parse_graph_reply(201, "{}").outcome == graph_outcome::sent));
}

BOOST_AUTO_TEST_CASE(throughput_limit_is_retried) {
  const graph_reply reply =
      parse_graph_reply(429, error_body(130429, "(#130429) Rate limit hit", 2494055));
  BOOST_TEST((reply.outcome == graph_outcome::retry));
  BOOST_TEST(reply.http_status == 429);
  BOOST_TEST(reply.code == 130429);
  BOOST_TEST(reply.subcode == 2494055);
  BOOST_TEST(reply.message == "(#130429) Rate limit hit");
  BOOST_TEST(reply.fbtrace_id == "AbCdEf123");
  BOOST_TEST(error_label(reply) == "130429");
  const std::string line = describe(reply);
  BOOST_TEST(line.find("retry") != std::string::npos);
  BOOST_TEST(line.find("130429/2494055") != std::string::npos);
  BOOST_TEST(line.find("AbCdEf123") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(pair_rate_limit_is_retried) {
  const graph_reply reply = parse_graph_reply(
      400, error_body(131056, "(Business Account, Consumer Account) pair rate limit hit"));
  BOOST_TEST((reply.outcome == graph_outcome::retry));
  BOOST_TEST(reply.code == 131056);
}

BOOST_AUTO_TEST_CASE(retryable_codes) {
  for (const int code : {130429, 131056, 4, 80007, 131000, 1, 2, 131016, 133004, 131057}) {
    const graph_reply reply = parse_graph_reply(400, error_body(code, "transient"));
    BOOST_TEST((reply.outcome == graph_outcome::retry), code);
    BOOST_TEST(reply.code == code);
    BOOST_TEST(is_retryable_graph_code(code));
  }
}

BOOST_AUTO_TEST_CASE(permanent_codes) {
  for (const int code :
       {131047, 131026, 131030, 100,    131008, 131009, 190,    0,      10,     200,
        250,    299,    368,    131031, 131048, 131051, 131052, 131053, 131049, 132000}) {
    const int status = code == 190 ? 401 : code == 10 || code == 200 ? 403 : 400;
    const graph_reply reply = parse_graph_reply(status, error_body(code, "permanent"));
    BOOST_TEST((reply.outcome == graph_outcome::permanent), code);
    BOOST_TEST(!is_retryable_graph_code(code), code);
  }
}

BOOST_AUTO_TEST_CASE(realistic_outside_window) {
  const graph_reply reply = parse_graph_reply(
      400,
      R"({"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,)"
      R"("error_data":{"messaging_product":"whatsapp","details":"Message failed to send because more )"
      R"(than 24 hours have passed since the customer last replied to this number."},)"
      R"("fbtrace_id":"A2x9bQ7c0Zk"}})");
  BOOST_TEST((reply.outcome == graph_outcome::permanent));
  BOOST_TEST(reply.code == 131047);
  BOOST_TEST(reply.subcode == 0);
  BOOST_TEST(reply.message == "(#131047) Re-engagement message");
  BOOST_TEST(reply.fbtrace_id == "A2x9bQ7c0Zk");
  BOOST_TEST(error_label(reply) == "131047");
}

BOOST_AUTO_TEST_CASE(expired_token) {
  const graph_reply reply = parse_graph_reply(
      401,
      R"({"error":{"message":"Error validating access token: Session has expired on Friday, 21-Nov-25.",)"
      R"("type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"Fq1"}})");
  BOOST_TEST((reply.outcome == graph_outcome::permanent));
  BOOST_TEST(reply.code == 190);
  BOOST_TEST(reply.subcode == 463);
}

BOOST_AUTO_TEST_CASE(server_errors_are_retried_whatever_the_body) {
  for (const int status : {500, 502, 503, 504, 599}) {
    BOOST_TEST(
        (parse_graph_reply(status, "<html>Bad Gateway</html>").outcome == graph_outcome::retry),
        status);
  }
  BOOST_TEST((parse_graph_reply(500, error_body(1, "An unknown error occurred")).outcome ==
              graph_outcome::retry));
  BOOST_TEST((parse_graph_reply(429, "").outcome == graph_outcome::retry));
  const graph_reply bare = parse_graph_reply(503, "");
  BOOST_TEST(error_label(bare) == "http_503");
}

BOOST_AUTO_TEST_CASE(garbage_error_bodies) {
  for (const char* body :
       {"", "garbage", "{", "[]", "null", R"({"error":"bad"})", R"({"error":{"code":"x"}})",
        R"({"error":{"code":1.5,"message":7,"fbtrace_id":[]}})",
        R"({"error":{"code":99999999999999}})"}) {
    const graph_reply reply = parse_graph_reply(400, body);
    BOOST_TEST((reply.outcome == graph_outcome::permanent), body);
    BOOST_TEST(reply.code == 0, body);
    BOOST_TEST(reply.message.empty(), body);
    BOOST_TEST(error_label(reply) == "http_400", body);
  }
}

BOOST_AUTO_TEST_CASE(code_as_string_is_read) {
  const graph_reply reply = parse_graph_reply(400, R"({"error":{"code":"131056"}})");
  BOOST_TEST(reply.code == 131056);
  BOOST_TEST((reply.outcome == graph_outcome::retry));
}

BOOST_AUTO_TEST_CASE(duplicate_keys_last_one_counts) {
  // As Boost.JSON read them before.
  const graph_reply error =
      parse_graph_reply(400, R"({"error":{"code":100,"code":131056},"error":{"code":4}})");
  BOOST_TEST(error.code == 4);
  const graph_reply sent =
      parse_graph_reply(200, R"({"messages":[{"id":"wamid.A","id":"wamid.B"}],"x":1})");
  BOOST_TEST(sent.message_id == "wamid.B");
}

BOOST_AUTO_TEST_CASE(codes_outside_int_read_as_zero) {
  for (const char* body :
       {R"({"error":{"code":2147483648}})", R"({"error":{"code":-2147483649}})",
        R"({"error":{"code":18446744073709551615}})",
        R"({"error":{"code":"99999999999999999999"}})", R"({"error":{"code":1e2}})",
        R"({"error":{"code":" 4"}})", R"({"error":{"code":true}})"}) {
    const graph_reply reply = parse_graph_reply(400, body);
    BOOST_TEST(reply.code == 0, body);
    BOOST_TEST((reply.outcome == graph_outcome::permanent), body);
  }
  BOOST_TEST(parse_graph_reply(400, R"({"error":{"code":-5}})").code == -5);
  BOOST_TEST(parse_graph_reply(400, R"({"error":{"code":2147483647}})").code == 2147483647);
}

BOOST_AUTO_TEST_CASE(error_strings_are_unescaped) {
  const graph_reply reply = parse_graph_reply(
      400, R"({"error":{"message":"quote \" tab \t \u00e9 \ud83d\ude00","fbtrace_id":"A\/B"}})");
  BOOST_TEST(reply.message == "quote \" tab \t \xC3\xA9 \xF0\x9F\x98\x80");
  BOOST_TEST(reply.fbtrace_id == "A/B");
}

BOOST_AUTO_TEST_CASE(hostile_bodies_never_throw) {
  const std::string deep(100000, '[');
  const std::string nul_inside("{\"error\":{\"code\":\"1\0\"}}", 23);
  const std::string large =
      R"({"error":{"code":4,"message":")" + std::string(300 * 1024, 'm') + "\"}}";
  for (const std::string& body :
       {deep, nul_inside, std::string(3, '\0'), std::string("\xEF\xBB\xBF{}"),
        std::string("{\"error\":\"\xFF\"}"), std::string(R"({"error":{"code":4}} trailing)"),
        large}) {
    BOOST_CHECK_NO_THROW(parse_graph_reply(200, body));
    BOOST_CHECK_NO_THROW(parse_graph_reply(400, body));
  }
  BOOST_TEST(parse_graph_reply(400, nul_inside).code == 0);
  BOOST_TEST(parse_graph_reply(400, R"({"error":{"code":4}} trailing)").code == 0);
  BOOST_TEST(parse_graph_reply(400, large).code == 4);
  BOOST_TEST(parse_graph_reply(400, large).message.size() == 300u * 1024);
  BOOST_TEST(parse_graph_reply(400, error_body(131056, "after a large body")).code == 131056);
}

BOOST_AUTO_TEST_CASE(describe_is_one_short_line) {
  const graph_reply reply =
      parse_graph_reply(400, error_body(100, "line one\nline two\r\t" + std::string(2000, 'x')));
  const std::string line = describe(reply);
  BOOST_TEST(line.find('\n') == std::string::npos);
  BOOST_TEST(line.find('\r') == std::string::npos);
  BOOST_TEST(line.size() < 400u);
  BOOST_TEST(line.find("permanent") != std::string::npos);
  BOOST_TEST(line.find("HTTP 400") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(outcome_names) {
  BOOST_TEST(to_string(graph_outcome::sent) == "sent");
  BOOST_TEST(to_string(graph_outcome::retry) == "retry");
  BOOST_TEST(to_string(graph_outcome::permanent) == "permanent");
}

BOOST_AUTO_TEST_SUITE_END()
