#include "robofy/chat_codec.hpp"

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <utility>

#include "webhook/util/ascii.hpp"
#include "webhook/util/json_text.hpp"
#include "webhook/util/thread_dom_parser.hpp"
#include "webhook/util/utf8.hpp"

namespace bridge::robofy {

using webhook::util::append_json_string;
using webhook::util::thread_dom_parser;

namespace {

// Error strings come from an untrusted body and end up in logs: keep them short.
constexpr std::size_t max_error_field_bytes = 1024;

// Cuts s to at most limit bytes without splitting a UTF-8 sequence.
std::string truncate_utf8(std::string_view s, std::size_t limit) {
  return std::string(webhook::util::utf8_prefix(s, limit));
}

// The string at key in obj, or empty when absent or neither a string nor an integer (kept as
// text, since an error code may be numeric).
std::string string_field(simdjson::dom::object obj, std::string_view key) {
  simdjson::dom::element value;
  if (obj.at_key(key).get(value) != simdjson::SUCCESS) return {};
  std::string_view text;
  if (value.get_string().get(text) == simdjson::SUCCESS)
    return truncate_utf8(text, max_error_field_bytes);
  std::int64_t number = 0;
  if (value.get_int64().get(number) == simdjson::SUCCESS) return std::to_string(number);
  return {};
}

// Reads {"message": "...", "error": {"code": "...", "detail"|"details": "..."}} into reply;
// anything missing or of another type is left empty.
void read_error_fields(simdjson::dom::object root, chat_reply& reply) {
  reply.message = string_field(root, "message");
  simdjson::dom::element error;
  if (root.at_key("error").get(error) != simdjson::SUCCESS) return;
  simdjson::dom::object error_obj;
  if (error.get_object().get(error_obj) == simdjson::SUCCESS) {
    reply.error_code = string_field(error_obj, "code");
    reply.error_detail = string_field(error_obj, "detail");
    // The Getting Started page spells it "details".
    if (reply.error_detail.empty()) reply.error_detail = string_field(error_obj, "details");
    return;
  }
  // Some gateways answer {"error": "text"}.
  std::string_view text;
  if (error.get_string().get(text) == simdjson::SUCCESS)
    reply.error_detail = truncate_utf8(text, max_error_field_bytes);
}

chat_outcome classify_failure(int http_status) {
  if (http_status == 429 || (http_status >= 500 && http_status <= 599)) return chat_outcome::retry;
  return chat_outcome::permanent;
}

}  // namespace

std::string build_chat_body(const chat_request& request) {
  // Written in place, in the order of Robofy's documentation.
  static constexpr std::string_view query_key = R"({"query":)";
  static constexpr std::string_view pid_key = R"(,"pid":)";
  static constexpr std::string_view chatbot_id_key = R"(,"chatbot_id":)";
  static constexpr std::string_view session_id_key = R"(,"user_context":{"session_id":)";
  static constexpr std::string_view platform = R"(,"platform":"whatsapp"}})";
  constexpr std::size_t quotes = 2 * 4;
  std::string body;
  body.reserve(query_key.size() + pid_key.size() + chatbot_id_key.size() + session_id_key.size() +
               platform.size() + quotes + request.query.size() + request.pid.size() +
               request.chatbot_id.size() + request.session_id.size());
  body += query_key;
  append_json_string(body, request.query);
  body += pid_key;
  append_json_string(body, request.pid);
  body += chatbot_id_key;
  append_json_string(body, request.chatbot_id);
  body += session_id_key;
  append_json_string(body, request.session_id);
  body += platform;
  return body;
}

header_field auth_header_for(config::auth_header scheme, std::string_view api_key) {
  switch (scheme) {
    case config::auth_header::api_key:
      return {"api-key", std::string(api_key)};
    case config::auth_header::authorization:
      break;
  }
  std::string value = "Bearer ";
  value.append(api_key);
  return {"authorization", std::move(value)};
}

chat_reply parse_chat_reply(int http_status, std::string_view body) {
  chat_reply reply;
  reply.http_status = http_status;
  const bool success = http_status >= 200 && http_status <= 299;
  reply.outcome = success ? chat_outcome::permanent : classify_failure(http_status);

  // simdjson rejects invalid UTF-8, so an answer we return is always valid UTF-8. Everything read
  // from the document is copied out before the parser goes back.
  thread_dom_parser parser;
  simdjson::dom::element root;
  simdjson::dom::object root_obj;
  const bool is_object = parser.parse(body).get(root) == simdjson::SUCCESS &&
                         root.get_object().get(root_obj) == simdjson::SUCCESS;

  if (is_object) read_error_fields(root_obj, reply);
  if (!success) return reply;

  // A 2xx must carry the answer; anything else is a contract break that retrying will not fix.
  reply.error_code = "bad_reply";
  if (!is_object) {
    reply.error_detail = "response body is not a JSON object";
    return reply;
  }
  simdjson::dom::element answer;
  if (root_obj.at_pointer("/data/answer").get(answer) != simdjson::SUCCESS) {
    reply.error_detail = "response has no data.answer";
    return reply;
  }
  std::string_view text;
  if (answer.get_string().get(text) != simdjson::SUCCESS) {
    reply.error_detail = "data.answer is not a string";
    return reply;
  }
  // A blank answer would reach the customer as an empty message (Meta refuses those).
  if (webhook::util::is_blank(text)) {
    reply.error_detail = "data.answer is empty";
    return reply;
  }
  reply.outcome = chat_outcome::answered;
  reply.answer = std::string(text);
  reply.error_code.clear();
  reply.error_detail.clear();
  return reply;
}

std::string_view to_string(chat_outcome outcome) noexcept {
  switch (outcome) {
    case chat_outcome::answered:
      return "answered";
    case chat_outcome::retry:
      return "retry";
    case chat_outcome::permanent:
      return "permanent";
  }
  return "unknown";
}

}  // namespace bridge::robofy
