#include "bridge/admission.hpp"

namespace bridge {

message_class classify(const webhook::meta::inbound_message& message,
                       const config::settings& settings,
                       std::chrono::system_clock::time_point now) noexcept {
  if (message.disposition == webhook::meta::disposition::ignore) return message_class::no_answer;
  if (message.text.size() > webhook::meta::max_text_bytes) return message_class::oversized;
  const auto sent = std::chrono::system_clock::time_point(std::chrono::seconds(message.timestamp));
  // After a long outage Meta may still deliver yesterday's questions; an answer now would
  // confuse more than help.
  if (message.timestamp > 0 && now - sent > settings.queue.max_message_age) {
    return message_class::stale;
  }
  if (config::find_route(settings, message.phone_number_id) == nullptr) {
    return message_class::unrouted;
  }
  return message_class::answer;
}

}  // namespace bridge
