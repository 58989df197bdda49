#include "bridge/store/pending_message.hpp"

namespace bridge::store {

std::string conversation_key(const webhook::meta::inbound_message& message) {
  return message.phone_number_id + "/" + message.customer_id;
}

}  // namespace bridge::store
