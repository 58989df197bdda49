// Fuzzes bridge::webhook::meta::parse_delivery, the parser of every verified webhook body.
//
// Beyond "never crashes", it traps when a documented property breaks:
//   - the body is unchanged on return (size and bytes), whichever way the padding was arranged;
//   - every returned message is answerable (id, customer and business number present), its kind
//     matches its raw type, and its disposition agrees with describe_message's rules: only an
//     answered message has a query, never an empty one, only kinds that can be answered are, a
//     derived query is at most max_query_bytes, and every query is valid UTF-8; every status has
//     an id;
//   - failures are payload_errc values;
//   - the result does not depend on the body's spare capacity (simdjson padding in place or not);
//   - a body that a strict JSON parser (Boost.JSON) accepts as an object is never called not_json.
#include <simdjson.h>

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "webhook/meta/inbound_query.hpp"
#include "webhook/meta/payload.hpp"

namespace {

namespace wh = bridge::webhook::meta;

void check(bool condition) {
  if (!condition) __builtin_trap();
}

bool answerable_kind(wh::message_kind kind) {
  using enum wh::message_kind;
  return kind == text || kind == interactive || kind == button || kind == image || kind == video ||
         kind == document || kind == location || kind == contacts;
}

void check_delivery(const wh::delivery& d) {
  for (const wh::inbound_message& m : d.messages) {
    check(!m.id.empty());
    check(!m.customer_id.empty());
    check(!m.phone_number_id.empty());
    check(m.kind == wh::kind_from_type(m.type));
    check(m.timestamp >= 0);
    if (m.disposition == wh::disposition::answer) {
      check(!m.text.empty());
      check(answerable_kind(m.kind));
    } else {
      check(m.text.empty());
    }
    if (m.kind != wh::message_kind::text) check(m.text.size() <= wh::max_query_bytes);
    check(simdjson::validate_utf8(m.text.data(), m.text.size()));
  }
  for (const wh::status_update& s : d.statuses)
    check(!s.id.empty());
}

bool same_delivery(const wh::delivery& a, const wh::delivery& b) {
  if (a.messages.size() != b.messages.size() || a.statuses.size() != b.statuses.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.messages.size(); ++i) {
    const auto& x = a.messages[i];
    const auto& y = b.messages[i];
    if (x.id != y.id || x.customer_id != y.customer_id || x.text != y.text ||
        x.disposition != y.disposition || x.profile_name != y.profile_name ||
        x.context_id != y.context_id || x.timestamp != y.timestamp) {
      return false;
    }
  }
  for (std::size_t i = 0; i < a.statuses.size(); ++i) {
    if (a.statuses[i].id != b.statuses[i].id) return false;
  }
  return a.value_errors == b.value_errors && a.skipped_messages == b.skipped_messages &&
         a.ignored_changes == b.ignored_changes;
}

// True when Boost.JSON, which validates everything, reads `text` as one object no deeper than the
// parser's limit.
bool strict_json_object(std::string_view text) {
  boost::json::parse_options options;
  options.max_depth = wh::max_nesting_depth - 1;
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(text, ec, {}, options);
  return !ec && v.is_object();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // Exactly sized: parse_delivery must reallocate for simdjson's padding.
  std::string tight(input);
  const auto first = wh::parse_delivery(tight);
  check(tight == input);

  // Spare capacity: the padding goes in place.
  std::string roomy;
  roomy.reserve(size + 4096);
  roomy.assign(input);
  const auto second = wh::parse_delivery(roomy);
  check(roomy == input);

  check(first.has_value() == second.has_value());
  if (!first) {
    check(first.error().category() == wh::payload_category());
    check(first.error().value() >= static_cast<int>(wh::payload_errc::not_json) &&
          first.error().value() <= static_cast<int>(wh::payload_errc::too_large));
    check(first.error() == second.error());
    if (first.error() == wh::make_error_code(wh::payload_errc::not_json)) {
      check(!strict_json_object(input));
    }
    return 0;
  }
  check_delivery(*first);
  check(same_delivery(*first, *second));
  return 0;
}
