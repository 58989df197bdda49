#pragma once

#include <spdlog/formatter.h>

#include <memory>
#include <string>
#include <string_view>

#include "config/settings.hpp"

// Process-wide log set-up: spdlog's default logger writing one line per record to stderr.
namespace bridge {

// Formats a record as one JSON object per line: {"ts":"2026-11-24T11:15:02.123Z","level":"info",
// "msg":"..."}, with "replica":"<name>" after the level when several replicas run. ts is UTC; msg
// is escaped so any payload yields valid JSON (invalid UTF-8 becomes U+FFFD). Never throws except
// std::bad_alloc.
class json_formatter final : public spdlog::formatter {
 public:
  explicit json_formatter(std::string replica = {}) : replica_(std::move(replica)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  std::string replica_;
};

// Formats a record as "2026-11-24 11:15:02.123 [info] msg" (UTC), "[info] [<replica>] msg" when
// several replicas run. Control characters in msg are escaped (\n, \u001b, ...) so one record is
// always one line. Never throws except std::bad_alloc.
class text_formatter final : public spdlog::formatter {
 public:
  explicit text_formatter(std::string replica = {}) : replica_(std::move(replica)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  std::string replica_;
};

// The formatter for a configured log format; `replica` names this replica (empty: one process).
std::unique_ptr<spdlog::formatter> make_formatter(config::log_format format,
                                                  std::string replica = {});

// Parses a configured level (trace|debug|info|warn|error|critical|off; "warning" also accepted).
// Throws std::invalid_argument naming the value when it is unknown.
spdlog::level::level_enum parse_level(std::string_view level);

// Points spdlog's default logger at stderr (thread-safe sink) with the configured level and
// format. Safe to call again on reload: the existing logger is updated in place, never replaced
// while other threads may log. Throws std::invalid_argument for an unknown level, before changing
// anything.
// `replica` names this replica in every line when several run (empty: one process).
void configure_logging(const config::logging_settings& settings, std::string replica = {});

}  // namespace bridge
