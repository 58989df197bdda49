#include "bridge/logging.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <regex>
#include <stdexcept>
#include <string>

namespace json = boost::json;
using bridge::config::log_format;

namespace {

// 2026-11-24T11:15:02.123Z
spdlog::log_clock::time_point sample_time() {
  using namespace std::chrono;
  return sys_days{year{2026} / 11 / 24} + hours(11) + minutes(15) + seconds(2) + milliseconds(123);
}

std::string format(log_format fmt, std::string_view payload,
                   spdlog::level::level_enum level = spdlog::level::info,
                   spdlog::log_clock::time_point time = sample_time()) {
  const spdlog::details::log_msg msg(time, spdlog::source_loc{}, "", level,
                                     spdlog::string_view_t(payload.data(), payload.size()));
  spdlog::memory_buf_t buf;
  bridge::make_formatter(fmt)->format(msg, buf);
  return std::string(buf.data(), buf.size());
}

// The one JSON object a json record holds, checking it is exactly one line.
json::object parse_record(const std::string& line) {
  BOOST_TEST_REQUIRE(!line.empty());
  BOOST_TEST(line.back() == '\n');
  BOOST_TEST(line.find('\n') == line.size() - 1);
  return json::parse(line).as_object();
}

// Restores the default logger's level after a test changes it.
struct level_guard {
  spdlog::level::level_enum saved = spdlog::get_level();
  ~level_guard() { spdlog::set_level(saved); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(logging)

BOOST_AUTO_TEST_CASE(json_record_has_ts_level_msg) {
  const json::object o = parse_record(format(log_format::json, "hello"));
  BOOST_TEST(o.size() == 3u);
  BOOST_TEST(o.at("ts").as_string() == "2026-11-24T11:15:02.123Z");
  BOOST_TEST(o.at("level").as_string() == "info");
  BOOST_TEST(o.at("msg").as_string() == "hello");
}

BOOST_AUTO_TEST_CASE(json_exact_bytes) {
  BOOST_TEST(format(log_format::json, "a\"b") ==
             "{\"ts\":\"2026-11-24T11:15:02.123Z\",\"level\":\"info\",\"msg\":\"a\\\"b\"}\n");
}

BOOST_AUTO_TEST_CASE(json_escapes_round_trip) {
  const std::string payloads[] = {
      "say \"hi\"",
      "line1\nline2\r\n",
      "col1\tcol2",
      "C:\\path\\to",
      std::string("nul\0byte", 8),
      "bell\x07 esc\x1b[31m del\x7f",
      "caf\xC3\xA9 \xE0\xA4\xA8 \xF0\x9F\x98\x80 \xE2\x80\xA8",
      "",
  };
  for (const std::string& payload : payloads) {
    BOOST_TEST_CONTEXT(payload) {
      const std::string line = format(log_format::json, payload);
      const json::object o = parse_record(line);
      BOOST_TEST(std::string(o.at("msg").as_string()) == payload);
    }
  }
}

BOOST_AUTO_TEST_CASE(json_control_chars_use_u00xx) {
  const std::string line = format(log_format::json,
                                  "a\x01"
                                  "b\x1f"
                                  "c");
  BOOST_TEST(line.find("a\\u0001b\\u001fc") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(json_keeps_valid_utf8_bytes_as_is) {
  const std::string emoji = "\xF0\x9F\x98\x80";
  BOOST_TEST(format(log_format::json, emoji).find(emoji) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(json_replaces_invalid_utf8) {
  // Lone continuation, truncated sequence, overlong '/', UTF-8 encoded surrogate, > U+10FFFF.
  const std::string bad[] = {"a\x80z",         "a\xE2\x82z",         "a\xC0\xAFz",
                             "a\xED\xA0\x80z", "a\xF4\x90\x80\x80z", "a\xFFz",
                             "end\xF0\x9F\x98"};
  for (const std::string& payload : bad) {
    BOOST_TEST_CONTEXT(payload) {
      const json::object o = parse_record(format(log_format::json, payload));
      const std::string msg(o.at("msg").as_string());
      BOOST_TEST(msg.find("\xEF\xBF\xBD") != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(json_level_names) {
  BOOST_TEST(
      parse_record(format(log_format::json, "x", spdlog::level::warn)).at("level").as_string() ==
      "warn");
  BOOST_TEST(
      parse_record(format(log_format::json, "x", spdlog::level::err)).at("level").as_string() ==
      "error");
  BOOST_TEST(parse_record(format(log_format::json, "x", spdlog::level::critical))
                 .at("level")
                 .as_string() == "critical");
  BOOST_TEST(
      parse_record(format(log_format::json, "x", spdlog::level::trace)).at("level").as_string() ==
      "trace");
}

BOOST_AUTO_TEST_CASE(timestamp_pads_fields) {
  using namespace std::chrono;
  const auto t =
      sys_days{year{2027} / 1 / 2} + hours(3) + minutes(4) + seconds(5) + milliseconds(6);
  BOOST_TEST(
      parse_record(format(log_format::json, "x", spdlog::level::info, t)).at("ts").as_string() ==
      "2027-01-02T03:04:05.006Z");
}

BOOST_AUTO_TEST_CASE(text_record_shape) {
  BOOST_TEST(format(log_format::text, "listening on 0.0.0.0:8443") ==
             "2026-11-24 11:15:02.123 [info] listening on 0.0.0.0:8443\n");
  BOOST_TEST(format(log_format::text, "x", spdlog::level::warn) ==
             "2026-11-24 11:15:02.123 [warn] x\n");
  const std::regex shape(R"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} \[error\] .*\n)");
  BOOST_TEST(std::regex_match(format(log_format::text, "boom", spdlog::level::err), shape));
}

BOOST_AUTO_TEST_CASE(text_record_stays_on_one_line) {
  const std::string line = format(log_format::text, "a\nforged [error] line\r\x1b[2J \"q\"");
  BOOST_TEST(line == "2026-11-24 11:15:02.123 [info] a\\nforged [error] line\\r\\u001b[2J \"q\"\n");
}

BOOST_AUTO_TEST_CASE(clone_formats_the_same) {
  const auto original = bridge::make_formatter(log_format::json);
  const auto copy = original->clone();
  const spdlog::details::log_msg msg(sample_time(), spdlog::source_loc{}, "", spdlog::level::info,
                                     "same");
  spdlog::memory_buf_t a;
  spdlog::memory_buf_t b;
  original->format(msg, a);
  copy->format(msg, b);
  BOOST_TEST(std::string(a.data(), a.size()) == std::string(b.data(), b.size()));
}

BOOST_AUTO_TEST_CASE(configure_applies_level) {
  level_guard guard;
  bridge::config::logging_settings settings;
  settings.level = "debug";
  settings.format = log_format::text;
  bridge::configure_logging(settings);
  BOOST_TEST(spdlog::get_level() == spdlog::level::debug);
  settings.level = "warn";
  settings.format = log_format::json;
  bridge::configure_logging(settings);
  BOOST_TEST(spdlog::get_level() == spdlog::level::warn);
  settings.level = "off";
  bridge::configure_logging(settings);
  BOOST_TEST(spdlog::get_level() == spdlog::level::off);
}

BOOST_AUTO_TEST_CASE(configure_reuses_logger_on_reload) {
  level_guard guard;
  bridge::config::logging_settings settings;
  settings.level = "info";
  bridge::configure_logging(settings);
  const spdlog::logger* first = spdlog::default_logger_raw();
  settings.level = "error";
  bridge::configure_logging(settings);
  // Replacing the default logger would race with threads logging through it.
  BOOST_TEST(spdlog::default_logger_raw() == first);
  BOOST_TEST(spdlog::get_level() == spdlog::level::err);
}

BOOST_AUTO_TEST_CASE(unknown_level_throws_and_changes_nothing) {
  level_guard guard;
  bridge::config::logging_settings settings;
  settings.level = "error";
  bridge::configure_logging(settings);
  for (const char* bad : {"verbose", "", "INFO", "warn "}) {
    BOOST_TEST_CONTEXT(bad) {
      settings.level = bad;
      BOOST_CHECK_THROW(bridge::configure_logging(settings), std::invalid_argument);
      BOOST_TEST(spdlog::get_level() == spdlog::level::err);
    }
  }
}

BOOST_AUTO_TEST_CASE(parse_level_accepts_every_documented_name) {
  BOOST_TEST(bridge::parse_level("trace") == spdlog::level::trace);
  BOOST_TEST(bridge::parse_level("debug") == spdlog::level::debug);
  BOOST_TEST(bridge::parse_level("info") == spdlog::level::info);
  BOOST_TEST(bridge::parse_level("warn") == spdlog::level::warn);
  BOOST_TEST(bridge::parse_level("warning") == spdlog::level::warn);
  BOOST_TEST(bridge::parse_level("error") == spdlog::level::err);
  BOOST_TEST(bridge::parse_level("critical") == spdlog::level::critical);
  BOOST_TEST(bridge::parse_level("off") == spdlog::level::off);
}

BOOST_AUTO_TEST_SUITE_END()
