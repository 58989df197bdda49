#include "webhook/meta/payload.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <deque>
#include <new>
#include <unordered_map>
#include <utility>

#include "webhook/meta/inbound_query.hpp"
#include "webhook/util/ascii.hpp"
#include "webhook/util/json_unescape.hpp"
#include "webhook/util/thread_dom_parser.hpp"
#include "webhook/util/utf8.hpp"

namespace bridge::webhook::meta {
namespace {

namespace sj = simdjson;
namespace od = simdjson::ondemand;

constexpr std::string_view whatsapp_object = "whatsapp_business_account";

// --- error category ------------------------------------------------------------------------------

class payload_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "bridge.webhook.payload"; }
  std::string message(int value) const override {
    switch (static_cast<payload_errc>(value)) {
      case payload_errc::not_json:
        return "body is not well-formed JSON";
      case payload_errc::not_an_object:
        return "body is not a JSON object";
      case payload_errc::not_whatsapp:
        return "object is not whatsapp_business_account";
      case payload_errc::too_deep:
        return "JSON nesting is too deep";
      case payload_errc::too_large:
        return "body is too large to parse";
    }
    return "unknown payload error";
  }
};

// --- structure guard -----------------------------------------------------------------------------

enum class structure { ok, too_deep, trailing };

bool is_json_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// On-Demand enforces no depth limit (only in development builds) and this simdjson cannot tell
// whether the document ended where the top-level value did, so one scan outside strings checks
// both. Strings are skipped with memchr: message text dominates large bodies.
structure scan_structure(std::string_view json, std::size_t depth_limit) noexcept {
  std::size_t depth = 0;
  const char* p = json.data();
  const char* const end = p + json.size();
  while (p < end) {
    const char c = *p++;
    if (c == '"') {
      for (;;) {
        const void* quote = std::memchr(p, '"', static_cast<std::size_t>(end - p));
        if (quote == nullptr) return structure::ok;  // unterminated: simdjson refuses it
        const char* q = static_cast<const char*>(quote);
        const char* run = q;  // start of the backslashes just before this quote
        while (run > p && run[-1] == '\\')
          --run;
        p = q + 1;
        if ((q - run) % 2 == 0) break;  // an even run escapes itself, not the quote
      }
    } else if (c == '{' || c == '[') {
      if (++depth > depth_limit) return structure::too_deep;
    } else if ((c == '}' || c == ']') && depth > 0) {
      if (--depth == 0) {
        return std::all_of(p, end, is_json_space) ? structure::ok : structure::trailing;
      }
    }
  }
  return structure::ok;
}

// --- walking the envelope ------------------------------------------------------------------------

// A value error means one known field has the wrong type (skip what holds it); any other error
// means the document itself is broken (refuse the body).
bool is_value_error(sj::error_code e) noexcept {
  return e == sj::INCORRECT_TYPE || e == sj::NUMBER_ERROR || e == sj::NUMBER_OUT_OF_RANGE ||
         e == sj::STRING_ERROR;
}

// Views point into the parser's string buffer, valid for the whole parse, so nothing is copied
// until a message is known to be answerable.
struct raw_message {
  std::string_view id, from, from_user_id, type, context_id;
  std::int64_t timestamp = 0;
  bool bad = false;  // an envelope field had the wrong type
  message_content content;
};

struct raw_contact {
  std::string_view wa_id, user_id, name;
};

struct raw_echo {
  std::string_view id, to, to_user_id;
};

struct raw_status {
  std::string_view id, status, recipient_id;
  std::int64_t error_code = 0;
  std::string_view error_title;
};

// One change's value, held until its "field" is known to be "messages" (keys may come in any
// order).
struct raw_change {
  std::string_view phone_number_id;
  std::vector<raw_contact> contacts;
  std::vector<raw_message> messages;
  std::vector<raw_status> statuses;
  std::vector<raw_echo> echoes;
  std::size_t value_errors = 0;
  std::size_t skipped = 0;  // message entries that are not even objects
  bool unreadable = false;  // value is not an object
};

// Strings of this thread's current parse that simdjson refused and
// util::unescape_json_string_lenient repaired; views into them stay valid until the next parse on
// this thread begins.
std::deque<std::string>& repaired_strings() {
  thread_local std::deque<std::string> kept;
  return kept;
}

// A string simdjson refused for an unpaired surrogate escape, decoded leniently into `out`.
bool repair_string(std::string_view token, std::string_view& out) noexcept {
  try {
    auto decoded = util::unescape_json_string_lenient(token);
    if (!decoded) return false;
    out = repaired_strings().emplace_back(std::move(*decoded));
    return true;
  } catch (const std::bad_alloc&) {
    return false;
  }
}

// Reads a string field: SUCCESS, a value error (sets `bad`), or the fatal error to return.
sj::error_code read_string(od::value value, std::string_view& out, bool& bad) noexcept {
  const std::string_view token = value.raw_json_token();  // peeked: nothing is consumed
  const sj::error_code e = value.get_string().get(out);
  if (e == sj::SUCCESS) return e;
  if (e == sj::STRING_ERROR && repair_string(token, out)) return sj::SUCCESS;
  if (!is_value_error(e)) return e;
  out = {};
  bad = true;
  return sj::SUCCESS;
}

// Reads "timestamp": a decimal string on the wire; a plain number is accepted too. Bad → 0.
sj::error_code read_timestamp(od::value value, std::int64_t& out) noexcept {
  od::json_type type{};
  if (const auto e = value.type().get(type)) return e;
  if (type == od::json_type::string) {
    std::string_view text;
    bool bad = false;
    if (const auto e = read_string(value, text, bad)) return e;
    std::int64_t parsed = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (!bad && ec == std::errc{} && end == text.data() + text.size() && parsed >= 0) out = parsed;
    return sj::SUCCESS;
  }
  if (type == od::json_type::number) {
    std::int64_t parsed = 0;
    const sj::error_code e = value.get_int64().get(parsed);
    if (e == sj::SUCCESS && parsed >= 0) out = parsed;
    return e == sj::SUCCESS || is_value_error(e) ? sj::SUCCESS : e;
  }
  return sj::SUCCESS;
}

// Iterates the fields of `value` as an object, calling on_field(key, field_value) for each; when
// the value is not an object sets `not_object` (and skips it). Returns the first fatal error.
template <typename OnField>
sj::error_code for_each_field(od::value value, bool& not_object, OnField&& on_field) {
  od::object object;
  if (const auto e = value.get_object().get(object)) {
    if (!is_value_error(e)) return e;
    not_object = true;
    return sj::SUCCESS;
  }
  for (auto result : object) {
    od::field field;
    if (const auto e = std::move(result).get(field)) return e;
    std::string_view key;
    if (const auto e = field.unescaped_key().get(key)) return e;
    if (const auto e = on_field(key, field.value())) return e;
  }
  return sj::SUCCESS;
}

// Iterates the elements of `value` as an array, calling on_element(element); when the value is not
// an array sets `not_array`. Returns the first fatal error.
template <typename OnElement>
sj::error_code for_each_element(od::value value, bool& not_array, OnElement&& on_element) {
  od::array array;
  if (const auto e = value.get_array().get(array)) {
    if (!is_value_error(e)) return e;
    not_array = true;
    return sj::SUCCESS;
  }
  for (auto result : array) {
    od::value element;
    if (const auto e = std::move(result).get(element)) return e;
    if (const auto e = on_element(element)) return e;
  }
  return sj::SUCCESS;
}

// --- message content: descriptive fields; a wrong type reads as absent, never skips the message
// ---

sj::error_code read_optional(od::value value, std::string_view& out) noexcept {
  bool ignored = false;
  return read_string(value, out, ignored);
}

template <typename OnField>
sj::error_code for_each_optional_field(od::value value, OnField&& on_field) {
  bool ignored = false;
  return for_each_field(value, ignored, std::forward<OnField>(on_field));
}

// Reads a coordinate sent as a JSON number or as a decimal string.
sj::error_code read_coordinate(od::value value, std::optional<double>& out) noexcept {
  od::json_type type{};
  if (const auto e = value.type().get(type)) return e;
  if (type == od::json_type::number) {
    double number = 0;
    const sj::error_code e = value.get_double().get(number);
    if (e == sj::SUCCESS) out = number;
    return e == sj::SUCCESS || is_value_error(e) ? sj::SUCCESS : e;
  }
  if (type == od::json_type::string) {
    std::string_view text;
    if (const auto e = read_optional(value, text)) return e;
    out = parse_number(text);
  }
  return sj::SUCCESS;
}

sj::error_code walk_interactive(od::value value, interactive_content& out) {
  return for_each_optional_field(value, [&](std::string_view key, od::value field) {
    if (key == "type") return read_optional(field, out.type);
    if (key == "button_reply") {
      return for_each_optional_field(field, [&](std::string_view inner, od::value v) {
        if (inner == "title") return read_optional(v, out.button_title);
        return inner == "id" ? read_optional(v, out.button_id) : sj::SUCCESS;
      });
    }
    if (key == "list_reply") {
      return for_each_optional_field(field, [&](std::string_view inner, od::value v) {
        if (inner == "title") return read_optional(v, out.list_title);
        if (inner == "description") return read_optional(v, out.list_description);
        return inner == "id" ? read_optional(v, out.list_id) : sj::SUCCESS;
      });
    }
    if (key == "nfm_reply") {
      return for_each_optional_field(field, [&](std::string_view inner, od::value v) {
        if (inner == "body") return read_optional(v, out.form_body);
        return inner == "response_json" ? read_optional(v, out.form_response_json) : sj::SUCCESS;
      });
    }
    return sj::SUCCESS;
  });
}

sj::error_code walk_media(od::value value, media_content& out) {
  return for_each_optional_field(value, [&](std::string_view key, od::value field) {
    if (key == "caption") return read_optional(field, out.caption);
    return key == "filename" ? read_optional(field, out.filename) : sj::SUCCESS;
  });
}

sj::error_code walk_location(od::value value, location_content& out) {
  return for_each_optional_field(value, [&](std::string_view key, od::value field) {
    if (key == "latitude") return read_coordinate(field, out.latitude);
    if (key == "longitude") return read_coordinate(field, out.longitude);
    if (key == "name") return read_optional(field, out.name);
    return key == "address" ? read_optional(field, out.address) : sj::SUCCESS;
  });
}

// Shared contact cards. Only about max_query_bytes of names and phones are kept (the query cannot
// hold more), so a huge list costs a walk, not memory; every card with content is still counted.
sj::error_code walk_shared_contacts(od::value value, contacts_content& out) {
  std::size_t kept_bytes = 0;
  bool not_array = false;
  return for_each_element(value, not_array, [&](od::value element) {
    contact_card card;
    bool has_phone = false;
    const auto e = for_each_optional_field(element, [&](std::string_view key, od::value field) {
      if (key == "name") {
        return for_each_optional_field(field, [&](std::string_view inner, od::value v) {
          if (inner == "formatted_name") return read_optional(v, card.formatted_name);
          if (inner == "first_name") return read_optional(v, card.first_name);
          return inner == "last_name" ? read_optional(v, card.last_name) : sj::SUCCESS;
        });
      }
      if (key != "phones") return sj::SUCCESS;
      bool phones_not_array = false;
      return for_each_element(field, phones_not_array, [&](od::value entry) {
        std::string_view phone, wa_id;
        const auto inner_e = for_each_optional_field(entry, [&](std::string_view k, od::value v) {
          if (k == "phone") return read_optional(v, phone);
          return k == "wa_id" ? read_optional(v, wa_id) : sj::SUCCESS;
        });
        if (inner_e) return inner_e;
        const std::string_view shown = util::is_blank(phone) ? wa_id : phone;
        if (util::is_blank(shown)) return sj::SUCCESS;
        has_phone = true;
        if (kept_bytes <= max_query_bytes) {
          card.phones.push_back(shown);
          kept_bytes += shown.size();
        }
        return sj::SUCCESS;
      });
    });
    if (e) return e;
    if (!has_phone && !has_content(card)) return sj::SUCCESS;
    ++out.count;
    if (kept_bytes <= max_query_bytes) {
      kept_bytes += card.formatted_name.size() + card.first_name.size() + card.last_name.size();
      out.cards.push_back(std::move(card));
    }
    return sj::SUCCESS;
  });
}

// The click-to-WhatsApp ad a message came from; fields of the wrong type are left empty.
sj::error_code walk_referral(od::value value, referral_content& out) {
  return for_each_optional_field(value, [&](std::string_view key, od::value v) {
    if (key == "headline") return read_optional(v, out.headline);
    if (key == "body") return read_optional(v, out.body);
    if (key == "source_url") return read_optional(v, out.source_url);
    if (key == "source_type") return read_optional(v, out.source_type);
    return sj::SUCCESS;
  });
}

// --- messages ------------------------------------------------------------------------------------

sj::error_code walk_message(od::value value, raw_change& change) {
  raw_message message;
  bool not_object = false;
  const auto e = for_each_field(value, not_object, [&](std::string_view key, od::value field) {
    if (key == "id") return read_string(field, message.id, message.bad);
    if (key == "from") return read_string(field, message.from, message.bad);
    if (key == "from_user_id") return read_string(field, message.from_user_id, message.bad);
    if (key == "type") return read_string(field, message.type, message.bad);
    if (key == "timestamp") return read_timestamp(field, message.timestamp);
    if (key == "text" || key == "context") {
      std::string_view& target = key == "text" ? message.content.text_body : message.context_id;
      const std::string_view wanted = key == "text" ? "body" : "id";
      return for_each_field(field, message.bad, [&](std::string_view inner, od::value v) {
        return inner == wanted ? read_string(v, target, message.bad) : sj::SUCCESS;
      });
    }
    // Every content object is read whatever "type" says (it may come later); only the one the
    // type names is used.
    if (key == "interactive") return walk_interactive(field, message.content.interactive);
    if (key == "button") {
      return for_each_optional_field(field, [&](std::string_view inner, od::value v) {
        if (inner == "text") return read_optional(v, message.content.button.text);
        return inner == "payload" ? read_optional(v, message.content.button.payload) : sj::SUCCESS;
      });
    }
    if (key == "image") return walk_media(field, message.content.image);
    if (key == "video") return walk_media(field, message.content.video);
    if (key == "document") return walk_media(field, message.content.document);
    if (key == "location") return walk_location(field, message.content.location);
    if (key == "contacts") return walk_shared_contacts(field, message.content.contacts);
    if (key == "referral") return walk_referral(field, message.content.referral);
    return sj::SUCCESS;
  });
  if (e) return e;
  if (not_object) {
    ++change.skipped;
  } else {
    change.messages.push_back(std::move(message));
  }
  return sj::SUCCESS;
}

sj::error_code walk_contact(od::value value, raw_change& change) {
  raw_contact contact;
  bool ignored = false;  // a malformed contact only costs the profile name
  const auto e = for_each_field(value, ignored, [&](std::string_view key, od::value field) {
    if (key == "wa_id") return read_string(field, contact.wa_id, ignored);
    if (key == "user_id") return read_string(field, contact.user_id, ignored);
    if (key == "profile") {
      return for_each_field(field, ignored, [&](std::string_view inner, od::value v) {
        return inner == "name" ? read_string(v, contact.name, ignored) : sj::SUCCESS;
      });
    }
    return sj::SUCCESS;
  });
  if (e) return e;
  if (!contact.name.empty()) change.contacts.push_back(contact);
  return sj::SUCCESS;
}

sj::error_code walk_status(od::value value, raw_change& change) {
  raw_status status;
  std::string_view recipient_user_id;
  bool bad = false;
  const auto e = for_each_field(value, bad, [&](std::string_view key, od::value field) {
    if (key == "id") return read_string(field, status.id, bad);
    if (key == "status") return read_string(field, status.status, bad);
    if (key == "recipient_id") return read_string(field, status.recipient_id, bad);
    if (key == "recipient_user_id") return read_string(field, recipient_user_id, bad);
    if (key == "errors") {
      bool first = true;
      return for_each_element(field, bad, [&](od::value error) {
        if (!std::exchange(first, false)) return sj::SUCCESS;
        return for_each_field(error, bad, [&](std::string_view inner, od::value v) {
          if (inner == "title") return read_string(v, status.error_title, bad);
          if (inner != "code") return sj::SUCCESS;
          const sj::error_code code_error = v.get_int64().get(status.error_code);
          return code_error == sj::SUCCESS || is_value_error(code_error) ? sj::SUCCESS : code_error;
        });
      });
    }
    return sj::SUCCESS;
  });
  if (e) return e;
  if (status.recipient_id.empty()) status.recipient_id = recipient_user_id;
  // Statuses are informational: one without a wamid or of the wrong shape is dropped.
  if (!bad && !status.id.empty()) change.statuses.push_back(status);
  return sj::SUCCESS;
}

// One entry of an smb_message_echoes change; one of the wrong shape is dropped.
sj::error_code walk_echo(od::value value, raw_change& change) {
  raw_echo echo;
  bool bad = false;
  const auto e = for_each_field(value, bad, [&](std::string_view key, od::value field) {
    if (key == "id") return read_string(field, echo.id, bad);
    if (key == "to") return read_string(field, echo.to, bad);
    if (key == "to_user_id" || key == "recipient_user_id") {
      return read_string(field, echo.to_user_id, bad);
    }
    return sj::SUCCESS;
  });
  if (e) return e;
  if (!bad && (!echo.to.empty() || !echo.to_user_id.empty())) change.echoes.push_back(echo);
  return sj::SUCCESS;
}

sj::error_code walk_value(od::value value, raw_change& change) {
  return for_each_field(value, change.unreadable, [&](std::string_view key, od::value field) {
    bool wrong_type = false;
    if (key == "metadata") {
      return for_each_field(field, wrong_type, [&](std::string_view inner, od::value v) {
        return inner == "phone_number_id" ? read_string(v, change.phone_number_id, wrong_type)
                                          : sj::SUCCESS;
      });
    }
    if (key == "contacts") {
      return for_each_element(field, wrong_type,
                              [&](od::value element) { return walk_contact(element, change); });
    }
    if (key == "messages") {
      const auto e = for_each_element(
          field, wrong_type, [&](od::value element) { return walk_message(element, change); });
      if (wrong_type) ++change.skipped;  // something unreadable arrived where messages belong
      return e;
    }
    if (key == "statuses") {
      return for_each_element(field, wrong_type,
                              [&](od::value element) { return walk_status(element, change); });
    }
    if (key == "message_echoes") {
      return for_each_element(field, wrong_type,
                              [&](od::value element) { return walk_echo(element, change); });
    }
    if (key == "errors") {
      const auto e = for_each_element(field, wrong_type, [&](od::value) {
        ++change.value_errors;
        return sj::SUCCESS;
      });
      if (wrong_type) ++change.value_errors;
      return e;
    }
    return sj::SUCCESS;
  });
}

// Finds the profile name of a customer; a map only when a batch makes linear search quadratic.
class contact_index {
 public:
  explicit contact_index(const std::vector<raw_contact>& contacts) : contacts_(contacts) {
    if (contacts_.size() <= linear_limit) return;
    for (const raw_contact& contact : contacts_) {
      if (!contact.wa_id.empty()) by_id_.emplace(contact.wa_id, contact.name);
      if (!contact.user_id.empty()) by_id_.emplace(contact.user_id, contact.name);
    }
  }

  std::string_view name_of(std::string_view customer, std::size_t hint) const {
    // Meta lists contacts in message order, so the same index usually matches at once.
    if (hint < contacts_.size() && matches(contacts_[hint], customer)) return contacts_[hint].name;
    if (contacts_.size() > linear_limit) {
      const auto found = by_id_.find(customer);
      return found == by_id_.end() ? std::string_view{} : found->second;
    }
    for (const raw_contact& contact : contacts_) {
      if (matches(contact, customer)) return contact.name;
    }
    return {};
  }

 private:
  static constexpr std::size_t linear_limit = 8;
  static bool matches(const raw_contact& contact, std::string_view customer) {
    return contact.wa_id == customer || contact.user_id == customer;
  }
  const std::vector<raw_contact>& contacts_;
  std::unordered_map<std::string_view, std::string_view> by_id_;
};

// Moves one "messages" change into the delivery, dropping what cannot be answered.
void commit(const raw_change& change, delivery& out) {
  out.value_errors += change.value_errors;
  out.skipped_messages += change.skipped;
  const contact_index contacts(change.contacts);
  for (std::size_t i = 0; i < change.messages.size(); ++i) {
    const raw_message& raw = change.messages[i];
    const bool username = raw.from.empty();
    const std::string_view customer = username ? raw.from_user_id : raw.from;
    if (raw.bad || raw.id.empty() || customer.empty() || change.phone_number_id.empty()) {
      ++out.skipped_messages;
      continue;
    }
    if (raw.id.size() > max_message_id_bytes || customer.size() > max_party_id_bytes ||
        change.phone_number_id.size() > max_party_id_bytes) {
      ++out.oversized_ids;
      continue;
    }
    const message_kind kind = kind_from_type(raw.type);
    message_outcome outcome = describe_message(kind, raw.content);
    inbound_message& message = out.messages.emplace_back();
    message.id = raw.id;
    message.phone_number_id = change.phone_number_id;
    message.customer_id = customer;
    message.customer_is_username = username;
    message.profile_name =
        webhook::util::utf8_prefix(contacts.name_of(customer, i), max_label_bytes);
    message.type = webhook::util::utf8_prefix(raw.type, max_label_bytes);
    message.kind = kind;
    message.disposition = outcome.disposition;
    message.text = std::move(outcome.query);
    message.timestamp = raw.timestamp;
    if (raw.context_id.size() <= max_label_bytes) message.context_id = raw.context_id;
  }
  for (const raw_status& raw : change.statuses) {
    status_update& status = out.statuses.emplace_back();
    status.id = raw.id;
    status.status = raw.status;
    status.recipient_id = raw.recipient_id;
    status.phone_number_id = change.phone_number_id;
    status.error_code = raw.error_code >= INT32_MIN && raw.error_code <= INT32_MAX
                            ? static_cast<int>(raw.error_code)
                            : 0;
    status.error_title = raw.error_title;
  }
}

// The fields whose values are read: messages (and statuses), and the business's own echoes.
bool is_read_field(std::string_view field) noexcept {
  return field == "messages" || field == "smb_message_echoes";
}

void commit_echoes(const raw_change& change, delivery& out) {
  if (change.phone_number_id.empty() || change.phone_number_id.size() > max_party_id_bytes) return;
  for (const raw_echo& raw : change.echoes) {
    const std::string_view customer = raw.to.empty() ? raw.to_user_id : raw.to;
    if (customer.size() > max_party_id_bytes || raw.id.size() > max_message_id_bytes) continue;
    out.echoes.push_back(
        echo{std::string(raw.id), std::string(change.phone_number_id), std::string(customer)});
  }
}

sj::error_code walk_change(od::value value, delivery& out) {
  std::string_view field_name;
  bool field_known = false;
  bool value_seen = false;
  raw_change change;
  bool unreadable = false;
  const auto e = for_each_field(value, unreadable, [&](std::string_view key, od::value field) {
    if (key == "field") {
      field_known = true;
      bool wrong_type = false;
      return read_string(field, field_name, wrong_type);
    }
    if (key != "value") return sj::SUCCESS;
    // Meta puts "field" first: other subscriptions' values are then skipped unread.
    if (field_known && !is_read_field(field_name)) return sj::SUCCESS;
    value_seen = true;
    return walk_value(field, change);
  });
  if (e) return e;
  ++out.changes_by_field[known_field(field_name)];
  if (unreadable || !is_read_field(field_name) || !value_seen || change.unreadable) {
    ++out.ignored_changes;
    return sj::SUCCESS;
  }
  if (field_name == "smb_message_echoes") {
    commit_echoes(change, out);
    return sj::SUCCESS;
  }
  commit(change, out);
  return sj::SUCCESS;
}

sj::error_code walk_entry(od::value value, delivery& out) {
  bool unreadable = false;
  const auto e = for_each_field(value, unreadable, [&](std::string_view key, od::value field) {
    if (key != "changes") return sj::SUCCESS;
    bool not_array = false;
    const auto inner = for_each_element(field, not_array,
                                        [&](od::value change) { return walk_change(change, out); });
    if (not_array) ++out.ignored_changes;
    return inner;
  });
  if (unreadable) ++out.ignored_changes;
  return e;
}

sj::error_code walk_root(od::object& root, delivery& out, bool& is_whatsapp) {
  for (auto result : root) {
    od::field field;
    if (const auto e = std::move(result).get(field)) return e;
    std::string_view key;
    if (const auto e = field.unescaped_key().get(key)) return e;
    if (key == "object") {
      std::string_view object;
      bool wrong_type = false;
      if (const auto e = read_string(field.value(), object, wrong_type)) return e;
      is_whatsapp = object == whatsapp_object;
    } else if (key == "entry") {
      bool not_array = false;
      const auto e = for_each_element(field.value(), not_array,
                                      [&](od::value entry) { return walk_entry(entry, out); });
      if (e) return e;
      if (not_array) ++out.ignored_changes;
    }
  }
  return sj::SUCCESS;
}

payload_errc to_payload_errc(sj::error_code e) noexcept {
  return e == sj::CAPACITY || e == sj::MEMALLOC ? payload_errc::too_large : payload_errc::not_json;
}

// A top-level array is JSON but not an envelope; a top-level scalar is read whole first, so that
// "nonsense" (which starts like null) is told apart from a real scalar.
payload_errc refuse_non_object(od::document& doc, od::json_type type) noexcept {
  sj::error_code e = sj::SUCCESS;
  switch (type) {
    case od::json_type::array:
    case od::json_type::object:
      return payload_errc::not_an_object;
    case od::json_type::string: {
      std::string_view text;
      e = doc.get_string().get(text);
      break;
    }
    case od::json_type::number: {
      od::number number;
      e = doc.get_number().get(number);
      break;
    }
    case od::json_type::boolean: {
      bool flag = false;
      e = doc.get_bool().get(flag);
      break;
    }
    case od::json_type::null: {
      bool is_null = false;
      e = doc.is_null().get(is_null);
      if (e == sj::SUCCESS && !is_null) e = sj::N_ATOM_ERROR;
      break;
    }
  }
  return e == sj::SUCCESS ? payload_errc::not_an_object : to_payload_errc(e);
}

// Restores the caller's body after the padding was appended for simdjson.
class padding_guard {
 public:
  padding_guard(std::string& body, std::size_t size) : body_(body), size_(size) {}
  ~padding_guard() { body_.resize(size_); }
  padding_guard(const padding_guard&) = delete;
  padding_guard& operator=(const padding_guard&) = delete;

 private:
  std::string& body_;
  std::size_t size_;
};

boost::system::result<delivery> parse(std::string& body) {
  if (body.size() > sj::SIMDJSON_MAXSIZE_BYTES - sj::SIMDJSON_PADDING) {
    return make_error_code(payload_errc::too_large);
  }
  switch (scan_structure(body, max_nesting_depth)) {
    case structure::too_deep:
      return make_error_code(payload_errc::too_deep);
    case structure::trailing:
      return make_error_code(payload_errc::not_json);
    case structure::ok:
      break;
  }

  // simdjson may read past the end: give it initialised, owned bytes (reallocating only when the
  // spare capacity is short, and then exactly), and take them off again on every way out.
  const std::size_t size = body.size();
  if (body.capacity() - size < sj::SIMDJSON_PADDING) body.reserve(size + sj::SIMDJSON_PADDING);
  body.append(sj::SIMDJSON_PADDING, ' ');
  const padding_guard guard(body, size);

  // This thread's On-Demand parser (creating one per delivery cost ~4,500 instructions in
  // allocation); a delivery body may be up to 4 MiB, so buffers past 256 KiB are not kept.
  util::thread_parser_loan<od::parser, 256 * 1024> parser;  // outlives doc, which points into it
  od::document doc;
  if (const auto e = parser.get().iterate(body.data(), size, body.size()).get(doc)) {
    return make_error_code(to_payload_errc(e));
  }
  od::json_type type{};
  if (const auto e = doc.type().get(type)) return make_error_code(to_payload_errc(e));
  if (type != od::json_type::object) return make_error_code(refuse_non_object(doc, type));
  od::object root;
  if (const auto e = doc.get_object().get(root)) return make_error_code(to_payload_errc(e));

  repaired_strings().clear();
  delivery out;
  bool is_whatsapp = false;
  if (const auto e = walk_root(root, out, is_whatsapp)) return make_error_code(to_payload_errc(e));
  if (!is_whatsapp) return make_error_code(payload_errc::not_whatsapp);
  return out;
}

}  // namespace

std::string_view known_field(std::string_view field) noexcept {
  static constexpr std::array<std::string_view, 24> known = {"messages",
                                                             "smb_message_echoes",
                                                             "smb_app_state_sync",
                                                             "history",
                                                             "account_alerts",
                                                             "account_review_update",
                                                             "account_update",
                                                             "business_capability_update",
                                                             "business_status_update",
                                                             "calls",
                                                             "flows",
                                                             "message_template_components_update",
                                                             "message_template_quality_update",
                                                             "message_template_status_update",
                                                             "template_category_update",
                                                             "payment_configuration_update",
                                                             "phone_number_name_update",
                                                             "phone_number_quality_update",
                                                             "security",
                                                             "user_preferences",
                                                             "automatic_events",
                                                             "message_echoes",
                                                             "partner_solutions",
                                                             "tracking_events"};
  for (const std::string_view name : known) {
    if (name == field) return name;
  }
  return "other";
}

std::string_view to_string(message_kind kind) noexcept {
  switch (kind) {
    case message_kind::text:
      return "text";
    case message_kind::interactive:
      return "interactive";
    case message_kind::button:
      return "button";
    case message_kind::image:
      return "image";
    case message_kind::video:
      return "video";
    case message_kind::document:
      return "document";
    case message_kind::audio:
      return "audio";
    case message_kind::sticker:
      return "sticker";
    case message_kind::location:
      return "location";
    case message_kind::contacts:
      return "contacts";
    case message_kind::reaction:
      return "reaction";
    case message_kind::order:
      return "order";
    case message_kind::system:
      return "system";
    case message_kind::request_welcome:
      return "request_welcome";
    case message_kind::edit:
      return "edit";
    case message_kind::revoke:
      return "revoke";
    case message_kind::unsupported:
      return "unsupported";
    case message_kind::unknown:
      return "unknown";
  }
  return "unknown";
}

message_kind kind_from_type(std::string_view type) noexcept {
  // Walks the enum through to_string so the two can never disagree.
  for (int i = 0; i < static_cast<int>(message_kind::unknown); ++i) {
    const auto kind = static_cast<message_kind>(i);
    if (to_string(kind) == type) return kind;
  }
  return message_kind::unknown;
}

const boost::system::error_category& payload_category() noexcept {
  static const payload_category_impl category;
  return category;
}

boost::system::error_code make_error_code(payload_errc e) noexcept {
  return {static_cast<int>(e), payload_category()};
}

boost::system::result<delivery> parse_delivery(std::string& body) noexcept {
  try {
    return parse(body);
  } catch (const std::bad_alloc&) {
    return make_error_code(payload_errc::too_large);
  } catch (...) {
    // simdjson is used through error codes only; nothing else should throw, but never let it out.
    return make_error_code(payload_errc::not_json);
  }
}

}  // namespace bridge::webhook::meta
