#include "webhook/util/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace bridge::webhook::util {
namespace {

bool in_range(unsigned char byte, unsigned char low, unsigned char high) noexcept {
  return byte >= low && byte <= high;
}

}  // namespace

// How many of the first `max` bytes of `text` are ASCII before the first that is not. Eight bytes
// are checked at a time (a word with no top bit set holds only ASCII), so the long ASCII runs of a
// typical answer cost about one instruction a byte instead of a per-character decode.
std::size_t ascii_prefix(std::string_view text, std::size_t max) noexcept {
  const std::size_t stop = std::min(text.size(), max);
  std::size_t n = 0;
  for (; n + 8 <= stop; n += 8) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + n, sizeof word);
    if ((word & 0x8080808080808080u) != 0) break;
  }
  while (n < stop && static_cast<unsigned char>(text[n]) < 0x80)
    ++n;
  return n;
}

std::size_t utf8_sequence_length(std::string_view utf8, std::size_t pos) noexcept {
  if (pos >= utf8.size()) return 0;
  const auto byte = [&](std::size_t offset) -> unsigned char {
    return pos + offset < utf8.size() ? static_cast<unsigned char>(utf8[pos + offset]) : 0;
  };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  const auto continuation = [&](std::size_t offset) { return in_range(byte(offset), 0x80, 0xBF); };
  if (in_range(lead, 0xC2, 0xDF)) return continuation(1) ? 2 : 0;
  if (in_range(lead, 0xE0, 0xEF)) {
    // E0 needs A0.. (no overlong forms); ED needs ..9F (no UTF-16 surrogates).
    const unsigned char low = lead == 0xE0 ? 0xA0 : 0x80;
    const unsigned char high = lead == 0xED ? 0x9F : 0xBF;
    return in_range(byte(1), low, high) && continuation(2) ? 3 : 0;
  }
  if (in_range(lead, 0xF0, 0xF4)) {
    // F0 needs 90.. (no overlong forms); F4 needs ..8F (nothing beyond U+10FFFF).
    const unsigned char low = lead == 0xF0 ? 0x90 : 0x80;
    const unsigned char high = lead == 0xF4 ? 0x8F : 0xBF;
    return in_range(byte(1), low, high) && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

std::size_t utf16_length(std::string_view utf8) noexcept {
  std::size_t units = 0;
  for (std::size_t pos = 0; pos < utf8.size();) {
    const std::size_t ascii = ascii_prefix(utf8.substr(pos), utf8.size());  // a unit a byte
    pos += ascii;
    units += ascii;
    if (pos == utf8.size()) break;
    // An invalid byte stands alone (it becomes one U+FFFD, one unit).
    const std::size_t length = utf8_sequence_length(utf8, pos);
    pos += length == 0 ? 1 : length;
    units += length == 4 ? 2 : 1;
  }
  return units;
}

std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) noexcept {
  if (text.size() <= max_bytes) return text;
  std::size_t end = max_bytes;
  // Back off over continuation bytes (10xxxxxx) to the start of the code point being cut.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
    --end;
  return text.substr(0, end);
}

}  // namespace bridge::webhook::util
