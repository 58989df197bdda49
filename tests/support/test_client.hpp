#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
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

}  // namespace bridge::test
