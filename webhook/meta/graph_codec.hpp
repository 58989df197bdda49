#pragma once

#include <string>
#include <string_view>

namespace bridge::webhook::meta {

// Builds the JSON body of POST /{version}/{phone_number_id}/messages for a text reply:
// {"messaging_product":"whatsapp","recipient_type":"individual","to":"<id>","type":"text",
//  "text":{"preview_url":false,"body":"..."}}, with "recipient" instead of "to" for a username
// customer. Invalid UTF-8 in `body` becomes U+FFFD (Meta refuses the whole call otherwise).
// Throws std::bad_alloc only.
std::string build_text_message(std::string_view recipient, bool recipient_is_username,
                               std::string_view body);

// Builds the body that marks `message_id` read, adding the typing indicator when `typing`:
// {"messaging_product":"whatsapp","status":"read","message_id":"...","typing_indicator":{"type":"text"}}.
// Throws std::bad_alloc only.
std::string build_mark_read(std::string_view message_id, bool typing);

// What to do after a Graph call: done, try again later, or give up.
enum class graph_outcome { sent, retry, permanent };

// Returns "sent", "retry" or "permanent". Never throws.
std::string_view to_string(graph_outcome outcome) noexcept;

// A Graph answer, classified; the error fields are filled from Meta's error body when present.
struct graph_reply {
  graph_outcome outcome = graph_outcome::permanent;
  std::string message_id;  // messages[0].id of an accepted send
  int http_status = 0;
  int code = 0;            // error.code
  int subcode = 0;         // error.error_subcode
  std::string message;     // error.message
  std::string fbtrace_id;  // error.fbtrace_id, for Meta support
};

// Classifies a Graph answer from its HTTP status and body: 2xx is `sent` (with messages[0].id when
// present); HTTP 429, 5xx and the throttling/transient codes (130429, 131056, 4, 17, 613, 80007,
// 131000, 1, 2, 131016, 133004, 131057) are `retry`; everything else (131047, 131026, 100, 190,
// ...) is `permanent`. A missing or garbled body is tolerated: anything but strict JSON (numbers
// beyond 64 bits included) reads as no body; of a repeated key the last counts; a code that is not
// an integer within int reads as 0. Never throws on any body; throws std::bad_alloc only.
graph_reply parse_graph_reply(int http_status, std::string_view body);

// True when Meta's `code` asks to try again later (throttling or a transient failure). Never
// throws.
bool is_retryable_graph_code(int code) noexcept;

// Returns a low-cardinality metric label: "none" for sent, else the Graph code ("131047") or, with
// no code, "http_<status>". Throws std::bad_alloc only.
std::string error_label(const graph_reply& reply);

// Returns a one-line log description (outcome, HTTP status, code/subcode, Meta's message shortened
// and stripped of control characters, fbtrace_id); it holds no token. Throws std::bad_alloc only.
std::string describe(const graph_reply& reply);

}  // namespace bridge::webhook::meta
