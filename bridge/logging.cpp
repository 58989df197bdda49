#include "bridge/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "webhook/io/log_event.hpp"
#include "webhook/util/utf8.hpp"

namespace bridge {

namespace {

// The configuration's vocabulary ("warn", not spdlog's "warning"), so the level an operator
// writes is the level they read back.
std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

void append(spdlog::memory_buf_t& dest, std::string_view s) {
  dest.append(s.data(), s.data() + s.size());
}

// Appends n as exactly width decimal digits (zero-padded).
void append_digits(spdlog::memory_buf_t& dest, long long n, int width) {
  std::array<char, 20> digits{};
  if (n < 0) n = 0;
  for (int i = width - 1; i >= 0; --i) {
    digits[static_cast<std::size_t>(i)] = static_cast<char>('0' + n % 10);
    n /= 10;
  }
  dest.append(digits.data(), digits.data() + width);
}

// Appends "YYYY-MM-DD<sep>HH:MM:SS.mmm" in UTC; the civil-calendar maths of <chrono> needs no
// libc time zone state and is thread-safe.
void append_timestamp(spdlog::memory_buf_t& dest, spdlog::log_clock::time_point time, char sep) {
  using namespace std::chrono;
  const auto day = floor<days>(time);
  const year_month_day ymd{day};
  const hh_mm_ss hms{floor<milliseconds>(time - day)};
  append_digits(dest, static_cast<int>(ymd.year()), 4);
  dest.push_back('-');
  append_digits(dest, static_cast<unsigned>(ymd.month()), 2);
  dest.push_back('-');
  append_digits(dest, static_cast<unsigned>(ymd.day()), 2);
  dest.push_back(sep);
  append_digits(dest, hms.hours().count(), 2);
  dest.push_back(':');
  append_digits(dest, hms.minutes().count(), 2);
  dest.push_back(':');
  append_digits(dest, hms.seconds().count(), 2);
  dest.push_back('.');
  append_digits(dest, hms.subseconds().count(), 3);
}

void append_control_escape(spdlog::memory_buf_t& dest, unsigned char c) {
  static constexpr char hex[] = "0123456789abcdef";
  switch (c) {
    case '\n':
      append(dest, "\\n");
      return;
    case '\r':
      append(dest, "\\r");
      return;
    case '\t':
      append(dest, "\\t");
      return;
    default:
      append(dest, "\\u00");
      dest.push_back(hex[c >> 4]);
      dest.push_back(hex[c & 0x0F]);
  }
}

// Appends s with control characters escaped and invalid UTF-8 replaced by U+FFFD; json_quotes
// also escapes '"' and '\' so the result can sit inside a JSON string.
void append_escaped(spdlog::memory_buf_t& dest, std::string_view s, bool json_quotes) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) {
      // DEL is legal in JSON but a terminal control character; escape it too.
      append_control_escape(dest, c);
      ++i;
    } else if (c < 0x80) {
      if (json_quotes && (c == '"' || c == '\\')) dest.push_back('\\');
      dest.push_back(static_cast<char>(c));
      ++i;
    } else if (const std::size_t n = webhook::util::utf8_sequence_length(s, i); n != 0) {
      append(dest, s.substr(i, n));
      i += n;
    } else {
      append(dest, "\xEF\xBF\xBD");  // U+FFFD, one per bad byte
      ++i;
    }
  }
}

std::string_view payload_of(const spdlog::details::log_msg& msg) {
  return {msg.payload.data(), msg.payload.size()};
}

// A payload split into the fields webhook::io::log_event put in front of it, and its text.
struct tagged_line {
  bool tagged = false;
  std::string_view event, wamid, conversation, text;
};

tagged_line split_fields(std::string_view payload) {
  using webhook::io::log_fields_mark;
  using webhook::io::log_fields_separator;
  tagged_line line;
  line.text = payload;
  if (payload.empty() || payload.front() != log_fields_mark) return line;
  const auto end = payload.find(log_fields_mark, 1);
  if (end == std::string_view::npos) return line;
  std::string_view fields = payload.substr(1, end - 1);
  std::string_view* parts[] = {&line.event, &line.wamid, &line.conversation};
  for (std::string_view* part : parts) {
    const auto separator = fields.find(log_fields_separator);
    *part = fields.substr(0, separator);
    fields =
        separator == std::string_view::npos ? std::string_view{} : fields.substr(separator + 1);
  }
  line.tagged = true;
  line.text = payload.substr(end + 1);
  return line;
}

}  // namespace

void json_formatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  append(dest, R"({"ts":")");
  append_timestamp(dest, msg.time, 'T');
  append(dest, R"(Z","level":")");
  append(dest, level_name(msg.level));
  if (!replica_.empty()) {
    append(dest, R"(","replica":")");
    append_escaped(dest, replica_, true);
  }
  const tagged_line line = split_fields(payload_of(msg));
  if (line.tagged) {
    const std::pair<std::string_view, std::string_view> fields[] = {
        {"event", line.event}, {"wamid", line.wamid}, {"conversation", line.conversation}};
    for (const auto& [name, value] : fields) {
      if (value.empty()) continue;
      append(dest, R"(",")");
      append(dest, name);
      append(dest, R"(":")");
      append_escaped(dest, value, true);
    }
  }
  append(dest, R"(","msg":")");
  append_escaped(dest, line.text, true);
  append(dest, "\"}\n");
}

std::unique_ptr<spdlog::formatter> json_formatter::clone() const {
  return std::make_unique<json_formatter>(replica_);
}

void text_formatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  append_timestamp(dest, msg.time, ' ');
  append(dest, " [");
  append(dest, level_name(msg.level));
  append(dest, "] ");
  if (!replica_.empty()) {
    append(dest, "[");
    append_escaped(dest, replica_, false);
    append(dest, "] ");
  }
  append_escaped(dest, split_fields(payload_of(msg)).text, false);
  dest.push_back('\n');
}

std::unique_ptr<spdlog::formatter> text_formatter::clone() const {
  return std::make_unique<text_formatter>(replica_);
}

std::unique_ptr<spdlog::formatter> make_formatter(config::log_format format, std::string replica) {
  if (format == config::log_format::text)
    return std::make_unique<text_formatter>(std::move(replica));
  return std::make_unique<json_formatter>(std::move(replica));
}

spdlog::level::level_enum parse_level(std::string_view level) {
  using spdlog::level::level_enum;
  static constexpr std::array<std::pair<std::string_view, level_enum>, 8> names{{
      {"trace", level_enum::trace},
      {"debug", level_enum::debug},
      {"info", level_enum::info},
      {"warn", level_enum::warn},
      {"warning", level_enum::warn},
      {"error", level_enum::err},
      {"critical", level_enum::critical},
      {"off", level_enum::off},
  }};
  for (const auto& [name, value] : names) {
    if (name == level) return value;
  }
  throw std::invalid_argument("unknown log level \"" + std::string(level) +
                              "\" (expected trace, debug, info, warn, error, critical or off)");
}

void configure_logging(const config::logging_settings& settings, std::string replica) {
  const spdlog::level::level_enum level = parse_level(settings.level);

  // spdlog forbids replacing the default logger while another thread logs through it, so a
  // reload only changes the level and formatter of the logger installed the first time.
  std::shared_ptr<spdlog::logger> logger = spdlog::default_logger();
  const bool ours = logger && logger->sinks().size() == 1 &&
                    std::dynamic_pointer_cast<spdlog::sinks::stderr_sink_mt>(logger->sinks()[0]);
  if (!ours) {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    logger = std::make_shared<spdlog::logger>(std::string(), std::move(sink));
    spdlog::set_default_logger(logger);
  }
  logger->set_formatter(make_formatter(settings.format, std::move(replica)));
  // The stderr sink flushes every line itself, so nothing waits in a buffer when the process dies.
  logger->set_level(level);
}

}  // namespace bridge
