#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <memory>
#include <string_view>

// The HTTP message types every listener, handler and upstream call speaks.
namespace bridge::webhook::http {

// Beast's HTTP vocabulary under the kit's own name, so users write http::status, http::field.
using boost::beast::http::error;
using boost::beast::http::field;
using boost::beast::http::status;
using boost::beast::http::string_body;
using boost::beast::http::verb;
using request = boost::beast::http::request<string_body>;
using response = boost::beast::http::response<string_body>;

// Sees a request's body in order as it arrives, so work over every byte (a signature's HMAC) is
// done in the same pass as the read instead of a second pass over the whole body.
class body_observer {
 public:
  virtual ~body_observer() = default;
  // The next bytes of the body (after any chunked framing was removed). Must not throw.
  virtual void on_body(std::string_view bytes) noexcept = 0;
};

// What a listener hands each complete request to. One handler serves many connections.
class request_handler {
 public:
  virtual ~request_handler() = default;
  // Called once a request's header is complete, before its body is read: an observer returned
  // here sees the body as it arrives. The default observes nothing.
  virtual std::unique_ptr<body_observer> observe_body(const request& /*header*/) { return nullptr; }
  // Answers one request whose body `observed` saw (null when observe_body returned none). The
  // default ignores the observer and calls handle().
  virtual boost::asio::awaitable<response> handle_observed(
      request& req, std::unique_ptr<body_observer> /*observed*/) {
    return handle(req);
  }
  // Answers one request; runs on the listener's executor. Must not throw: a throw becomes a 500.
  virtual boost::asio::awaitable<response> handle(request& req) = 0;
};

}  // namespace bridge::webhook::http
