#include "bridge/message_codec.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace bridge {

namespace json = boost::json;

namespace {
constexpr std::int64_t format_version = 1;

std::string text_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string{};
}
}  // namespace

std::string encode_message(const webhook::inbound_message& m) {
  json::object o;
  o["v"] = format_version;
  o["id"] = m.id;
  o["phone_number_id"] = m.phone_number_id;
  o["customer_id"] = m.customer_id;
  o["username"] = m.customer_is_username;
  o["profile_name"] = m.profile_name;
  o["type"] = m.type;
  o["text"] = m.text;
  o["timestamp"] = m.timestamp;
  o["context_id"] = m.context_id;
  o["disposition"] = static_cast<std::int64_t>(m.disposition);
  return json::serialize(o);
}

std::optional<webhook::inbound_message> decode_message(std::string_view payload) {
  boost::system::error_code ec;
  const json::value root = json::parse(payload, ec);
  if (ec || !root.is_object()) return std::nullopt;
  const json::object& o = root.as_object();
  const json::value* version = o.if_contains("v");
  if (version == nullptr || !version->is_int64() || version->as_int64() != format_version) {
    return std::nullopt;
  }
  webhook::inbound_message m;
  m.id = text_field(o, "id");
  m.phone_number_id = text_field(o, "phone_number_id");
  m.customer_id = text_field(o, "customer_id");
  const json::value* username = o.if_contains("username");
  m.customer_is_username = username != nullptr && username->is_bool() && username->as_bool();
  m.profile_name = text_field(o, "profile_name");
  m.type = text_field(o, "type");
  m.kind = webhook::kind_from_type(m.type);
  m.text = text_field(o, "text");
  const json::value* timestamp = o.if_contains("timestamp");
  m.timestamp = timestamp != nullptr && timestamp->is_int64() ? timestamp->as_int64() : 0;
  m.context_id = text_field(o, "context_id");
  // The stored number is the enum's value: its order (answer, unsupported, ignore) is part of the
  // journal format. Journals from before the field existed held only text messages to answer.
  const json::value* disposition = o.if_contains("disposition");
  if (disposition == nullptr) {
    m.disposition = m.kind == webhook::message_kind::text && !m.text.empty()
                        ? webhook::disposition::answer
                        : webhook::disposition::ignore;
  } else if (disposition->is_int64() && disposition->as_int64() >= 0 &&
             disposition->as_int64() <= static_cast<std::int64_t>(webhook::disposition::ignore)) {
    m.disposition = static_cast<webhook::disposition>(disposition->as_int64());
  } else {
    return std::nullopt;
  }
  if (m.id.empty() || m.phone_number_id.empty() || m.customer_id.empty()) return std::nullopt;
  return m;
}

}  // namespace bridge
