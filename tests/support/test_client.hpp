#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// A plain blocking HTTP/1.1 client for tests: each call runs on a private io_context with a
// deadline, so a hung server fails the test instead of hanging it.
namespace bridge::test {

struct client_response {
  unsigned status = 0;  // 0 when no answer came (connection closed, timeout)
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string error;                           // why there was no answer

  std::string header(const std::string& name) const;
};

struct client_request {
  std::string method = "GET";
  std::string target = "/";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{10'000};
  std::string ca_file;  // when set, speak TLS and trust this CA
};

client_response send_request(const boost::asio::ip::tcp::endpoint& to, const client_request& req);

// Several requests over one kept-alive connection; stops at the first that gets no answer.
std::vector<client_response> send_on_one_connection(const boost::asio::ip::tcp::endpoint& to,
                                                    const std::vector<client_request>& reqs);

// A POST of body to target, signed with secret as Meta signs (X-Hub-Signature-256).
client_response post_signed(const boost::asio::ip::tcp::endpoint& to, const std::string& target,
                            const std::string& body, const std::string& secret);

// One plain connection for tests that speak raw bytes (smuggling attempts, pieces of a body,
// idle connections): every read waits at most the timeout it is given.
class raw_connection {
 public:
  // Connects to `to`; fails the test when it cannot.
  explicit raw_connection(const boost::asio::ip::tcp::endpoint& to);
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  // Writes all of `bytes`; false when the connection is gone.
  bool write(std::string_view bytes);
  // Reads until what was received from offset `from` on contains `text`, the peer closed, or
  // the timeout passed; returns everything received so far (from the start).
  const std::string& read_until(std::string_view text, std::chrono::milliseconds timeout,
                                std::size_t from = 0);
  // Reads until the peer closes the connection; false when it is still open after the timeout.
  bool wait_closed(std::chrono::milliseconds timeout);
  // True once the peer closed the connection (or reset it).
  bool closed() const { return closed_; }
  // Everything received so far.
  const std::string& received() const { return received_; }

 private:
  // Runs reads until done() or the deadline; reads left pending continue in the next call.
  template <class Done>
  void read_while_not(Done done, std::chrono::milliseconds timeout);

  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  std::string received_;
  std::array<char, 4096> chunk_{};
  bool reading_ = false;
  bool closed_ = false;
};

// GET /metrics from an admin listener: the exposition text, "" when it did not answer 200.
std::string scrape_metrics(const boost::asio::ip::tcp::endpoint& admin);
// The value of one sample ("robofy_wa_bridge_x_total{label=\"v\"}") in an exposition text, -1
// when it is absent.
double metric_sample(const std::string& text, const std::string& series);

// How many HTTP/1.1 status lines ("HTTP/1.1 ", a three-digit status, a space) `received` holds.
std::size_t count_answers(std::string_view received);

}  // namespace bridge::test
