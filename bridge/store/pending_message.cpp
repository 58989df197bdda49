#include "bridge/store/pending_message.hpp"

namespace bridge::store {

std::string conversation_key(const webhook::meta::inbound_message& message) {
  return message.phone_number_id + "/" + message.customer_id;
}

std::chrono::system_clock::time_point written_at(
    const webhook::meta::inbound_message& message,
    std::chrono::system_clock::time_point now) noexcept {
  const auto now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (message.timestamp <= 0 || message.timestamp > now_seconds) return now;
  return std::chrono::system_clock::time_point(std::chrono::seconds(message.timestamp));
}

}  // namespace bridge::store
