#include "webhook/text_split.hpp"

#include <algorithm>
#include <array>

namespace bridge::webhook {
namespace {

bool in_range(unsigned char byte, unsigned char low, unsigned char high) noexcept {
  return byte >= low && byte <= high;
}

// One character's footprint: its bytes in UTF-8 and its code units in UTF-16.
struct char_size {
  std::size_t bytes;
  std::size_t units;
};

char_size char_at(std::string_view text, std::size_t pos) noexcept {
  const std::size_t length = utf8_sequence_length(text, pos);
  if (length == 0) return {1, 1};  // an invalid byte stands alone (and becomes one U+FFFD)
  return {length, length == 4 ? 2u : 1u};
}

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim_left(std::string_view text) noexcept {
  std::size_t start = 0;
  while (start < text.size() && is_space(text[start]))
    ++start;
  return text.substr(start);
}

std::string_view trim_right(std::string_view text) noexcept {
  std::size_t end = text.size();
  while (end > 0 && is_space(text[end - 1]))
    --end;
  return text.substr(0, end);
}

// Each finder returns the cut (a byte offset, 0 for none) of the last break of its kind such that
// text[0, cut) fits the window [0, window_end); whitespace at the cut may sit at window_end itself,
// since it is dropped. Every cut is at an ASCII byte or right after a whole sequence, so on a
// character boundary. `text` starts with a non-space and extends beyond window_end.

std::size_t find_paragraph_break(std::string_view text, std::size_t window_end) noexcept {
  for (std::size_t i = window_end; i > 0; --i) {
    if (text[i] != '\n') continue;
    // A paragraph break is a whitespace run holding two newlines ("\n\n", "\r\n\r\n", "\n \n").
    std::size_t first = i;
    while (first > 0 && is_space(text[first - 1]))
      --first;
    std::size_t last = i + 1;
    while (last < text.size() && is_space(text[last]))
      ++last;
    if (std::count(text.begin() + static_cast<std::ptrdiff_t>(first),
                   text.begin() + static_cast<std::ptrdiff_t>(last), '\n') >= 2) {
      return first;
    }
    i = first;  // the rest of this run holds no other newline: skip it
  }
  return 0;
}

std::size_t find_line_break(std::string_view text, std::size_t window_end) noexcept {
  for (std::size_t i = window_end; i > 0; --i) {
    if (text[i] == '\n') return i;
  }
  return 0;
}

std::size_t find_sentence_end(std::string_view text, std::size_t window_end) noexcept {
  // The CJK full stop, exclamation and question marks end a sentence without a following space.
  static constexpr std::array<std::string_view, 3> cjk_ends = {"\xE3\x80\x82", "\xEF\xBC\x81",
                                                               "\xEF\xBC\x9F"};
  for (std::size_t cut = window_end; cut > 0; --cut) {
    const char last = text[cut - 1];
    if ((last == '.' || last == '!' || last == '?') && is_space(text[cut])) return cut;
    if (cut >= 3) {
      const std::string_view tail = text.substr(cut - 3, 3);
      if (std::find(cjk_ends.begin(), cjk_ends.end(), tail) != cjk_ends.end()) return cut;
    }
  }
  return 0;
}

std::size_t find_space(std::string_view text, std::size_t window_end) noexcept {
  for (std::size_t i = window_end; i > 0; --i) {
    if (is_space(text[i])) return i;
  }
  return 0;
}

// Where to end the next part, given the bytes [0, window_end) that fit.
std::size_t choose_cut(std::string_view text, std::size_t window_end) noexcept {
  using finder = std::size_t (*)(std::string_view, std::size_t) noexcept;
  static constexpr std::array<finder, 4> finders = {find_paragraph_break, find_line_break,
                                                    find_sentence_end, find_space};
  std::size_t latest = 0;
  for (const finder find : finders) {
    const std::size_t cut = find(text, window_end);
    if (cut * 2 >= window_end) return cut;
    latest = std::max(latest, cut);
  }
  return latest > 0 ? latest : window_end;
}

}  // namespace

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
    const char_size size = char_at(utf8, pos);
    pos += size.bytes;
    units += size.units;
  }
  return units;
}

std::vector<std::string> split_text(std::string_view text, std::size_t max_units) {
  const std::size_t limit = std::max<std::size_t>(max_units, 1);
  std::string_view rest = trim_left(text);
  if (rest.empty()) return {};
  if (utf16_length(text) <= limit) return {std::string(text)};

  std::vector<std::string> parts;
  while (!rest.empty()) {
    // The window is the longest prefix of whole characters within the limit.
    std::size_t window_end = 0;
    std::size_t units = 0;
    while (window_end < rest.size()) {
      const char_size size = char_at(rest, window_end);
      if (units + size.units > limit) break;
      units += size.units;
      window_end += size.bytes;
    }
    if (window_end == rest.size()) {
      parts.emplace_back(trim_right(rest));
      break;
    }
    // A character wider than the whole limit still has to go somewhere: alone.
    const std::size_t cut = window_end == 0 ? char_at(rest, 0).bytes : choose_cut(rest, window_end);
    parts.emplace_back(trim_right(rest.substr(0, cut)));
    rest = trim_left(rest.substr(cut));
  }
  return parts;
}

}  // namespace bridge::webhook
