#pragma once

#include <string_view>

// ASCII whitespace, as Meta's and Robofy's JSON and Markdown use it.
namespace bridge::webhook::util {

// True for ' ', '\t', '\n', '\r', '\f' and '\v'. Never throws.
constexpr bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// True when `text` is empty or only spaces, tabs and line breaks. Never throws.
bool is_blank(std::string_view text) noexcept;

// `text` without ASCII whitespace at its end. Never throws.
std::string_view trim_right(std::string_view text) noexcept;

}  // namespace bridge::webhook::util
