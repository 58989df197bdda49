#include "webhook/util/json_text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <limits>

#include "webhook/util/utf8.hpp"

namespace bridge::webhook::util {
namespace {

// What a byte needs in a JSON string: nothing, an escape, or a UTF-8 check.
enum class byte_class : unsigned char { plain, escape, multibyte };

constexpr std::array<byte_class, 256> byte_classes = [] {
  std::array<byte_class, 256> classes{};
  for (std::size_t c = 0; c < classes.size(); ++c) {
    if (c < 0x20 || c == '"' || c == '\\') {
      classes[c] = byte_class::escape;
    } else if (c >= 0x80) {
      classes[c] = byte_class::multibyte;
    } else {
      classes[c] = byte_class::plain;
    }
  }
  return classes;
}();

// True when one of the eight bytes of `word` is below 0x20, '"', '\\' or not ASCII. Each test is
// exact for "some byte is" (the bit tricks misplace flags only past the first hit, which is never
// used), so a false answer lets all eight bytes be copied unexamined.
constexpr bool needs_a_look(std::uint64_t word) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101;
  constexpr std::uint64_t high_bits = 0x8080808080808080;
  const auto has_zero_byte = [](std::uint64_t v) { return (v - ones) & ~v & high_bits; };
  const std::uint64_t below_space = (word - ones * 0x20) & ~word & high_bits;
  return ((word & high_bits) | below_space | has_zero_byte(word ^ (ones * '"')) |
          has_zero_byte(word ^ (ones * '\\'))) != 0;
}

constexpr std::string_view replacement_character = "\xEF\xBF\xBD";  // U+FFFD

void append_escape(std::string& out, unsigned char c) {
  static constexpr char hex[] = "0123456789abcdef";
  char short_form = 0;
  switch (c) {
    case '"':
      short_form = '"';
      break;
    case '\\':
      short_form = '\\';
      break;
    case '\b':
      short_form = 'b';
      break;
    case '\t':
      short_form = 't';
      break;
    case '\n':
      short_form = 'n';
      break;
    case '\f':
      short_form = 'f';
      break;
    case '\r':
      short_form = 'r';
      break;
    default: {
      const char escaped[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0x0F]};
      out.append(escaped, sizeof escaped);
      return;
    }
  }
  const char escaped[] = {'\\', short_form};
  out.append(escaped, sizeof escaped);
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  // Bytes that need nothing are copied in runs. Most text is plain ASCII, so it is scanned eight
  // bytes at a time and only a block that holds something else is looked at byte by byte.
  const char* const data = text.data();
  const std::size_t size = text.size();
  std::size_t run = 0;
  std::size_t pos = 0;
  while (pos < size) {
    if (size - pos >= sizeof(std::uint64_t)) {
      std::uint64_t block = 0;
      std::memcpy(&block, data + pos, sizeof block);
      if (!needs_a_look(block)) {
        pos += sizeof block;
        continue;
      }
    }
    const std::size_t block_end = std::min(pos + sizeof(std::uint64_t), size);
    while (pos < block_end) {  // a multi-byte sequence may end past block_end
      const auto c = static_cast<unsigned char>(data[pos]);
      const byte_class kind = byte_classes[c];
      if (kind == byte_class::plain) {
        ++pos;
        continue;
      }
      if (kind == byte_class::multibyte) {
        if (const std::size_t length = utf8_sequence_length(text, pos); length != 0) {
          pos += length;
          continue;
        }
      }
      out.append(data + run, pos - run);
      if (kind == byte_class::escape) {
        append_escape(out, c);
      } else {
        out += replacement_character;
      }
      run = ++pos;
    }
  }
  out.append(data + run, pos - run);
  out += '"';
}

void append_json_number(std::string& out, std::int64_t value) {
  char digits[std::numeric_limits<std::int64_t>::digits10 + 2];  // sign and every digit
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

void append_json_bool(std::string& out, bool value) {
  out += value ? std::string_view("true") : std::string_view("false");
}

}  // namespace bridge::webhook::util
