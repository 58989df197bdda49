#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

// ASCII character classes for reading JSON, Markdown and HTML byte by byte. Every byte >= 0x80
// (letters of any script, emoji, invalid UTF-8) is in none of them, so it passes for a letter
// wherever the question is "is this a space or punctuation".
namespace bridge::webhook::util {

// ' ', '\t', '\n', '\r', '\f' or '\v'.
constexpr bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// ' ' or '\t': what CommonMark strips around a line's content.
constexpr bool is_space_or_tab(char c) noexcept {
  return c == ' ' || c == '\t';
}

// 'a'-'z' or 'A'-'Z'.
constexpr bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// '0'-'9'.
constexpr bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// A letter or digit.
constexpr bool is_alnum(char c) noexcept {
  return is_alpha(c) || is_digit(c);
}

// 'A'-'Z' lowered; every other byte as it is.
constexpr char to_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
}

// Whether `text` equals `lower` (in lower case) ignoring the case of ASCII letters.
constexpr bool equals_ci(std::string_view text, std::string_view lower) noexcept {
  return text.size() == lower.size() && std::equal(text.begin(), text.end(), lower.begin(),
                                                   [](char x, char y) { return to_lower(x) == y; });
}

// Whether `text` has `prefix` (in lower case) at `pos`, ignoring the case of ASCII letters.
constexpr bool starts_with_ci(std::string_view text, std::size_t pos,
                              std::string_view prefix) noexcept {
  return pos <= text.size() && equals_ci(text.substr(pos, prefix.size()), prefix);
}

// `text` without whitespace at its end.
constexpr std::string_view trim_right(std::string_view text) noexcept {
  while (!text.empty() && is_space(text.back()))
    text.remove_suffix(1);
  return text;
}

// `text` without whitespace at either end.
constexpr std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && is_space(text.front()))
    text.remove_prefix(1);
  return trim_right(text);
}

// True when `text` is empty or only spaces, tabs and line breaks. Never throws.
constexpr bool is_blank(std::string_view text) noexcept {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

}  // namespace bridge::webhook::util
