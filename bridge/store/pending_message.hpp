#pragma once

#include <array>
#include <chrono>
#include <string>
#include <string_view>

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

// conversation_key(message) on the stack when the ids are of a usual length: admission hashes the
// conversation of every message and needs it as a std::string only for a new mailbox or a
// journal record (one allocation per message less, BENCHMARKS.md).
class conversation_name {
 public:
  explicit conversation_name(const webhook::meta::inbound_message& message);
  std::string_view view() const {
    return long_.empty() ? std::string_view(short_.data(), short_size_) : std::string_view(long_);
  }

 private:
  // A business number's id (15–17 digits), '/', a customer's wa_id (up to 15 digits).
  std::array<char, 40> short_;
  std::size_t short_size_ = 0;
  std::string long_;  // a name that does not fit short_ (a long username id)
};

// When the customer wrote `message` (Meta's 24-hour window runs from there): its timestamp, or
// `now` when it has none or one ahead of now (nothing to trust, and no overflow). Never throws.
std::chrono::system_clock::time_point written_at(
    const webhook::meta::inbound_message& message,
    std::chrono::system_clock::time_point now) noexcept;

}  // namespace bridge::store
