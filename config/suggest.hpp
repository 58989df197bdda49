#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace bridge::config {

// The candidate closest to a misspelt word (case-insensitive edit distance, a swap of two
// neighbouring letters counting as one edit), or nullopt when none is close enough to be a
// plausible typo. Never throws except std::bad_alloc.
std::optional<std::string_view> closest_match(std::string_view word,
                                              std::span<const std::string_view> candidates);

}  // namespace bridge::config
