#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

// The HTTP message types every listener, handler and upstream call speaks.
namespace bridge::webhook {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

// What a listener hands each complete request to. One handler serves many connections.
class request_handler {
 public:
  virtual ~request_handler() = default;
  // Answers one request; runs on the listener's executor. Must not throw: a throw becomes a 500.
  virtual boost::asio::awaitable<response> handle(request& req) = 0;
};

}  // namespace bridge::webhook
