#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace bridge::test {

// A TCP proxy on 127.0.0.1 for tests of several replicas, as a load balancer in front of them
// would be: each accepted connection goes to the next backend in turn (and to the one after it
// when a backend refuses the connection, as a dead replica does); bytes are copied both ways and
// each side's end is passed on to the other. The test client opens one connection per request,
// so requests are spread round robin. Runs on its own thread; the backends can be replaced while
// it runs (a rolling restart). The destructor stops it and closes every connection.
class round_robin_proxy {
 public:
  explicit round_robin_proxy(std::vector<boost::asio::ip::tcp::endpoint> backends);
  ~round_robin_proxy();
  round_robin_proxy(const round_robin_proxy&) = delete;
  round_robin_proxy& operator=(const round_robin_proxy&) = delete;

  // Where clients connect.
  boost::asio::ip::tcp::endpoint endpoint() const;
  // Connections accepted from now on go to these (thread-safe).
  void set_backends(std::vector<boost::asio::ip::tcp::endpoint> backends);
  // How many connections each backend (by port) was handed so far (thread-safe).
  std::map<unsigned short, std::size_t> forwarded() const;

  struct state;

 private:
  boost::asio::io_context io_;
  std::shared_ptr<state> state_;
  std::thread loop_;
};

}  // namespace bridge::test
