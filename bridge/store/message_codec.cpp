#include "bridge/store/message_codec.hpp"

#include <simdjson.h>

#include <cstdint>

#include "webhook/util/json_text.hpp"
#include "webhook/util/thread_dom_parser.hpp"

namespace bridge::store {

namespace {

namespace dom = simdjson::dom;

constexpr std::int64_t format_version = 1;

// The fields of a payload as read; empty when absent. With duplicate keys the last one counts,
// as it did when payloads were read with Boost.JSON.
struct payload_fields {
  std::optional<dom::element> version, id, phone_number_id, customer_id, username, profile_name,
      type, text, timestamp, context_id, disposition;
};

payload_fields read_fields(dom::object object) {
  payload_fields f;
  for (const dom::key_value_pair field : object) {
    const std::string_view key = field.key;
    if (key == "v") {
      f.version = field.value;
    } else if (key == "id") {
      f.id = field.value;
    } else if (key == "phone_number_id") {
      f.phone_number_id = field.value;
    } else if (key == "customer_id") {
      f.customer_id = field.value;
    } else if (key == "username") {
      f.username = field.value;
    } else if (key == "profile_name") {
      f.profile_name = field.value;
    } else if (key == "type") {
      f.type = field.value;
    } else if (key == "text") {
      f.text = field.value;
    } else if (key == "timestamp") {
      f.timestamp = field.value;
    } else if (key == "context_id") {
      f.context_id = field.value;
    } else if (key == "disposition") {
      f.disposition = field.value;
    }
  }
  return f;
}

std::string text_of(const std::optional<dom::element>& value) {
  std::string_view text;
  if (!value || value->get_string().get(text) != simdjson::SUCCESS) return {};
  return std::string(text);
}

// The value when it is an integer within int64 (not a fraction, an exponent or a string).
std::optional<std::int64_t> integer_of(const std::optional<dom::element>& value) {
  std::int64_t number = 0;
  if (!value || value->get_int64().get(number) != simdjson::SUCCESS) return std::nullopt;
  return number;
}

}  // namespace

std::string encode_message(const webhook::meta::inbound_message& m) {
  // Written in place; the key order is the one Boost.JSON wrote, so old and new payloads look
  // alike in a journal dump.
  constexpr std::size_t keys_and_numbers = 200;
  std::string out;
  out.reserve(keys_and_numbers + m.id.size() + m.phone_number_id.size() + m.customer_id.size() +
              m.profile_name.size() + m.type.size() + m.text.size() + m.context_id.size());
  out += R"({"v":)";
  webhook::util::append_json_number(out, format_version);
  out += R"(,"id":)";
  webhook::util::append_json_string(out, m.id);
  out += R"(,"phone_number_id":)";
  webhook::util::append_json_string(out, m.phone_number_id);
  out += R"(,"customer_id":)";
  webhook::util::append_json_string(out, m.customer_id);
  out += R"(,"username":)";
  webhook::util::append_json_bool(out, m.customer_is_username);
  out += R"(,"profile_name":)";
  webhook::util::append_json_string(out, m.profile_name);
  out += R"(,"type":)";
  webhook::util::append_json_string(out, m.type);
  out += R"(,"text":)";
  webhook::util::append_json_string(out, m.text);
  out += R"(,"timestamp":)";
  webhook::util::append_json_number(out, m.timestamp);
  out += R"(,"context_id":)";
  webhook::util::append_json_string(out, m.context_id);
  out += R"(,"disposition":)";
  webhook::util::append_json_number(out, static_cast<std::int64_t>(m.disposition));
  out += '}';
  return out;
}

std::optional<webhook::meta::inbound_message> decode_message(std::string_view payload) {
  webhook::util::thread_dom_parser parser;  // everything kept is copied out before it goes back
  dom::element root;
  dom::object object;
  if (parser.parse(payload).get(root) != simdjson::SUCCESS ||
      root.get_object().get(object) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  const payload_fields f = read_fields(object);
  if (integer_of(f.version) != format_version) return std::nullopt;
  webhook::meta::inbound_message m;
  m.id = text_of(f.id);
  m.phone_number_id = text_of(f.phone_number_id);
  m.customer_id = text_of(f.customer_id);
  bool username = false;
  m.customer_is_username =
      f.username && f.username->get_bool().get(username) == simdjson::SUCCESS && username;
  m.profile_name = text_of(f.profile_name);
  m.type = text_of(f.type);
  m.kind = webhook::meta::kind_from_type(m.type);
  m.text = text_of(f.text);
  m.timestamp = integer_of(f.timestamp).value_or(0);
  m.context_id = text_of(f.context_id);
  // The stored number is the enum's value: its order (answer, unsupported, ignore) is part of the
  // journal format. Journals from before the field existed held only text messages to answer.
  if (!f.disposition) {
    m.disposition = m.kind == webhook::meta::message_kind::text && !m.text.empty()
                        ? webhook::meta::disposition::answer
                        : webhook::meta::disposition::ignore;
  } else if (const std::optional<std::int64_t> stored = integer_of(f.disposition);
             stored && *stored >= 0 &&
             *stored <= static_cast<std::int64_t>(webhook::meta::disposition::ignore)) {
    m.disposition = static_cast<webhook::meta::disposition>(*stored);
  } else {
    return std::nullopt;
  }
  if (m.id.empty() || m.phone_number_id.empty() || m.customer_id.empty()) return std::nullopt;
  return m;
}

}  // namespace bridge::store
