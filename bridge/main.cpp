// robofy-wa-bridge: the executable. Reads the command line and configuration, then runs the app
// on one event loop until a signal stops it.
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <iostream>
#include <vector>

#include "bridge/app.hpp"
#include "bridge/cli.hpp"
#include "bridge/logging.hpp"
#include "bridge/replica.hpp"
#include "bridge/systemd_notify.hpp"
#include "bridge/version.hpp"
#include "config/loader.hpp"
#include "webhook/io/task_group.hpp"

namespace {

namespace asio = boost::asio;

constexpr int exit_ok = 0;
constexpr int exit_runtime_failure = 1;
constexpr int exit_bad_configuration = 2;

// The replica's name for every log line once several replicas share Redis; none for one process.
std::string log_replica(const bridge::config::settings& settings) {
  return settings.redis ? bridge::replica_name() : std::string();
}

void print_problems(const bridge::config::config_error& error) {
  std::cerr << "robofy-wa-bridge: the configuration is invalid (" << error.problems.size()
            << (error.problems.size() == 1 ? " problem" : " problems") << "):\n";
  for (const auto& problem : error.problems)
    std::cerr << "  " << problem.to_string() << "\n";
}

// Loads and fully checks a configuration file: the YAML rules, then what only start-up finds
// (usable URLs, a loadable TLS certificate). Throws config_error or std::invalid_argument.
bridge::config::settings load_checked(const std::string& path) {
  bridge::config::settings settings =
      bridge::config::load_file(path, bridge::config::process_environment());
  asio::io_context scratch;
  bridge::app probe(scratch, settings);
  return settings;
}

asio::awaitable<void> handle_signals(asio::signal_set& signals, bridge::app& app,
                                     const std::string& config_path, asio::io_context& io) {
  bool stopping = false;
  for (;;) {
    auto [ec, signal] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    if (signal == SIGHUP) {
      if (stopping) continue;
      spdlog::info("SIGHUP: reloading {}", config_path);
      bridge::notify_service_manager("RELOADING=1");
      try {
        bridge::config::settings settings = load_checked(config_path);
        bridge::configure_logging(settings.logging, log_replica(settings));
        app.reload(std::move(settings));
      } catch (const bridge::config::config_error& e) {
        for (const auto& problem : e.problems) {
          spdlog::error("reload rejected: {}", problem.to_string());
        }
        spdlog::error("reload rejected; the previous configuration stays in force");
      } catch (const std::exception& e) {
        spdlog::error("reload rejected: {}; the previous configuration stays in force", e.what());
      }
      bridge::notify_service_manager("READY=1");
      continue;
    }
    if (stopping) {
      spdlog::warn("second stop signal: stopping now without waiting for the drain");
      io.stop();
      co_return;
    }
    stopping = true;
    bridge::notify_service_manager("STOPPING=1");
    spdlog::info("{}: draining and stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
    asio::co_spawn(io, app.shutdown(), [&io](std::exception_ptr, std::size_t) { io.stop(); });
  }
}

// Tells systemd's watchdog the event loop is alive; a loop stuck for WatchdogSec gets restarted.
asio::awaitable<void> ping_watchdog(std::chrono::microseconds interval) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    bridge::notify_service_manager("WATCHDOG=1");
    timer.expires_after(interval);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
  }
}

}  // namespace
int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  const auto parsed = bridge::parse_command_line(args);
  if (const auto* error = std::get_if<bridge::usage_error>(&parsed)) {
    std::cerr << "robofy-wa-bridge: " << error->message << "\n\n" << bridge::usage_text();
    return exit_bad_configuration;
  }
  const auto& command = std::get<bridge::command_line>(parsed);
  switch (command.what) {
    case bridge::command_line::action::help:
      std::cout << bridge::usage_text();
      return exit_ok;
    case bridge::command_line::action::version:
      std::cout << "robofy-wa-bridge " << bridge::version_string << "\n";
      return exit_ok;
    case bridge::command_line::action::run:
    case bridge::command_line::action::check_config:
      break;
  }

  bridge::config::settings settings;
  try {
    settings = load_checked(command.config_path);
  } catch (const bridge::config::config_error& e) {
    print_problems(e);
    return exit_bad_configuration;
  } catch (const std::exception& e) {
    std::cerr << "robofy-wa-bridge: " << command.config_path << ": " << e.what() << "\n";
    return exit_bad_configuration;
  }
  if (command.what == bridge::command_line::action::check_config) {
    std::cout << "robofy-wa-bridge: " << command.config_path << " is valid\n";
    return exit_ok;
  }

  try {
    bridge::configure_logging(settings.logging, log_replica(settings));
    // A file-size limit (RLIMIT_FSIZE) must fail the journal's write (EFBIG), which is handled
    // like a full disk, instead of killing the process.
    std::signal(SIGXFSZ, SIG_IGN);
    asio::io_context io(1);  // one event loop thread: no locks on the request path
    bridge::app app(io, settings);
    app.start();
    spdlog::info("robofy-wa-bridge {} ready ({} route(s), {} workers, queue capacity {})",
                 bridge::version_string, settings.routes.size(), settings.queue.workers,
                 settings.queue.capacity);
    asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
    // The process's own coroutines (signals, the watchdog): owned here, cancelled when main
    // returns, and any exception that ends one is logged.
    bridge::webhook::io::task_group process_tasks(io.get_executor(), "process");
    process_tasks.spawn(handle_signals(signals, app, command.config_path, io));
    // Listening and the journal replayed: tell systemd (Type=notify) we are up.
    bridge::notify_service_manager("READY=1\nSTATUS=answering WhatsApp messages");
    if (const auto interval = bridge::watchdog_ping_interval()) {
      process_tasks.spawn(ping_watchdog(*interval));
    }
    io.run();
    spdlog::info("stopped");
    return exit_ok;
  } catch (const std::exception& e) {
    spdlog::critical("robofy-wa-bridge failed: {}", e.what());
    return exit_runtime_failure;
  }
}
