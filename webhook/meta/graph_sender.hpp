#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "webhook/http/client.hpp"
#include "webhook/meta/graph_codec.hpp"

// The Graph API's messages endpoint as an I/O service: an interface the conversation worker is
// written (and unit-tested) against, and its implementation over the shared HTTPS client.
namespace bridge::webhook::meta {

// How to reach the Graph API for one business number.
struct graph_target {
  http::upstream_origin origin;
  std::string api_version;
  std::string phone_number_id;
  std::string access_token;
  std::chrono::milliseconds timeout{30'000};
};

// One text message sent through the Graph API; no retries (the worker decides those).
class message_sender {
 public:
  virtual ~message_sender() = default;
  // Sends body to recipient; transport failures come back as graph_outcome::retry.
  virtual boost::asio::awaitable<graph_reply> send_text(const graph_target& target,
                                                        const std::string& recipient,
                                                        bool recipient_is_username,
                                                        const std::string& body) = 0;
  // Marks an inbound message read, showing the typing indicator when `typing`.
  virtual boost::asio::awaitable<graph_reply> mark_read(const graph_target& target,
                                                        const std::string& message_id,
                                                        bool typing) = 0;
};

// The sender over `client` (its connections are shared with the Robofy client).
std::shared_ptr<message_sender> make_graph_message_sender(
    std::shared_ptr<http::http_client> client);

}  // namespace bridge::webhook::meta
