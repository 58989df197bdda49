#include "webhook/util/json_unescape.hpp"

#include <cstdint>

namespace bridge::webhook::util {
namespace {

constexpr char32_t replacement_character = 0xFFFD;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The code unit of "\uXXXX" starting at text[at] (the backslash); nullopt when malformed.
std::optional<char32_t> code_unit_at(std::string_view text, std::size_t at) {
  if (at + 6 > text.size() || text[at] != '\\' || text[at + 1] != 'u') return std::nullopt;
  char32_t unit = 0;
  for (std::size_t i = at + 2; i < at + 6; ++i) {
    const int digit = hex_digit(text[i]);
    if (digit < 0) return std::nullopt;
    unit = unit * 16 + static_cast<char32_t>(digit);
  }
  return unit;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

bool is_high_surrogate(char32_t unit) {
  return unit >= 0xD800 && unit <= 0xDBFF;
}
bool is_low_surrogate(char32_t unit) {
  return unit >= 0xDC00 && unit <= 0xDFFF;
}

// Decodes the \u escape at text[at]; returns how many bytes it used (0 when malformed). A high
// surrogate takes its low partner along; any surrogate without one becomes U+FFFD.
std::size_t decode_unicode_escape(std::string_view text, std::size_t at, std::string& out) {
  const auto unit = code_unit_at(text, at);
  if (!unit) return 0;
  if (is_high_surrogate(*unit)) {
    const auto partner = code_unit_at(text, at + 6);
    if (partner && is_low_surrogate(*partner)) {
      append_utf8(out, 0x10000 + ((*unit - 0xD800) << 10) + (*partner - 0xDC00));
      return 12;
    }
  }
  append_utf8(out,
              is_high_surrogate(*unit) || is_low_surrogate(*unit) ? replacement_character : *unit);
  return 6;
}

// The character a one-letter escape stands for; 0 for an unknown escape.
char simple_escape(char letter) {
  switch (letter) {
    case '"':
      return '"';
    case '\\':
      return '\\';
    case '/':
      return '/';
    case 'b':
      return '\b';
    case 'f':
      return '\f';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    default:
      return 0;
  }
}

}  // namespace

std::optional<std::string> unescape_json_string_lenient(std::string_view token) {
  if (token.empty() || token.front() != '"') return std::nullopt;
  std::string out;
  std::size_t i = 1;
  while (i < token.size()) {
    const char c = token[i];
    if (c == '"') return out;
    if (c != '\\') {
      out.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 >= token.size()) return std::nullopt;
    if (token[i + 1] == 'u') {
      const std::size_t used = decode_unicode_escape(token, i, out);
      if (used == 0) return std::nullopt;
      i += used;
      continue;
    }
    const char decoded = simple_escape(token[i + 1]);
    if (decoded == 0) return std::nullopt;
    out.push_back(decoded);
    i += 2;
  }
  return std::nullopt;  // no closing quote
}

}  // namespace bridge::webhook::util
