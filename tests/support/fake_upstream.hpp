#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "webhook/http/listener.hpp"

namespace bridge::test {

// A request as a fake upstream received it. Header names are lower-case.
struct recorded_request {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;
  std::string body;
  std::chrono::steady_clock::time_point received_at;

  std::string header(const std::string& name) const;
};

// What a fake upstream answers. `hold` keeps the answer back until release_held() is called.
struct canned_reply {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  bool hold = false;
  std::chrono::milliseconds delay{0};  // answer this much later (a slow upstream)
};

using responder = std::function<canned_reply(const recorded_request&)>;

// A real HTTP server on 127.0.0.1 with an ephemeral port that records every request and answers
// through a responder. Recording is thread-safe: tests read it from their own thread while the
// server runs on the io_context's thread.
class fake_upstream {
 public:
  // Listens on 127.0.0.1:port (0: an ephemeral port); tls may be null for plain HTTP.
  fake_upstream(boost::asio::any_io_executor executor, responder answer,
                std::shared_ptr<boost::asio::ssl::context> tls = nullptr, std::uint16_t port = 0);
  ~fake_upstream();

  std::string base_url() const;  // "http://127.0.0.1:PORT" (https with TLS)
  std::uint16_t port() const;
  void start();
  void stop();

  std::vector<recorded_request> requests() const;
  std::size_t request_count() const;
  // Waits (no longer than timeout) until at least n requests have been received.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const;
  // Waits (no longer than timeout) until pred(requests()) holds; pred runs under the lock.
  bool wait_until(const std::function<bool(const std::vector<recorded_request>&)>& pred,
                  std::chrono::milliseconds timeout) const;
  void set_responder(responder answer);
  // Lets every held answer go, now and from now on (call from any thread).
  void release_held();

  struct shared_state;

 private:
  std::shared_ptr<shared_state> state_;
  std::unique_ptr<webhook::http::http_listener> listener_;
  bool tls_ = false;
};

}  // namespace bridge::test
