#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "config/settings.hpp"
#include "robofy/chat_codec.hpp"
#include "webhook/http/client.hpp"

// Robofy's WhatsApp chat endpoint as an I/O service: an interface the conversation worker is
// written (and unit-tested) against, and its implementation over the shared HTTPS client.
namespace bridge::robofy::client {

// How to reach Robofy for one call.
struct chat_target {
  webhook::http::upstream_origin origin;
  config::auth_header auth = config::auth_header::authorization;
  std::string api_key;
  std::chrono::milliseconds timeout{30'000};
};

// One call to Robofy's WhatsApp chat endpoint; no retries (the worker decides those).
class chat_service {
 public:
  virtual ~chat_service() = default;
  // Asks the agent; transport failures come back as chat_outcome::retry (an answer over the
  // client's response limit as chat_outcome::permanent), never as exceptions.
  virtual boost::asio::awaitable<chat_reply> ask(const chat_target& target,
                                                 const chat_request& request) = 0;
};

// The chat service over `client` (its connections are shared with the Graph sender).
std::shared_ptr<chat_service> make_chat_service(std::shared_ptr<webhook::http::http_client> client);

}  // namespace bridge::robofy::client
