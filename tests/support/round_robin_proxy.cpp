#include "tests/support/round_robin_proxy.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "webhook/io/task_group.hpp"

namespace bridge::test {

namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

struct round_robin_proxy::state {
  explicit state(asio::any_io_executor executor)
      : acceptor(executor, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        connections(executor, "proxy connection") {}

  tcp::acceptor acceptor;
  webhook::io::task_group connections;
  mutable std::mutex mutex;
  std::vector<tcp::endpoint> backends;
  std::size_t next = 0;
  std::map<unsigned short, std::size_t> forwarded;
};

namespace {

// Copies `from` to `to` until `from` ends or fails, then passes the end on (half-close).
asio::awaitable<void> pump(tcp::socket& from, tcp::socket& to) {
  std::array<char, 16 * 1024> buffer;
  for (;;) {
    const auto [read_ec, n] =
        co_await from.async_read_some(asio::buffer(buffer), as_tuple_awaitable);
    if (read_ec) break;
    const auto [write_ec, written] =
        co_await asio::async_write(to, asio::buffer(buffer.data(), n), as_tuple_awaitable);
    (void)written;
    if (write_ec) break;
  }
  boost::system::error_code ignored;
  to.shutdown(tcp::socket::shutdown_send, ignored);
}

// One client connection: the next backend that takes it, then bytes both ways until both ends
// have closed. A connection no backend takes is closed.
asio::awaitable<void> serve(std::shared_ptr<round_robin_proxy::state> st, tcp::socket client) {
  using namespace asio::experimental::awaitable_operators;
  std::vector<tcp::endpoint> backends;
  std::size_t first = 0;
  {
    std::lock_guard lock(st->mutex);
    backends = st->backends;
    first = st->next++;
  }
  tcp::socket backend(client.get_executor());
  bool connected = false;
  for (std::size_t i = 0; i < backends.size() && !connected; ++i) {
    const tcp::endpoint& to = backends[(first + i) % backends.size()];
    backend = tcp::socket(client.get_executor());
    const auto [ec] = co_await backend.async_connect(to, as_tuple_awaitable);
    connected = !ec;
    if (connected) {
      std::lock_guard lock(st->mutex);
      ++st->forwarded[to.port()];
    }
  }
  if (!connected) co_return;
  co_await (pump(client, backend) && pump(backend, client));
}

asio::awaitable<void> accept_loop(std::shared_ptr<round_robin_proxy::state> st) {
  for (;;) {
    auto [ec, client] = co_await st->acceptor.async_accept(as_tuple_awaitable);
    if (ec == asio::error::operation_aborted || !st->acceptor.is_open()) co_return;
    if (ec) continue;
    st->connections.spawn(serve(st, std::move(client)));
  }
}

}  // namespace

round_robin_proxy::round_robin_proxy(std::vector<tcp::endpoint> backends)
    : state_(std::make_shared<state>(io_.get_executor())) {
  state_->backends = std::move(backends);
  state_->connections.spawn(accept_loop(state_));
  loop_ = std::thread([this] { io_.run(); });
}

round_robin_proxy::~round_robin_proxy() {
  io_.stop();
  loop_.join();
}

tcp::endpoint round_robin_proxy::endpoint() const {
  return state_->acceptor.local_endpoint();
}

void round_robin_proxy::set_backends(std::vector<tcp::endpoint> backends) {
  std::lock_guard lock(state_->mutex);
  state_->backends = std::move(backends);
}

std::map<unsigned short, std::size_t> round_robin_proxy::forwarded() const {
  std::lock_guard lock(state_->mutex);
  return state_->forwarded;
}

}  // namespace bridge::test
