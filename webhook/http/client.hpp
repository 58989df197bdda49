#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "webhook/http/types.hpp"

namespace bridge::webhook::http {

// Where an upstream lives, from a base URL such as "https://agents.robofy.ai" or
// "http://127.0.0.1:18081/prefix".
struct upstream_origin {
  bool tls = true;
  std::string host;
  std::string port;
  std::string base_path;  // without a trailing "/"; prepended to every request target

  // "https://host:port", the key connections are pooled by.
  std::string key() const;
};

// Parses an http:// or https:// base URL; an error for any other scheme, a missing host or a bad
// port.
boost::system::result<upstream_origin> parse_base_url(std::string_view url);

struct http_client_options {
  std::size_t max_idle_per_origin = 256;   // kept-alive connections waiting for reuse
  std::chrono::seconds max_idle_time{30};  // an idle connection older than this is closed
  std::size_t max_response_bytes = 1024 * 1024;
  std::string extra_ca_file;  // a PEM file trusted besides the system store (tests, private CAs)
  std::string user_agent = "robofy-wa-bridge";  // sent with every request
};

// The one HTTP/1.1 client for both upstreams. Connections are kept alive and reused per origin;
// TLS verifies the peer against the system CA store, sends SNI and resumes sessions.
class http_client {
 public:
  virtual ~http_client() = default;
  // Sends req (target relative to the origin's base path) and reads the answer, the whole call
  // within `timeout`. Connection, TLS, timeout and protocol failures come back as errors.
  virtual boost::asio::awaitable<boost::system::result<webhook::http::response>> send(
      const upstream_origin& origin, webhook::http::request req,
      std::chrono::milliseconds timeout) = 0;
};

// A client whose connections run on `executor`. Throws when the TLS context cannot be set up
// (for example an unreadable extra_ca_file).
std::shared_ptr<http_client> make_http_client(boost::asio::any_io_executor executor,
                                              http_client_options options = {});

}  // namespace bridge::webhook::http
