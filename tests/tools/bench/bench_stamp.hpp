#pragma once

// What the load generator and the bench fakes agree on: the send-time stamp a message carries
// through the bridge, and how a latency sample is summarised.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace bridge::bench {

// "benchstamp" and 16 digits of CLOCK_MONOTONIC µs: plain letters and digits, so the bridge's
// Markdown-to-WhatsApp rewrite leaves it as it is. steady_clock is CLOCK_MONOTONIC on Linux, one
// clock for every process, so a stamp written by one process is read by another.
inline constexpr std::string_view stamp_prefix = "benchstamp";
inline constexpr std::size_t stamp_digits = 16;

inline std::uint64_t monotonic_us(std::chrono::steady_clock::time_point t) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

// The first stamp token in text, if any.
inline std::optional<std::string_view> find_stamp(std::string_view text) {
  const auto at = text.find(stamp_prefix);
  if (at == std::string_view::npos || text.size() - at < stamp_prefix.size() + stamp_digits) {
    return std::nullopt;
  }
  return text.substr(at, stamp_prefix.size() + stamp_digits);
}

// The µs a stamp token carries; nullopt when its digits are not a number.
inline std::optional<std::uint64_t> stamp_us(std::string_view token) {
  const std::string_view digits = token.substr(stamp_prefix.size());
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

// The p-quantile (0..1, nearest rank) of an ascending sample; 0 for an empty one.
inline std::uint32_t percentile(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace bridge::bench
