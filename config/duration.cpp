#include "config/duration.hpp"

#include <cstdint>
#include <limits>

namespace bridge::config {
namespace {

constexpr std::int64_t ms_per_second = 1000;
constexpr std::int64_t ms_per_minute = 60 * ms_per_second;
constexpr std::int64_t ms_per_hour = 60 * ms_per_minute;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::optional<duration> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  constexpr std::int64_t max_total = std::numeric_limits<duration::rep>::max();
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    // A number: digits only, so signs, decimals and spaces are all rejected here.
    if (!is_digit(text[i])) return std::nullopt;
    std::int64_t number = 0;
    while (i < text.size() && is_digit(text[i])) {
      const int digit = text[i] - '0';
      if (number > (max_total - digit) / 10) return std::nullopt;
      number = number * 10 + digit;
      ++i;
    }
    // Its unit; "ms" must be tried before "m".
    std::int64_t unit = 0;
    if (text.substr(i, 2) == "ms") {
      unit = 1;
      i += 2;
    } else if (i < text.size() && text[i] == 's') {
      unit = ms_per_second;
      ++i;
    } else if (i < text.size() && text[i] == 'm') {
      unit = ms_per_minute;
      ++i;
    } else if (i < text.size() && text[i] == 'h') {
      unit = ms_per_hour;
      ++i;
    } else {
      return std::nullopt;  // missing or unknown unit
    }
    if (number > (max_total - total) / unit) return std::nullopt;
    total += number * unit;
  }
  return duration(total);
}

std::string format_duration(duration d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  // Negative values never come out of parse_duration, but messages must still be truthful.
  std::uint64_t left = ms < 0 ? std::uint64_t(0) - std::uint64_t(ms) : std::uint64_t(ms);
  if (ms < 0) out += '-';
  const struct {
    std::uint64_t size;
    const char* suffix;
  } units[] = {{ms_per_hour, "h"}, {ms_per_minute, "m"}, {ms_per_second, "s"}, {1, "ms"}};
  for (const auto& u : units) {
    if (left >= u.size) {
      out += std::to_string(left / u.size);
      out += u.suffix;
      left %= u.size;
    }
  }
  return out;
}

}  // namespace bridge::config
