#pragma once

#include <chrono>

#include "webhook/meta/payload.hpp"

namespace bridge::store {

// A message accepted from Meta and waiting in its conversation's mailbox.
struct pending_message {
  webhook::meta::inbound_message message;
  std::chrono::steady_clock::time_point accepted_at;
  // Its answer may have been sent before a crash (it was being answered and is answered again).
  bool in_doubt = false;
};

// The mailbox a message belongs to: one business number talking with one customer.
std::string conversation_key(const webhook::meta::inbound_message& message);

// When the customer wrote `message` (Meta's 24-hour window runs from there): its timestamp, or
// `now` when it has none or one ahead of now (nothing to trust, and no overflow). Never throws.
std::chrono::system_clock::time_point written_at(
    const webhook::meta::inbound_message& message,
    std::chrono::system_clock::time_point now) noexcept;

}  // namespace bridge::store
