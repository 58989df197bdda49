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

}  // namespace bridge::store
