// make_client: one multiplexed connection with deadlines and reconnects (client.hpp says what it
// promises). A run loop owns the connection: set up, then a reader and a writer until it fails,
// then back off and set up again. Callers queue requests and wait on their own timers.
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <random>

#include "queue/redis/backoff.hpp"
#include "queue/redis/client.hpp"
#include "queue/redis/command_queue.hpp"
#include "queue/redis/session.hpp"

namespace bridge::queue::redis {

namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;
using boost::system::result;
using clock_type = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// Where the run loop is; callers act on it (queue, fail fast, or refuse).
enum class phase { connecting, ready, backing_off, closed };

std::optional<asio::ssl::context> make_tls_context(const client_options& options) {
  if (!options.server.tls) return std::nullopt;
  std::optional<asio::ssl::context> tls(std::in_place, asio::ssl::context::tls_client);
  tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);
  tls->set_verify_mode(asio::ssl::verify_peer);
  // Both throw boost::system::system_error: a CA that cannot be read is a start-up error.
  if (options.tls_ca_file.empty()) {
    tls->set_default_verify_paths();
  } else {
    tls->load_verify_file(options.tls_ca_file);
  }
  return tls;
}

// Everything the run loop and the callers share. The client facade and the run loop each hold it,
// so a caller still waiting, or the loop still unwinding, outlives the facade safely.
class core {
 public:
  core(asio::any_io_executor executor, client_options options)
      : executor_(std::move(executor)),
        options_(std::move(options)),
        endpoint_(options_.server.to_string()),
        tls_(make_tls_context(options_)),
        backoff_(options_.reconnect_first, options_.reconnect_cap, std::random_device{}()),
        wake_writer_(executor_),
        backoff_timer_(executor_) {}

  // Connects, serves, and reconnects until close().
  static awaitable<void> run(std::shared_ptr<core> self) {
    core& c = *self;
    while (c.phase_ != phase::closed) {
      c.phase_ = phase::connecting;
      c.session_ = std::make_unique<session>(c.executor_, c.tls_ ? &*c.tls_ : nullptr);
      std::optional<setup_error> failed = co_await c.session_->open(
          c.options_.server, c.options_.password, clock_type::now() + c.options_.timeout);
      if (c.phase_ == phase::closed) break;
      if (failed) {
        ++c.stats_.connect_failures;
        c.queue_.fail_all(failed->code);  // those who waited for this attempt learn why
        c.session_.reset();
        co_await c.back_off("connecting to " + c.endpoint_ + " failed: " + failed->detail);
        continue;
      }
      c.serve_started();
      {
        using namespace asio::experimental::awaitable_operators;
        co_await (c.read_loop(*c.session_) || c.write_loop(*c.session_));
      }
      c.session_->stream.close();
      if (c.phase_ == phase::closed) break;
      ++c.stats_.disconnects;
      c.queue_.fail_all(c.lost_code_);
      c.session_.reset();
      co_await c.back_off("connection to " + c.endpoint_ + " lost: " + c.lost_reason_);
    }
    c.queue_.fail_all(errc::closed);
    c.session_.reset();
  }

  // One round trip for every command of req (client::execute).
  awaitable<result<std::vector<reply>>> submit(request req) {
    const auto started = clock_type::now();
    if (phase_ == phase::closed) co_return count_failure(errc::closed);
    if (phase_ == phase::backing_off) co_return count_failure(errc::not_connected);
    if (req.empty()) co_return std::vector<reply>{};

    auto p =
        std::make_shared<pending_request>(executor_, std::move(req), started + options_.timeout);
    queue_.push(p);
    if (phase_ == phase::ready) wake_writer_.cancel();
    auto [ec] = co_await p->signal.async_wait(use_tuple);
    if (!p->done) {
      p->abandoned = true;
      // Cancelled by the awaiting coroutine's owner: not the server's fault.
      if (ec == asio::error::operation_aborted) co_return ec;
      ++stats_.round_trips_timeout;
      if (phase_ == phase::ready) {
        drop("no reply within " + std::to_string(options_.timeout.count()) + " ms");
      }
      co_return make_error_code(errc::timeout);
    }
    if (p->error) co_return count_failure(p->error);

    ++stats_.latency_count;
    stats_.latency_sum +=
        std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - started);
    bool any_error = false;
    for (const reply& r : p->replies)
      any_error = any_error || r.is_error();
    ++(any_error ? stats_.round_trips_server_error : stats_.round_trips_ok);
    co_return std::move(p->replies);
  }

  void close() noexcept {
    if (phase_ == phase::closed) return;
    phase_ = phase::closed;
    queue_.fail_all(errc::closed);
    backoff_timer_.cancel();
    wake_writer_.cancel();
    if (session_) session_->stream.close();
  }

  bool connected() const noexcept { return phase_ == phase::ready; }

  client_stats stats() const {
    client_stats s = stats_;
    s.connected = connected();
    s.endpoint = endpoint_;
    return s;
  }

 private:
  void serve_started() {
    phase_ = phase::ready;
    lost_reason_.clear();
    lost_code_ = make_error_code(errc::connection_lost);
    if (stats_.connects++ > 0) ++stats_.reconnects;
    backoff_.reset();
    spdlog::info("redis: connected to {}", endpoint_);
  }

  // Feeds replies to the waiting requests in order, until the connection fails.
  awaitable<void> read_loop(session& s) {
    for (;;) {
      // Replies already parsed (set-up leftovers, or the last read) go out before reading more.
      for (;;) {
        auto next = s.replies.next();
        if (!next)
          co_return lost(s, errc::protocol_error, "protocol error: " + s.replies.error_text());
        if (!*next) break;
        if (!queue_.deliver(std::move(**next))) {
          co_return lost(s, errc::protocol_error, "the server sent a reply nobody asked for");
        }
      }
      auto [ec, n] = co_await s.stream.read_some(asio::buffer(s.buffer));
      if (ec) co_return lost(s, errc::connection_lost, ec.message());
      if (!s.replies.feed(s.buffer.data(), n)) {
        co_return lost(s, errc::protocol_error, "protocol error: " + s.replies.error_text());
      }
    }
  }

  // Writes what callers queued: everything queued while one write was in flight goes out in the
  // next, as one gathered write.
  awaitable<void> write_loop(session& s) {
    std::vector<asio::const_buffer> buffers;
    for (;;) {
      std::vector<std::shared_ptr<pending_request>> batch = queue_.take_unwritten();
      if (batch.empty()) {
        wake_writer_.expires_at(clock_type::time_point::max());
        co_await wake_writer_.async_wait(use_tuple);  // submit() or the end cancels it
        if (!s.stream.is_open() || phase_ != phase::ready) co_return;
        continue;
      }
      buffers.clear();
      for (const auto& p : batch)
        buffers.push_back(asio::buffer(p->commands.wire()));
      ++stats_.writes;
      for (const auto& p : batch)
        stats_.commands_written += p->commands.size();
      auto [ec, n] = co_await s.stream.write(buffers);
      if (ec) co_return lost(s, errc::connection_lost, "write failed: " + ec.message());
    }
  }

  // Ends the connection (the first cause is the one reported); new commands fail fast from now.
  void lost(session& s, errc code, std::string reason) {
    if (phase_ == phase::ready) phase_ = phase::backing_off;
    if (lost_reason_.empty()) {
      lost_reason_ = std::move(reason);
      lost_code_ = make_error_code(code);
    }
    s.stream.close();
  }

  // Ends the connection from a caller that gave up on the server.
  void drop(std::string reason) {
    if (!session_ || !session_->stream.is_open()) return;
    spdlog::warn("redis: {} answered nothing within {} ms; dropping the connection", endpoint_,
                 options_.timeout.count());
    lost(*session_, errc::connection_lost, std::move(reason));
  }

  awaitable<void> back_off(const std::string& why) {
    phase_ = phase::backing_off;
    const std::chrono::milliseconds delay = backoff_.next();
    spdlog::warn("redis: {}; reconnecting in {} ms", why, delay.count());
    backoff_timer_.expires_after(delay);
    co_await backoff_timer_.async_wait(use_tuple);
  }

  error_code count_failure(error_code ec) {
    ++(ec == errc::timeout ? stats_.round_trips_timeout : stats_.round_trips_connection_error);
    return ec;
  }

  asio::any_io_executor executor_;
  client_options options_;
  std::string endpoint_;
  std::optional<asio::ssl::context> tls_;
  reconnect_backoff backoff_;
  asio::steady_timer wake_writer_;
  asio::steady_timer backoff_timer_;
  phase phase_ = phase::connecting;
  command_queue queue_;
  std::unique_ptr<session> session_;
  std::string lost_reason_;
  error_code lost_code_ = make_error_code(errc::connection_lost);
  client_stats stats_;
};

// The client facade: owns the run loop through the core; closing it (or dropping it) ends both.
class connection final : public client {
 public:
  connection(asio::any_io_executor executor, client_options options)
      : core_(std::make_shared<core>(executor, std::move(options))) {
    asio::co_spawn(executor, core::run(core_), [c = core_](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::critical("redis: the connection loop stopped by an error: {}", ex.what());
      } catch (...) {
        spdlog::critical("redis: the connection loop stopped by an unknown error");
      }
      c->close();
    });
  }
  ~connection() override { core_->close(); }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  awaitable<result<std::vector<reply>>> execute(request req) override {
    const std::shared_ptr<core> c = core_;  // the client may go while this waits
    co_return co_await c->submit(std::move(req));
  }
  bool connected() const noexcept override { return core_->connected(); }
  client_stats stats() const override { return core_->stats(); }
  void close() noexcept override { core_->close(); }

 private:
  std::shared_ptr<core> core_;
};

}  // namespace

std::shared_ptr<client> make_client(asio::any_io_executor executor, client_options options) {
  return std::make_shared<connection>(std::move(executor), std::move(options));
}

}  // namespace bridge::queue::redis
