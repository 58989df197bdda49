#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "webhook/meta/payload.hpp"

namespace bridge::webhook::meta {

// Longest query derived from a non-text message, in bytes (cut on a UTF-8 boundary), so an abusive
// payload cannot build a giant query. A text message's body is its query verbatim.
inline constexpr std::size_t max_query_bytes = 8192;

// Largest Flows `response_json` rendered key by key; a larger one is answered with its `body`.
inline constexpr std::size_t max_form_json_bytes = 2048;

// `interactive` content: its subtype and the fields of each known reply.
struct interactive_content {
  std::string_view type;  // button_reply | list_reply | nfm_reply | ...
  std::string_view button_id, button_title;
  std::string_view list_id, list_title, list_description;
  std::string_view form_body, form_response_json;  // nfm_reply (WhatsApp Flows)
};

// `button` content (a template's quick reply).
struct button_content {
  std::string_view text, payload;
};

// `image`, `video` or `document` content.
struct media_content {
  std::string_view caption, filename;
};

// `location` content; a coordinate that was absent or not a number is empty.
struct location_content {
  std::optional<double> latitude, longitude;
  std::string_view name, address;
};

// One card of a `contacts` message.
struct contact_card {
  std::string_view formatted_name, first_name, last_name;
  std::vector<std::string_view> phones;  // phone (or wa_id when phone is absent), non-blank only
};

// A `contacts` message: the cards kept (collection stops near max_query_bytes) and how many there
// were with anything to show.
struct contacts_content {
  std::vector<contact_card> cards;
  std::size_t count = 0;
};

// Everything a message carried that can describe it, read whatever its `type` (Meta's keys may
// come in any order); views point into the parsed body.
// A click-to-WhatsApp ad the customer came from (`referral`).
struct referral_content {
  std::string_view headline, body, source_url, source_type;
};

struct message_content {
  std::string_view text_body;
  referral_content referral;
  interactive_content interactive;
  button_content button;
  media_content image, video, document;
  location_content location;
  contacts_content contacts;
};

// A message's disposition and, for answer, its Robofy query.
struct message_outcome {
  bridge::webhook::meta::disposition disposition = bridge::webhook::meta::disposition::ignore;
  std::string query;  // empty unless disposition is answer
};

// The line a query gains when the message came from an ad, so the agent knows what the customer is
// asking about: `[The customer came from an ad: "<headline>" <source_url>]` (the ad's body when it
// has no headline); empty when there is no referral. Throws only std::bad_alloc.
std::string referral_line(const referral_content& referral);

// Decides what the bridge does with a message of `kind` carrying `content` and builds the query
// ("blank" = empty or ASCII whitespace only):
//   text                 answer text.body verbatim; ignore when empty
//   interactive          button_reply: title (else id); list_reply: "title (description)" or title
//                        (else id); nfm_reply: render_form_response, else body; any of these with
//                        nothing to show: unsupported; another or missing subtype: ignore
//   button               answer text, else payload; unsupported when both are blank
//   image/video/document caption + "\n[The customer attached an image]" ("a video", "a document",
//                        "a document: invoice.pdf"); unsupported without a caption
//   audio, sticker       unsupported
//   location             "[The customer shared a location: name, address (lat, lon)]", any part
//                        may be missing ("...: 12.9716, 77.5946]" alone); unsupported when all are
//   contacts             "[The customer shared a contact: Ravi Kumar, +91 98450 12345]"; phones
//                        follow the name after ", ", cards are joined by "; " and several read
//                        "shared 2 contacts"; unsupported when no card has a name or phone
//   anything else        ignore (reaction, order, system, request_welcome, edit, revoke,
//                        unsupported, unknown)
// Derived queries are cut to max_query_bytes. Throws only std::bad_alloc.
message_outcome describe_message(message_kind kind, const message_content& content);

// Renders a Flows `response_json` as "[The customer submitted a form]" and one "key: value" line
// per field (flow_token, nulls, empty values and nested objects left out); empty when the JSON is
// larger than max_form_json_bytes, not an object, malformed or has nothing to show. Throws only
// std::bad_alloc.
std::string render_form_response(std::string_view response_json);

// Formats a number in its shortest round-trip form ("12.9716", "77", "-0.5"), without exponent from
// 1e-6 to 1e15; empty for infinities and NaN. Throws only std::bad_alloc.
std::string format_number(double value);

// Reads a decimal number sent as a string (surrounding ASCII blanks allowed); empty when it is not
// one or not finite. Never throws.
std::optional<double> parse_number(std::string_view text) noexcept;

// True when a contact card has a name or a phone to show. Never throws.
bool has_content(const contact_card& card) noexcept;

}  // namespace bridge::webhook::meta
