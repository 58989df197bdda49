#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "bridge/http_client.hpp"
#include "robofy/chat_codec.hpp"
#include "webhook/graph_codec.hpp"

// The two upstream services a conversation worker talks to, as interfaces so workers can be
// tested against stubs, with their HTTP implementations over the shared client.
namespace bridge {

// How to reach Robofy for one call.
struct robofy_target {
  upstream_origin origin;
  robofy::auth_scheme auth = robofy::auth_scheme::bearer;
  std::string api_key;
  std::chrono::milliseconds timeout{30'000};
};

// How to reach the Graph API for one business number.
struct graph_target {
  upstream_origin origin;
  std::string api_version;
  std::string phone_number_id;
  std::string access_token;
  std::chrono::milliseconds timeout{30'000};
};

// One call to Robofy's WhatsApp chat endpoint; no retries (the worker decides those).
class chat_service {
 public:
  virtual ~chat_service() = default;
  // Asks the agent; transport failures come back as chat_outcome::retry, never as exceptions.
  virtual boost::asio::awaitable<robofy::chat_reply> ask(const robofy_target& target,
                                                         const robofy::chat_request& request) = 0;
};

// One text message sent through the Graph API; no retries (the worker decides those).
class message_sender {
 public:
  virtual ~message_sender() = default;
  // Sends body to recipient; transport failures come back as graph_outcome::retry.
  virtual boost::asio::awaitable<webhook::graph_reply> send_text(const graph_target& target,
                                                                 const std::string& recipient,
                                                                 bool recipient_is_username,
                                                                 const std::string& body) = 0;
  // Marks an inbound message read, showing the typing indicator when `typing`.
  virtual boost::asio::awaitable<webhook::graph_reply> mark_read(const graph_target& target,
                                                                 const std::string& message_id,
                                                                 bool typing) = 0;
};

std::shared_ptr<chat_service> make_robofy_chat_service(std::shared_ptr<http_client> client);
std::shared_ptr<message_sender> make_graph_message_sender(std::shared_ptr<http_client> client);

}  // namespace bridge
