#pragma once

#include <chrono>

#include "webhook/payload.hpp"

namespace bridge {

// A message accepted from Meta and waiting in its conversation's mailbox.
struct pending_message {
  webhook::inbound_message message;
  std::chrono::steady_clock::time_point accepted_at;
};

// The mailbox a message belongs to: one business number talking with one customer.
std::string conversation_key(const webhook::inbound_message& message);

}  // namespace bridge
