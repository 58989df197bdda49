#include "bridge/store/pending_message.hpp"

#include <cstring>

namespace bridge::store {

std::string conversation_key(const webhook::meta::inbound_message& message) {
  return std::string(conversation_name(message).view());
}

conversation_name::conversation_name(const webhook::meta::inbound_message& message) {
  const std::string& number = message.phone_number_id;
  const std::string& customer = message.customer_id;
  if (number.size() + 1 + customer.size() > short_.size()) {
    long_ = number + "/" + customer;
    return;
  }
  std::memcpy(short_.data(), number.data(), number.size());
  short_[number.size()] = '/';
  std::memcpy(short_.data() + number.size() + 1, customer.data(), customer.size());
  short_size_ = number.size() + 1 + customer.size();
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
