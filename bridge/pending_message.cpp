#include "bridge/pending_message.hpp"

namespace bridge {

std::string conversation_key(const webhook::inbound_message& message) {
  return message.phone_number_id + "/" + message.customer_id;
}

}  // namespace bridge
