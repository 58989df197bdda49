#include "webhook/graph_codec.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <charconv>
#include <limits>

#include "webhook/text_split.hpp"

namespace bridge::webhook {
namespace {

namespace json = boost::json;

// Replaces every byte that starts no well-formed UTF-8 sequence by U+FFFD (one UTF-16 unit, as
// text_split counted it), so the serialized body is always valid JSON text.
std::string to_valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t length = utf8_sequence_length(text, pos);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++pos;
    } else {
      out.append(text.substr(pos, length));
      pos += length;
    }
  }
  return out;
}

// Reads an integer field however Meta typed it (number or numeric string); anything else is 0.
int as_int(const json::value* value) noexcept {
  if (value == nullptr) return 0;
  std::int64_t number = 0;
  if (value->is_int64()) {
    number = value->get_int64();
  } else if (value->is_uint64()) {
    number = static_cast<std::int64_t>(
        std::min<std::uint64_t>(value->get_uint64(), std::numeric_limits<int>::max()));
  } else if (value->is_string()) {
    const json::string& text = value->get_string();
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc{} || end != text.data() + text.size()) return 0;
  } else {
    return 0;
  }
  if (number < std::numeric_limits<int>::min() || number > std::numeric_limits<int>::max()) {
    return 0;
  }
  return static_cast<int>(number);
}

std::string as_string(const json::value* value) {
  if (value == nullptr || !value->is_string()) return {};
  return std::string(value->get_string());
}

const json::value* find(const json::value* object, std::string_view key) noexcept {
  if (object == nullptr || !object->is_object()) return nullptr;
  return object->get_object().if_contains(key);
}

// Meta's text may carry anything: keep log lines single and short.
std::string sanitized_for_log(std::string_view text, std::size_t max_bytes) {
  std::string out;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t length = std::max<std::size_t>(utf8_sequence_length(text, pos), 1);
    if (out.size() + length > max_bytes) {
      out += "...";
      break;
    }
    const auto byte = static_cast<unsigned char>(text[pos]);
    if (utf8_sequence_length(text, pos) == 0 || byte < 0x20 || byte == 0x7f) {
      out += ' ';
    } else {
      out.append(text.substr(pos, length));
    }
    pos += length;
  }
  return out;
}

}  // namespace

std::string build_text_message(std::string_view recipient, bool recipient_is_username,
                               std::string_view body) {
  json::object message;
  message["messaging_product"] = "whatsapp";
  message["recipient_type"] = "individual";
  message[recipient_is_username ? "recipient" : "to"] = to_valid_utf8(recipient);
  message["type"] = "text";
  json::object text;
  text["preview_url"] = false;
  text["body"] = to_valid_utf8(body);
  message["text"] = std::move(text);
  return json::serialize(message);
}

std::string build_mark_read(std::string_view message_id, bool typing) {
  json::object message;
  message["messaging_product"] = "whatsapp";
  message["status"] = "read";
  message["message_id"] = to_valid_utf8(message_id);
  if (typing) message["typing_indicator"] = json::object{{"type", "text"}};
  return json::serialize(message);
}

std::string_view to_string(graph_outcome outcome) noexcept {
  switch (outcome) {
    case graph_outcome::sent:
      return "sent";
    case graph_outcome::retry:
      return "retry";
    case graph_outcome::permanent:
      return "permanent";
  }
  return "permanent";
}

bool is_retryable_graph_code(int code) noexcept {
  // Throttling (130429 throughput, 131056 pair rate, 4/17/613/80007 call-rate limits), transient
  // service errors (1, 2, 131000, 131016, 133004) and a throughput upgrade in progress (131057).
  static constexpr std::array<int, 12> retryable = {130429, 131056, 4, 17,     613,    80007,
                                                    131000, 1,      2, 131016, 133004, 131057};
  return std::find(retryable.begin(), retryable.end(), code) != retryable.end();
}

graph_reply parse_graph_reply(int http_status, std::string_view body) {
  graph_reply reply;
  reply.http_status = http_status;

  boost::system::error_code ec;
  const json::value document = json::parse(body, ec);
  const json::value* root = ec ? nullptr : &document;

  if (http_status >= 200 && http_status < 300) {
    reply.outcome = graph_outcome::sent;
    if (const json::value* messages = find(root, "messages");
        messages != nullptr && messages->is_array() && !messages->get_array().empty()) {
      reply.message_id = as_string(find(&messages->get_array().front(), "id"));
    }
    return reply;
  }

  const json::value* error = find(root, "error");
  reply.code = as_int(find(error, "code"));
  reply.subcode = as_int(find(error, "error_subcode"));
  reply.message = as_string(find(error, "message"));
  reply.fbtrace_id = as_string(find(error, "fbtrace_id"));

  const bool retry = http_status == 429 || (http_status >= 500 && http_status < 600) ||
                     is_retryable_graph_code(reply.code);
  reply.outcome = retry ? graph_outcome::retry : graph_outcome::permanent;
  return reply;
}

std::string error_label(const graph_reply& reply) {
  if (reply.outcome == graph_outcome::sent) return "ok";
  if (reply.code != 0) return std::to_string(reply.code);
  return "http_" + std::to_string(reply.http_status);
}

std::string describe(const graph_reply& reply) {
  std::string out(to_string(reply.outcome));
  out += ": HTTP ";
  out += std::to_string(reply.http_status);
  if (reply.outcome == graph_outcome::sent) {
    if (!reply.message_id.empty()) out += ", id " + sanitized_for_log(reply.message_id, 128);
    return out;
  }
  out += ", code ";
  out += std::to_string(reply.code);
  if (reply.subcode != 0) out += "/" + std::to_string(reply.subcode);
  if (!reply.message.empty()) out += ", \"" + sanitized_for_log(reply.message, 256) + "\"";
  if (!reply.fbtrace_id.empty()) out += ", fbtrace_id " + sanitized_for_log(reply.fbtrace_id, 64);
  return out;
}

}  // namespace bridge::webhook
