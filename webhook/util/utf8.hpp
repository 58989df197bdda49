#pragma once

#include <cstddef>
#include <string_view>

// UTF-8 facts every text path needs: where a sequence ends, how long a text is in UTF-16 (Meta's
// limits), and where a text may be cut without splitting a character.
namespace bridge::webhook::util {

// Returns the byte length of the well-formed UTF-8 sequence starting at utf8[pos] (1 to 4), or 0
// when none starts there (stray continuation byte, overlong form, surrogate, beyond U+10FFFF,
// truncated). Never throws.
std::size_t utf8_sequence_length(std::string_view utf8, std::size_t pos) noexcept;

// Counts the UTF-16 code units of `utf8`: 4-byte sequences count 2, every other sequence and every
// invalid byte counts 1. Never throws.
std::size_t utf16_length(std::string_view utf8) noexcept;

// How many of the first `max` bytes of `text` are ASCII before the first that is not. Never throws.
std::size_t ascii_prefix(std::string_view text, std::size_t max) noexcept;

// Returns the longest prefix of `text` that is at most `max_bytes` long and does not split a
// UTF-8 sequence. Never throws.
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) noexcept;

}  // namespace bridge::webhook::util
