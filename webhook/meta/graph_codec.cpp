#include "webhook/meta/graph_codec.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <optional>

#include "webhook/util/json_text.hpp"
#include "webhook/util/thread_dom_parser.hpp"
#include "webhook/util/utf8.hpp"

namespace bridge::webhook::meta {
namespace {

namespace dom = simdjson::dom;

// A value read from Meta's body; empty when absent (or when the body was not JSON).
using maybe_element = std::optional<dom::element>;

// The value of `key` when `object` is a JSON object holding it. With duplicate keys the last one
// counts (as it did with Boost.JSON); simdjson's own lookup would return the first.
maybe_element find(const maybe_element& object, std::string_view key) {
  dom::object fields;
  if (!object || object->get_object().get(fields) != simdjson::SUCCESS) return std::nullopt;
  maybe_element found;
  for (const dom::key_value_pair field : fields) {
    if (field.key == key) found = field.value;
  }
  return found;
}

maybe_element first_element(const maybe_element& array) {
  dom::array elements;
  if (!array || array->get_array().get(elements) != simdjson::SUCCESS) return std::nullopt;
  dom::element first;
  if (elements.at(0).get(first) != simdjson::SUCCESS) return std::nullopt;
  return first;
}

// Reads an integer field however Meta typed it (number or numeric string); anything else, and any
// number outside int, is 0.
int as_int(const maybe_element& value) noexcept {
  if (!value) return 0;
  std::int64_t number = 0;
  std::string_view text;
  if (value->get_string().get(text) == simdjson::SUCCESS) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc{} || end != text.data() + text.size()) return 0;
  } else if (value->get_int64().get(number) != simdjson::SUCCESS) {
    return 0;  // not an integer within int64: a fraction, an exponent, a bool, ...
  }
  if (number < std::numeric_limits<int>::min() || number > std::numeric_limits<int>::max()) {
    return 0;
  }
  return static_cast<int>(number);
}

std::string as_string(const maybe_element& value) {
  std::string_view text;
  if (!value || value->get_string().get(text) != simdjson::SUCCESS) return {};
  return std::string(text);
}

// Meta's text may carry anything: keep log lines single and short.
std::string sanitized_for_log(std::string_view text, std::size_t max_bytes) {
  std::string out;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t length =
        std::max<std::size_t>(webhook::util::utf8_sequence_length(text, pos), 1);
    if (out.size() + length > max_bytes) {
      out += "...";
      break;
    }
    const auto byte = static_cast<unsigned char>(text[pos]);
    if (webhook::util::utf8_sequence_length(text, pos) == 0 || byte < 0x20 || byte == 0x7f) {
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
  // Written in place; util::append_json_string turns invalid UTF-8 into U+FFFD.
  static constexpr std::string_view head =
      R"({"messaging_product":"whatsapp","recipient_type":"individual",)";
  static constexpr std::string_view to_key = R"("to":)";
  static constexpr std::string_view recipient_key = R"("recipient":)";
  static constexpr std::string_view text_key =
      R"(,"type":"text","text":{"preview_url":false,"body":)";
  static constexpr std::string_view tail = "}}";
  constexpr std::size_t quotes = 2 * 2;
  std::string message;
  message.reserve(head.size() + recipient_key.size() + text_key.size() + tail.size() + quotes +
                  recipient.size() + body.size());
  message += head;
  message += recipient_is_username ? recipient_key : to_key;
  util::append_json_string(message, recipient);
  message += text_key;
  util::append_json_string(message, body);
  message += tail;
  return message;
}

std::string build_mark_read(std::string_view message_id, bool typing) {
  static constexpr std::string_view head =
      R"({"messaging_product":"whatsapp","status":"read","message_id":)";
  static constexpr std::string_view typing_indicator = R"(,"typing_indicator":{"type":"text"})";
  constexpr std::size_t quotes_and_brace = 2 + 1;
  std::string message;
  message.reserve(head.size() + typing_indicator.size() + quotes_and_brace + message_id.size());
  message += head;
  util::append_json_string(message, message_id);
  if (typing) message += typing_indicator;
  message += '}';
  return message;
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

  // Strict JSON, UTF-8 validated; anything else reads as no body. Everything kept is copied out
  // before the parser goes back.
  util::thread_dom_parser parser;
  maybe_element root;
  if (dom::element document; parser.parse(body).get(document) == simdjson::SUCCESS) {
    root = document;
  }

  if (http_status >= 200 && http_status < 300) {
    reply.outcome = graph_outcome::sent;
    reply.message_id = as_string(find(first_element(find(root, "messages")), "id"));
    return reply;
  }

  const maybe_element error = find(root, "error");
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
  if (reply.outcome == graph_outcome::sent) return "none";
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
  if (reply.subcode != 0) {
    // Appended in two steps: GCC 12 at -O3 takes `"/" + std::to_string(...)` for a copy of up to
    // SIZE_MAX bytes and fails -Werror (a false positive, GCC bug 105651).
    out += '/';
    out += std::to_string(reply.subcode);
  }
  if (!reply.message.empty()) out += ", \"" + sanitized_for_log(reply.message, 256) + "\"";
  if (!reply.fbtrace_id.empty()) out += ", fbtrace_id " + sanitized_for_log(reply.fbtrace_id, 64);
  return out;
}

}  // namespace bridge::webhook::meta
