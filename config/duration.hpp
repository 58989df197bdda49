#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/settings.hpp"

namespace bridge::config {

// Parses "250ms", "30s", "5m", "24h" and compounds such as "1h30m" (units ms, s, m, h; whole
// non-negative numbers; no spaces, no sign, no decimals). nullopt for anything else, including an
// empty string, a missing unit and a total that does not fit; never throws.
std::optional<duration> parse_duration(std::string_view text);

// Formats a duration compactly for messages ("1h30m", "250ms", "0s"); parse_duration reads it back.
std::string format_duration(duration d);

}  // namespace bridge::config
