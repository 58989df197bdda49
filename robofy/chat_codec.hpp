#pragma once

#include <string>
#include <string_view>

#include "config/settings.hpp"

// The Robofy WhatsApp chat endpoint as pure functions: request body and auth header in, HTTP
// status and body out. No sockets; the client around it is robofy/client/.
namespace bridge::robofy {

// One question for a Robofy agent; session_id identifies the customer (wa_id or user id).
struct chat_request {
  std::string query;
  std::string pid;
  std::string chatbot_id;
  std::string session_id;
};

// The JSON body of POST chat_path: {"query","pid","chatbot_id","user_context":{"session_id",
// "platform":"whatsapp"}}, on one line. Invalid UTF-8 in a field becomes U+FFFD, so the body is
// always valid JSON. Throws only std::bad_alloc.
std::string build_chat_body(const chat_request& request);

// One HTTP header, name in lower case.
struct header_field {
  std::string name;
  std::string value;
};

// The auth header for a call with this key as robofy.auth_header says: "authorization: Bearer
// <key>" or "api-key: <key>". Throws only std::bad_alloc.
header_field auth_header_for(config::auth_header scheme, std::string_view api_key);

// The path of the WhatsApp chat endpoint, appended to robofy.base_url.
inline constexpr std::string_view chat_path = "/v1/ai-agent/whatsapp/chat";

// What to do after a call: forward the answer, call again later, or give up (fallback text).
enum class chat_outcome { answered, retry, permanent };

// Returns "answered", "retry" or "permanent" (log and metric label). Never throws.
std::string_view to_string(chat_outcome outcome) noexcept;

// A call's result. answer is set only when answered; the error fields come from Robofy's error
// body {"message", "error": {"code", "detail"|"details"}} when present (error_code "bad_reply"
// for a 2xx that carries no usable answer).
struct chat_reply {
  chat_outcome outcome = chat_outcome::permanent;
  std::string answer;
  int http_status = 0;
  std::string error_code;
  std::string error_detail;
  std::string message;
};

// Classifies a Robofy answer: 2xx with a non-blank string data.answer is answered; other 2xx are
// permanent "bad_reply"; 429 and 5xx retry; anything else is permanent. Never throws on any body
// (only std::bad_alloc can escape).
chat_reply parse_chat_reply(int http_status, std::string_view body);

}  // namespace bridge::robofy
