#pragma once

#include <string_view>

namespace bridge::webhook::meta {

// True when a and b are equal, in time that depends on neither their contents nor where they
// differ (both are hashed first, so even a length mismatch leaks nothing useful).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace bridge::webhook::meta
