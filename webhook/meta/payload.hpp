#pragma once

#include <boost/container/flat_map.hpp>
#include <boost/container/small_vector.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace bridge::webhook::meta {

// What a customer sent (`messages[].type`); decides whether the bridge queries, replies or ignores.
enum class message_kind {
  text,
  interactive,
  button,
  image,
  video,
  document,
  audio,
  sticker,
  location,
  contacts,
  reaction,
  order,
  system,
  request_welcome,
  edit,
  revoke,
  unsupported,
  unknown
};

// Returns the wire name of `kind` ("text", "interactive", ...; "unknown"), a metrics label.
// Never throws.
std::string_view to_string(message_kind kind) noexcept;

// Maps a wire `type` string to its kind; anything unlisted is `unknown`. Never throws.
message_kind kind_from_type(std::string_view type) noexcept;

// What the bridge does with an inbound message (decided by describe_message, inbound_query.hpp).
// Stored by number in the spool journal: never reorder, only append.
enum class disposition {
  answer,       // ask Robofy with inbound_message::text as the query
  unsupported,  // reply with replies.unsupported_text, Robofy not called
  ignore,       // log and count only, never answered
};

// Returns "answer", "unsupported" or "ignore", a metrics label. Never throws.
std::string_view to_string(disposition d) noexcept;

// One answerable customer message, flattened out of the webhook envelope.
struct inbound_message {
  std::string id;                     // wamid
  std::string phone_number_id;        // business number that received it (value.metadata)
  std::string customer_id;            // "from" (wa_id); for username customers "from_user_id"
  bool customer_is_username = false;  // only from_user_id identifies the customer: reply uses
                                      // "recipient" instead of "to"
  std::string profile_name;           // value.contacts[] entry matching the customer, may be empty
  message_kind kind = message_kind::unknown;
  std::string type;  // raw "type" string as sent
  // What to do with it; the message's own type decides (a reply's context does not).
  bridge::webhook::meta::disposition disposition = bridge::webhook::meta::disposition::ignore;
  std::string text;            // the Robofy query when disposition is answer; empty otherwise
  std::int64_t timestamp = 0;  // unix seconds (a string on the wire); 0 when absent or bad
  std::string context_id;      // context.id when the message replies to another, else empty
};

// A delivery report for one of the business's own messages (`statuses[]`).
struct status_update {
  std::string id;               // wamid of the business's message
  std::string status;           // sent | delivered | read | failed | played
  std::string recipient_id;     // recipient_id, or recipient_user_id for username customers
  std::string phone_number_id;  // business number (value.metadata)
  int error_code = 0;           // errors[0].code for failed messages, else 0
  std::string error_title;      // errors[0].title, else empty
};

// The business's own message to a customer, sent from the WhatsApp Business app on the same
// number ("coexistence"): an `smb_message_echoes` change. A person is answering that customer.
struct echo {
  std::string id;               // the echoed message's wamid
  std::string phone_number_id;  // the business number (value.metadata)
  std::string customer_id;      // "to" (wa_id), or the customer's user id
};

// Everything one webhook POST carried, in wire order (entry → change → item).
struct delivery {
  std::vector<inbound_message> messages;
  std::vector<status_update> statuses;
  std::size_t value_errors = 0;      // entries of value-level "errors" arrays
  std::size_t skipped_messages = 0;  // messages without id, customer or phone_number_id, or with
                                     // a known field of the wrong type: not answerable
  std::size_t ignored_changes = 0;   // changes whose field is not "messages" (or is unreadable)
  std::size_t oversized_ids = 0;     // messages refused: an id longer than the bounds below
  std::vector<echo> echoes;          // the business's own messages (smb_message_echoes)
  // Changes by their `field`: the known names, anything else as "other" (a bounded label set).
  // The keys are known_field()'s own static names, so they outlive every delivery; a delivery
  // nearly always has one field, held inline (no allocation per delivery).
  boost::container::small_flat_map<std::string_view, std::size_t, 2> changes_by_field;
};

// The `field` names of WhatsApp Business Account webhooks the metrics name; any other is "other".
// The view returned points at static storage.
std::string_view known_field(std::string_view field) noexcept;

// Longest wamid accepted (Meta's are about 60 bytes). Ids are remembered for 7 days, so the
// dedupe memory is bounded in bytes only if each id is; a longer one is refused as malformed.
inline constexpr std::size_t max_message_id_bytes = 256;
// Longest customer id (wa_id, business-scoped user id) or phone_number_id accepted.
inline constexpr std::size_t max_party_id_bytes = 128;
// Longest text body admission accepts, in bytes: WhatsApp lets a customer type 65,536
// characters, at most 256 KiB of UTF-8, so a longer one did not come from a customer; it is
// refused (logged, counted, never answered) rather than stored and sent to Robofy. The parser
// itself keeps any length.
inline constexpr std::size_t max_text_bytes = 256 * 1024;
// Longest profile name, message type and context id kept (longer ones are cut or dropped).
inline constexpr std::size_t max_label_bytes = 256;

// Why a whole body was refused (anything smaller only skips a message).
enum class payload_errc {
  not_json = 1,   // not well-formed JSON, or trailing content
  not_an_object,  // top level is an array or a scalar
  not_whatsapp,   // "object" is missing or not "whatsapp_business_account"
  too_deep,       // nesting deeper than max_nesting_depth
  too_large,      // beyond what the parser (or memory) can hold
};

// Deepest array/object nesting accepted; Meta's envelope needs about 10.
inline constexpr std::size_t max_nesting_depth = 64;

// The "bridge.webhook.payload" category of payload_errc. Never throws.
const boost::system::error_category& payload_category() noexcept;

// Wraps `e` in an error_code of payload_category(). Never throws.
boost::system::error_code make_error_code(payload_errc e) noexcept;

// Parses a Meta webhook body with simdjson On-Demand, in one linear pass. simdjson reads up to
// SIMDJSON_PADDING bytes past the end, so when `body` lacks that much spare capacity it is reserved
// in place (one reallocation: pointers into `body` are invalidated); its content and size are
// unchanged on return. Envelope fields (id, from, from_user_id, type, text, context) with the wrong
// type skip the message (counted); a content field of the wrong type (caption, location, ...) reads
// as absent; each message gets its disposition and query (describe_message); unknown fields
// are ignored (On-Demand skips them without full validation); only a body that is not JSON, not an
// object, not a WhatsApp notification, too deep or too large fails as a whole. Never throws (out of
// memory reads as too_large).
boost::system::result<delivery> parse_delivery(std::string& body) noexcept;

}  // namespace bridge::webhook::meta

template <>
struct boost::system::is_error_code_enum<bridge::webhook::meta::payload_errc> : std::true_type {};
