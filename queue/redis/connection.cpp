// make_client: one multiplexed connection with deadlines and reconnects (client.hpp says what it
// promises). A run loop owns the connection: find the primary (with Sentinel), set up, then a
// reader and a writer until it fails, then back off and set up again. Callers queue requests and
// wait on their own timers.
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
#include "queue/redis/discovery.hpp"
#include "queue/redis/session.hpp"
#include "queue/redis/switch_watch.hpp"

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

std::shared_ptr<asio::ssl::context> make_tls_context(const client_options& options) {
  if (!options.server.tls) return nullptr;
  auto tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
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

// What the logs and metrics call the server: its URL, or the sentinels and the master name.
std::string endpoint_of(const client_options& options) {
  if (!options.sentinel) return options.server.to_string();
  // Appended piece by piece (GCC 12's -Wstringop-overflow false positive: see url::to_string).
  std::string out = "master ";
  out += options.sentinel->master_name;
  out += " via sentinel ";
  bool first = true;
  for (const server_address& a : options.sentinel->addresses) {
    if (!first) out += ',';
    out += a.to_string();
    first = false;
  }
  return out;
}

// Everything the run loop and the callers share. The client facade and the run loop each hold it,
// so a caller still waiting, or the loop still unwinding, outlives the facade safely.
class core {
 public:
  core(asio::any_io_executor executor, client_options options)
      : executor_(std::move(executor)),
        options_(std::move(options)),
        endpoint_(endpoint_of(options_)),
        tls_(make_tls_context(options_)),
        backoff_(options_.reconnect_first, options_.reconnect_cap, std::random_device{}()),
        wake_writer_(executor_),
        backoff_timer_(executor_),
        unserved_since_(clock_type::now()) {}

  // Connects, serves, and reconnects until close().
  static awaitable<void> run(std::shared_ptr<core> self) {
    core& c = *self;
    while (c.phase_ != phase::closed) {
      c.phase_ = phase::connecting;
      std::string where = c.endpoint_;
      std::optional<setup_error> failed = co_await c.set_up(where);
      if (c.phase_ == phase::closed) break;
      if (failed) {
        ++c.stats_.connect_failures;
        c.queue_.fail_all(failed->code);  // those who waited for this attempt learn why
        c.session_.reset();
        co_await c.back_off("connecting to " + where + " failed: " + failed->detail);
        continue;
      }
      c.serve_started();
      {
        using namespace asio::experimental::awaitable_operators;
        co_await (c.read_loop(*c.session_) || c.write_loop(*c.session_));
      }
      c.session_->stream.close();
      c.serve_ended();
      if (c.phase_ == phase::closed) break;
      ++c.stats_.disconnects;
      c.queue_.fail_all(c.lost_code_);
      c.session_.reset();
      co_await c.back_off("connection to " + where + " lost: " + c.lost_reason_);
    }
    c.queue_.fail_all(errc::closed);
    c.session_.reset();
  }

  // A +switch-master for our master: leave a primary that is not the new one, and stop waiting
  // between attempts (the sentinels now name the new one).
  void primary_switched(const switch_notice& notice) {
    if (phase_ == phase::closed) return;
    ++stats_.switch_notices;
    note_primary(notice.to);
    if (phase_ == phase::ready && current_ == notice.to) return;  // found it already
    rediscover_now_ = true;
    if (phase_ == phase::ready && session_) {
      lost(*session_, errc::connection_lost,
           "+switch-master: the primary moved to " + notice.to.to_string());
    } else if (phase_ == phase::backing_off) {
      backoff_timer_.cancel();
    }
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
    if (probe_) probe_->stream.close();
    if (watch_) watch_->close();
  }

  // Listens for +switch-master (with Sentinel) until close().
  void watch(std::shared_ptr<switch_watch> w) { watch_ = std::move(w); }

  bool connected() const noexcept { return phase_ == phase::ready; }

  client_stats stats() const {
    client_stats s = stats_;
    s.connected = connected();
    s.endpoint = endpoint_;
    s.primary = connected() ? current_.to_string() : std::string();
    s.without_primary = unserved_since_.has_value();
    if (unserved_since_) {
      s.without_primary_total += std::chrono::duration_cast<std::chrono::milliseconds>(
          clock_type::now() - *unserved_since_);
    }
    return s;
  }

  const client_options& options() const noexcept { return options_; }
  const std::shared_ptr<asio::ssl::context>& tls() const noexcept { return tls_; }

 private:
  // One connection attempt: with Sentinel, ask the sentinels for the primary first and check
  // that the server named is one; then set the session up. `where` names the server for the log.
  awaitable<std::optional<setup_error>> set_up(std::string& where) {
    url target = options_.server;
    if (options_.sentinel) {
      discovery found =
          co_await ask_sentinels(executor_, tls_.get(), options_.server, *options_.sentinel,
                                 next_sentinel_, options_.timeout, probe_);
      if (!found.primary) {
        where = "the sentinels of " + options_.sentinel->master_name;
        co_return std::move(found.failure);
      }
      next_sentinel_ = found.answered_by;  // ask the one that answered first next time
      target = primary_url(options_.server, *found.primary);
      where = "primary " + found.primary->to_string();
    }
    if (phase_ == phase::closed) co_return setup_error{make_error_code(errc::closed), "closed"};
    current_ = server_address{target.host, target.port};
    session_ = std::make_unique<session>(executor_, tls_.get());
    const auto deadline = clock_type::now() + options_.timeout;
    if (auto failed = co_await session_->open(target, options_.password, deadline))
      co_return failed;
    // The sentinels may name a server that is no longer (or not yet) the primary.
    if (options_.sentinel) co_return co_await check_primary(*session_, deadline);
    co_return std::nullopt;
  }

  void serve_started() {
    const server_address where = current_;
    phase_ = phase::ready;
    lost_reason_.clear();
    lost_code_ = make_error_code(errc::connection_lost);
    if (stats_.connects++ > 0) ++stats_.reconnects;
    backoff_.reset();
    rediscover_now_ = false;
    if (unserved_since_) {
      stats_.without_primary_total += std::chrono::duration_cast<std::chrono::milliseconds>(
          clock_type::now() - *unserved_since_);
      unserved_since_.reset();
    }
    if (options_.sentinel) {
      note_primary(where);
      spdlog::info("redis: connected to {}, the primary of {}", where.to_string(),
                   options_.sentinel->master_name);
    } else {
      spdlog::info("redis: connected to {}", endpoint_);
    }
  }

  void serve_ended() {
    if (!unserved_since_) unserved_since_ = clock_type::now();
  }

  // Counts a failover when the primary is not the one last seen.
  void note_primary(const server_address& where) {
    if (last_primary_ && *last_primary_ != where) ++stats_.failovers;
    last_primary_ = where;
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
        // A primary that was demoted answers writes with READONLY: find the new one (through the
        // sentinels, or, behind a managed service's endpoint, by connecting to it again once
        // the provider has moved it).
        const bool demoted = (**next).error_kind() == server_error::readonly;
        if (!queue_.deliver(std::move(**next))) {
          co_return lost(s, errc::protocol_error, "the server sent a reply nobody asked for");
        }
        if (demoted) {
          // Without sentinels the usual backoff paces the retries: a URL that names a replica
          // by mistake must not become a reconnect loop.
          rediscover_now_ = options_.sentinel.has_value();
          co_return lost(s, errc::connection_lost, "it answered READONLY: it is a replica now");
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
    spdlog::warn("redis: {} answered nothing within {} ms; dropping the connection",
                 options_.sentinel ? current_.to_string() : endpoint_, options_.timeout.count());
    lost(*session_, errc::connection_lost, std::move(reason));
  }

  awaitable<void> back_off(const std::string& why) {
    phase_ = phase::backing_off;
    if (rediscover_now_) {
      rediscover_now_ = false;
      spdlog::warn("redis: {}; asking the sentinels for the primary now", why);
      co_return;
    }
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
  std::shared_ptr<asio::ssl::context> tls_;  // shared with the +switch-master listener
  reconnect_backoff backoff_;
  asio::steady_timer wake_writer_;
  asio::steady_timer backoff_timer_;
  phase phase_ = phase::connecting;
  command_queue queue_;
  std::unique_ptr<session> session_;
  std::string lost_reason_;
  error_code lost_code_ = make_error_code(errc::connection_lost);
  client_stats stats_;
  std::unique_ptr<session> probe_;  // a question to a sentinel under way
  std::shared_ptr<switch_watch> watch_;
  std::size_t next_sentinel_ = 0;
  server_address current_;  // the server of the ready connection (or of the one being set up)
  std::optional<server_address> last_primary_;  // the primary last connected to or announced
  std::optional<clock_type::time_point> unserved_since_;  // set while there is no ready connection
  bool rediscover_now_ = false;  // the next attempt goes without waiting (READONLY, a switch)
};

// The client facade: owns the run loop through the core; closing it (or dropping it) ends both.
class connection final : public client {
 public:
  connection(asio::any_io_executor executor, client_options options)
      : core_(std::make_shared<core>(executor, std::move(options))) {
    const auto stop_on_error = [c = core_](const char* loop) {
      return [c, loop](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::critical("redis: the {} stopped by an error: {}", loop, ex.what());
        } catch (...) {
          spdlog::critical("redis: the {} stopped by an unknown error", loop);
        }
        c->close();
      };
    };
    asio::co_spawn(executor, core::run(core_), stop_on_error("connection loop"));
    const client_options& o = core_->options();
    if (o.sentinel && !o.sentinel->addresses.empty()) {
      auto w = std::make_shared<switch_watch>(
          executor, core_->tls(), o.server, *o.sentinel, o.timeout, o.reconnect_first,
          o.reconnect_cap, [weak = std::weak_ptr<core>(core_)](const switch_notice& notice) {
            if (auto c = weak.lock()) c->primary_switched(notice);
          });
      core_->watch(w);
      asio::co_spawn(executor, switch_watch::run(w), stop_on_error("+switch-master listener"));
    }
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
