#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// What operators control and inspect (DESIGN.md §9): conversations handed to a person, and
// messages that ended without a real answer. Plain values; the stores keep them (and a journal
// or Redis carries them across restarts) as the JSON this file writes and reads.
namespace bridge::store {

using wall_time = std::chrono::system_clock::time_point;

// A conversation handed to a person: the AI does not answer it until `until`.
struct pause {
  std::string conversation;  // phone_number_id/customer
  wall_time since;
  wall_time until;
  std::string why;  // "echo" (the business answered from the WhatsApp Business app) or "operator"
};

// A message that ended without a real answer.
struct dead_letter {
  std::string wamid;
  std::string conversation;
  std::string customer;  // as logged (redacted when configured)
  std::string query;     // what Robofy was (or would have been) asked
  // robofy_unavailable (retries spent, or its circuit open), robofy_refused (a 4xx),
  // graph_refused (a permanent Meta error), graph_gave_up (past the retry deadline),
  // empty_answer (an answer with nothing to show once formatted for WhatsApp)
  std::string reason;
  std::string detail;  // Robofy's status and error, or Meta's code and title
  wall_time at;
  int attempts = 0;     // Robofy calls made for it
  std::string payload;  // the message, as the store encodes it (what a replay queues again)
};

// What a replay did.
enum class replay_result {
  queued,         // queued again: Robofy is asked again and the answer sent
  not_found,      // no such dead letter (deleted, replayed already, or never there)
  window_closed,  // the customer's last message is older than 24 h: Meta would refuse (131047)
  unavailable,    // the store could not take it now (a full disk, Redis unreachable)
};

// JSON of a pause (also what the admin API answers). Throws std::bad_alloc only.
std::string encode_pause(const pause& p);
// The pause back; nullopt for anything else. Throws std::bad_alloc only.
std::optional<pause> decode_pause(std::string_view json);
// JSON of a dead letter; `with_payload` includes the stored message (the store keeps it, the
// admin API leaves it out). Throws std::bad_alloc only.
std::string encode_dead_letter(const dead_letter& d, bool with_payload);
// The dead letter back; nullopt for anything else. Throws std::bad_alloc only.
std::optional<dead_letter> decode_dead_letter(std::string_view json);
// "2026-11-30T10:15:02Z". Throws std::bad_alloc only.
std::string iso_time(wall_time t);

}  // namespace bridge::store
