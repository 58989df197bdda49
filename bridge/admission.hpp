#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "config/settings.hpp"
#include "webhook/meta/payload.hpp"

// What admission decides for each message of a verified delivery, before the store sees it.
namespace bridge {

// Whether a message is queued for an answer, or only remembered (and why).
enum class message_class {
  answer,     // queued for an answer (or the unsupported reply)
  no_answer,  // reactions, edits, revokes, system notices: never answered as a question
  oversized,  // a text over webhook::meta::max_text_bytes: no customer can type that much
  stale,      // older than queue.max_message_age by Meta's timestamp
  unrouted,   // for a business number without a route
};

// Classifies `message` under `settings` at calendar time `now`. Pure; never throws.
message_class classify(const webhook::meta::inbound_message& message,
                       const config::settings& settings,
                       std::chrono::system_clock::time_point now) noexcept;

// Counts of what admission did with inbound traffic.
struct admission_counters {
  std::size_t accepted = 0;      // messages queued for an answer
  std::size_t duplicates = 0;    // messages whose wamid was seen already
  std::size_t skipped = 0;       // messages never answered: reactions, edits, system notices, ...
  std::size_t stale = 0;         // messages older than queue.max_message_age
  std::size_t unrouted = 0;      // messages for a business number without a route
  std::size_t refused = 0;       // messages refused: queue full, draining, or store failure
  std::size_t unreadable = 0;    // messages without id, customer or number, or with absurd ids
  std::size_t oversized = 0;     // messages whose text is over webhook::meta::max_text_bytes
  std::size_t recovered = 0;     // messages replayed from the journal at start
  std::size_t statuses = 0;      // status notifications seen
  std::size_t value_errors = 0;  // errors Meta reported at the value level
  std::map<webhook::meta::message_kind, std::size_t> by_type;  // messages received, by kind
  std::map<std::string, std::size_t> by_status;                // statuses: sent, delivered, ...
  std::size_t failed_statuses_matched = 0;  // failed statuses tied to a reply we sent
  std::size_t paused = 0;  // messages not answered: their conversation was handed to a person
  std::size_t echoes = 0;  // the business's own messages (smb_message_echoes)
  // Webhook changes by field, keyed by webhook::meta::known_field()'s static names.
  std::map<std::string_view, std::size_t> changes_by_field;
};

}  // namespace bridge
