#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>

#include "bridge/pipeline.hpp"
#include "bridge/store/message_store.hpp"
#include "config/settings.hpp"
#include "queue/spool.hpp"
#include "webhook/http/client.hpp"

namespace bridge {

struct app_options {
  webhook::http::http_client_options http;  // upstream client tuning (tests add their CA here)
  // Adjusts the timing derived from each configuration load (retry delays, breakers, typing
  // refresh); tests shorten the waits with it.
  std::function<void(runtime_settings&)> tune;
  queue::spool_options spool;                 // journal tuning (tests compact sooner)
  std::shared_ptr<webhook::io::clock> clock;  // the system clock unless a test brings its own
};

// The whole bridge on one io_context: the public webhook listener, the admin listener, the
// pipeline and its workers, and the upstream client.
class app {
 public:
  // Prepares everything without binding. Throws std::invalid_argument for settings that cannot
  // be used (unusable base URL, unreadable TLS certificate or key).
  app(boost::asio::io_context& io, config::settings settings, app_options options = {});
  ~app();
  app(const app&) = delete;
  app& operator=(const app&) = delete;

  // Binds both listeners and starts the workers; throws boost::system::system_error naming the
  // address when a listener cannot bind. Ready once this returns.
  void start();
  // Drains and stops (DESIGN.md §2): /readyz turns 503 at once, new POSTs get 503, accepted
  // messages are answered for up to shutdown.grace, what is left is logged as dropped.
  // Returns how many messages were dropped.
  boost::asio::awaitable<std::size_t> shutdown();
  // Applies a new configuration: routes, secrets, reply texts, log level, limits and TLS
  // certificate at once; listen addresses and spool.dir only after a restart (logged). Throws
  // std::invalid_argument, keeping the old configuration, when it cannot be used.
  void reload(config::settings settings);

  boost::asio::ip::tcp::endpoint webhook_address() const;
  boost::asio::ip::tcp::endpoint admin_address() const;
  bool ready() const;
  // The Prometheus text GET /metrics answers.
  std::string metrics_text() const;
  // The pipeline (admission counters, worker counters, breakers). Only after start().
  const pipeline& pipeline_view() const;
  // The executor everything of the app runs on.
  boost::asio::any_io_executor executor() const;

 private:
  // The store: Redis when configured, else this process's own (with its journal when spool.dir).
  std::shared_ptr<store::message_store> open_store();

  struct parts;
  std::unique_ptr<parts> parts_;
};

}  // namespace bridge
