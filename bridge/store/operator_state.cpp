#include "bridge/store/operator_state.hpp"

#include <cstdio>
#include <ctime>

#include "webhook/util/json_text.hpp"
#include "webhook/util/thread_dom_parser.hpp"

namespace bridge::store {

namespace {

namespace dom = simdjson::dom;
using webhook::util::append_json_number;
using webhook::util::append_json_string;

std::int64_t ms_of(wall_time t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

wall_time time_of_ms(std::int64_t ms) {
  return wall_time(std::chrono::milliseconds(ms));
}

void field(std::string& out, std::string_view name, std::string_view value) {
  out += '"';
  out += name;
  out += "\":";
  append_json_string(out, value);
  out += ',';
}

void field(std::string& out, std::string_view name, std::int64_t value) {
  out += '"';
  out += name;
  out += "\":";
  append_json_number(out, value);
  out += ',';
}

// Closes an object whose last field left a trailing comma.
void close_object(std::string& out) {
  if (out.back() == ',') out.pop_back();
  out += '}';
}

std::string text_at(dom::object object, std::string_view key) {
  std::string_view text;
  if (object.at_key(key).get_string().get(text) != simdjson::SUCCESS) return {};
  return std::string(text);
}

std::optional<std::int64_t> number_at(dom::object object, std::string_view key) {
  std::int64_t number = 0;
  if (object.at_key(key).get_int64().get(number) != simdjson::SUCCESS) return std::nullopt;
  return number;
}

}  // namespace

std::string iso_time(wall_time t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string encode_pause(const pause& p) {
  std::string out = "{";
  field(out, "conversation", p.conversation);
  field(out, "since", iso_time(p.since));
  field(out, "until", iso_time(p.until));
  field(out, "why", p.why);
  field(out, "since_ms", ms_of(p.since));
  field(out, "until_ms", ms_of(p.until));
  close_object(out);
  return out;
}

std::optional<pause> decode_pause(std::string_view json) {
  webhook::util::thread_dom_parser parser;
  dom::object object;
  if (parser.parse(json).get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
  const auto since = number_at(object, "since_ms");
  const auto until = number_at(object, "until_ms");
  pause p{text_at(object, "conversation"), {}, {}, text_at(object, "why")};
  if (!since || !until || p.conversation.empty()) return std::nullopt;
  p.since = time_of_ms(*since);
  p.until = time_of_ms(*until);
  return p;
}

std::string encode_dead_letter(const dead_letter& d, bool with_payload) {
  std::string out = "{";
  field(out, "wamid", d.wamid);
  field(out, "conversation", d.conversation);
  field(out, "customer", d.customer);
  field(out, "query", d.query);
  field(out, "reason", d.reason);
  field(out, "detail", d.detail);
  field(out, "at", iso_time(d.at));
  field(out, "at_ms", ms_of(d.at));
  field(out, "attempts", d.attempts);
  if (with_payload) field(out, "payload", d.payload);
  close_object(out);
  return out;
}

std::optional<dead_letter> decode_dead_letter(std::string_view json) {
  webhook::util::thread_dom_parser parser;
  dom::object object;
  if (parser.parse(json).get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
  dead_letter d{text_at(object, "wamid"),
                text_at(object, "conversation"),
                text_at(object, "customer"),
                text_at(object, "query"),
                text_at(object, "reason"),
                text_at(object, "detail"),
                {},
                static_cast<int>(number_at(object, "attempts").value_or(0)),
                text_at(object, "payload")};
  const auto at = number_at(object, "at_ms");
  if (!at || d.wamid.empty()) return std::nullopt;
  d.at = time_of_ms(*at);
  return d;
}

}  // namespace bridge::store
