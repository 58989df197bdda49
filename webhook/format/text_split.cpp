#include "webhook/format/text_split.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "webhook/util/ascii.hpp"
#include "webhook/util/utf8.hpp"

namespace bridge::webhook::format {
namespace {

using util::ascii_prefix;
using util::utf16_length;
using util::utf8_sequence_length;

// One character's footprint: its bytes in UTF-8 and its code units in UTF-16.
struct char_size {
  std::size_t bytes;
  std::size_t units;
};

char_size char_at(std::string_view text, std::size_t pos) noexcept {
  // ASCII without the call: most answers are mostly ASCII.
  if (pos < text.size() && static_cast<unsigned char>(text[pos]) < 0x80) return {1, 1};
  const std::size_t length = utf8_sequence_length(text, pos);
  if (length == 0) return {1, 1};  // an invalid byte stands alone (and becomes one U+FFFD)
  return {length, length == 4 ? 2u : 1u};
}

// The longest prefix of whole characters of `text` within `budget` units; it may be empty.
std::size_t prefix_within(std::string_view text, std::size_t budget) noexcept {
  std::size_t end = 0;
  std::size_t units = 0;
  while (end < text.size()) {
    // ASCII is one unit a byte, so as much of an ASCII run as the budget allows goes at once.
    const std::size_t ascii = ascii_prefix(text.substr(end), budget - units);
    end += ascii;
    units += ascii;
    if (end == text.size()) break;
    const char_size size = char_at(text, end);
    if (units + size.units > budget) break;
    units += size.units;
    end += size.bytes;
  }
  return end;
}

bool is_alnum(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool starts_with_ci(std::string_view text, std::size_t pos, std::string_view prefix) noexcept {
  if (text.size() - pos < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = text[pos + i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != prefix[i]) return false;
  }
  return true;
}

std::size_t skip_spaces(std::string_view text, std::size_t pos) noexcept {
  while (pos < text.size() && util::is_space(text[pos]))
    ++pos;
  return pos;
}

// The end of the URL starting at text[pos] ("http://", "https://" or "www." after a non-letter, up
// to whitespace), or npos when none starts there.
std::size_t url_end_at(std::string_view text, std::size_t pos) noexcept {
  const char c = text[pos];
  if (c != 'h' && c != 'H' && c != 'w' && c != 'W') return std::string_view::npos;
  if (pos > 0 && is_alnum(text[pos - 1])) return std::string_view::npos;
  if (!starts_with_ci(text, pos, "http://") && !starts_with_ci(text, pos, "https://") &&
      !starts_with_ci(text, pos, "www.")) {
    return std::string_view::npos;
  }
  std::size_t end = pos;
  while (end < text.size() && !util::is_space(text[end]))
    ++end;
  return end;
}

// Where a URL may start, sorted: every position url_end_at accepts is among these, since "http://"
// and "https://" hold "://" and "www." holds a '.' at a fixed distance. Trying only these few
// places finds the same URLs as trying every byte.
std::vector<std::size_t> url_candidates(std::string_view text) {
  std::vector<std::size_t> starts;
  for (std::size_t colon = text.find("://"); colon != std::string_view::npos;
       colon = text.find("://", colon + 1)) {
    if (colon >= 5) starts.push_back(colon - 5);  // "https"
    if (colon >= 4) starts.push_back(colon - 4);  // "http"
  }
  for (std::size_t dot = text.find('.'); dot != std::string_view::npos;
       dot = text.find('.', dot + 1)) {
    if (dot >= 3) starts.push_back(dot - 3);  // "www"
  }
  std::sort(starts.begin(), starts.end());
  return starts;
}

// A fenced code block: from a run of three or more backticks to the next such run. WhatsApp's
// monospace needs both fences in the same message, so a block is kept whole when it fits.
struct code_block {
  std::size_t open;       // first backtick of the opening run
  std::size_t open_end;   // after the opening run
  std::size_t close;      // first backtick of the closing run
  std::size_t close_end;  // after the closing run
};

std::vector<code_block> find_code_blocks(std::string_view text) {
  std::vector<code_block> blocks;
  std::size_t pending_open = std::string_view::npos;
  std::size_t pending_open_end = 0;
  for (std::size_t i = text.find('`'); i != std::string_view::npos;) {
    std::size_t end = i;
    while (end < text.size() && text[end] == '`')
      ++end;
    if (end - i >= 3) {
      if (pending_open == std::string_view::npos) {
        pending_open = i;
        pending_open_end = end;
      } else {
        blocks.push_back({pending_open, pending_open_end, i, end});
        pending_open = std::string_view::npos;
      }
    }
    i = text.find('`', end);
  }
  return blocks;  // an unclosed run is no block: WhatsApp shows it as plain text too
}

std::size_t units_of(std::string_view text) noexcept {
  return utf16_length(text);
}

// The longest prefix of whole characters of `text` within `budget` units (at least one character).
std::size_t fitting_prefix(std::string_view text, std::size_t budget) noexcept {
  const std::size_t end = prefix_within(text, budget);
  return end == 0 && !text.empty() ? char_at(text, 0).bytes : end;
}

// Rewrites one code block wider than `limit` as consecutive fenced blocks, each within `limit`,
// cut between lines (a line too long alone at its last space, else anywhere). Returns false when
// the limit leaves no room for the fences.
bool refence(std::string_view text, const code_block& block, std::size_t limit, std::string& out) {
  // Each piece is head "\n" lines "\n```": the head and five more units of fences.
  std::string_view head = "```";
  std::string_view content = text.substr(block.open_end, block.close - block.open_end);
  const std::size_t newline = text.find('\n', block.open_end);
  if (newline < block.close) {
    const std::string_view opening =
        util::trim_right(text.substr(block.open, newline - block.open));
    // Keep the language tag when it leaves room for at least a surrogate pair per piece.
    if (units_of(opening) + 5 + 2 <= limit) {
      head = opening;
      content = text.substr(newline + 1, block.close - newline - 1);
    }
  }
  if (units_of(head) + 5 + 2 > limit) return false;
  if (!content.empty() && content.back() == '\n') content.remove_suffix(1);
  if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
  if (content.empty()) return false;
  const std::size_t budget = limit - units_of(head) - 5;

  std::vector<std::string_view> lines;  // the current piece's lines
  std::size_t units = 0;
  bool first_piece = true;
  const auto flush = [&] {
    if (lines.empty()) return;
    if (!first_piece) out += '\n';
    first_piece = false;
    out += head;
    for (const std::string_view line : lines) {
      out += '\n';
      out += line;
    }
    out += "\n```";
    lines.clear();
    units = 0;
  };
  const auto add = [&](std::string_view line) {
    const std::size_t width = units_of(line);
    if (!lines.empty() && units + 1 + width > budget) flush();
    units += (lines.empty() ? 0 : 1) + width;
    lines.push_back(line);
  };
  for (std::size_t start = 0; start <= content.size();) {
    std::size_t end = content.find('\n', start);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(start, end - start);
    for (std::size_t fits = fitting_prefix(line, budget); fits < line.size();
         fits = fitting_prefix(line, budget)) {
      // Too long for a piece of its own: cut at its last space that fits (dropped), else before a
      // URL that would be cut but fits a piece, else anywhere.
      const std::size_t space = line.substr(0, fits + 1).rfind(' ');
      const bool at_space = space != std::string_view::npos && space > 0;
      std::size_t cut = at_space ? space : fits;
      for (std::size_t i = 1; !at_space && i < fits; ++i) {
        // With no space before `fits`, the first URL runs past it and any later one is inside it.
        const std::size_t url_end = url_end_at(line, i);
        if (url_end == std::string_view::npos) continue;
        if (units_of(line.substr(i, url_end - i)) <= budget) cut = i;
        break;
      }
      add(line.substr(0, cut));
      line.remove_prefix(at_space ? cut + 1 : cut);
    }
    add(line);
    start = end + 1;
  }
  flush();
  return true;
}

// `text` with every code block wider than `limit` rewritten as a run of fenced blocks that fit.
std::string refence_long_code_blocks(std::string_view text, std::size_t limit) {
  std::string out;
  std::size_t copied = 0;
  for (const code_block& block : find_code_blocks(text)) {
    const std::string_view whole = text.substr(block.open, block.close_end - block.open);
    if (units_of(whole) <= limit) continue;
    std::string pieces;
    if (!refence(text, block, limit, pieces)) continue;
    out += text.substr(copied, block.open - copied);
    out += pieces;
    copied = block.close_end;
  }
  out += text.substr(copied);
  return out;
}

// The stretches no cut may fall strictly inside: URLs and code blocks that fit in one part.
// Overlapping stretches are merged; positions are sorted.
class protected_spans {
 public:
  protected_spans(std::string_view text, std::size_t limit) {
    std::vector<std::pair<std::size_t, std::size_t>> found;
    for (const code_block& block : find_code_blocks(text)) {
      add_if_fits(found, text, block.open, block.close_end, limit);
    }
    std::size_t resume = 0;  // a URL's inside holds no other URL
    for (const std::size_t start : url_candidates(text)) {
      if (start < resume) continue;
      const std::size_t end = url_end_at(text, start);
      if (end == std::string_view::npos) continue;
      add_if_fits(found, text, start, end, limit);
      resume = end + 1;
    }
    std::sort(found.begin(), found.end());
    for (const auto& span : found) {
      // Cuts at a span's ends are allowed, so only spans that truly overlap merge.
      if (!spans_.empty() && span.first < spans_.back().second) {
        spans_.back().second = std::max(spans_.back().second, span.second);
      } else {
        spans_.push_back(span);
      }
    }
  }

  // The start of the span `pos` lies strictly inside, or `pos` itself when a cut may go there.
  std::size_t allowed_before(std::size_t pos) const noexcept {
    auto after =
        std::upper_bound(spans_.begin(), spans_.end(), pos,
                         [](std::size_t p, const std::pair<std::size_t, std::size_t>& span) {
                           return p <= span.first;
                         });
    if (after == spans_.begin()) return pos;
    const auto& span = *(after - 1);
    return pos < span.second ? span.first : pos;
  }

 private:
  std::vector<std::pair<std::size_t, std::size_t>> spans_;

  static void add_if_fits(std::vector<std::pair<std::size_t, std::size_t>>& found,
                          std::string_view text, std::size_t start, std::size_t end,
                          std::size_t limit) {
    if (units_of(text.substr(start, end - start)) <= limit) found.emplace_back(start, end);
  }
};

// The text being split and the part under construction: text[begin, window_end) fits, and
// text[window_end] exists. Finders return a cut (a byte offset in (begin, window_end], or begin for
// none) such that text[begin, cut) fits; whitespace at the cut may sit at window_end itself, since
// it is dropped. Every cut is at an ASCII byte or right after a whole sequence, so on a character
// boundary, and never strictly inside a protected span.
struct window {
  std::string_view text;
  std::size_t begin;
  std::size_t window_end;
  const protected_spans& spans;
};

std::size_t find_paragraph_break(const window& w) noexcept {
  for (std::size_t i = w.window_end; i > w.begin; --i) {
    if (w.text[i] != '\n') continue;
    // A paragraph break is a whitespace run holding two newlines ("\n\n", "\r\n\r\n", "\n \n").
    std::size_t first = i;
    while (first > w.begin && util::is_space(w.text[first - 1]))
      --first;
    std::size_t last = i + 1;
    while (last < w.text.size() && util::is_space(w.text[last]))
      ++last;
    const std::size_t allowed = w.spans.allowed_before(first);
    if (allowed == first && first > w.begin &&
        std::count(w.text.begin() + static_cast<std::ptrdiff_t>(first),
                   w.text.begin() + static_cast<std::ptrdiff_t>(last), '\n') >= 2) {
      return first;
    }
    // The rest of this whitespace run (or protected span) holds no other break.
    i = std::min(first, allowed);
    if (i <= w.begin) break;
  }
  return w.begin;
}

std::size_t find_line_break(const window& w) noexcept {
  for (std::size_t i = w.window_end; i > w.begin; --i) {
    if (w.text[i] != '\n') continue;
    const std::size_t allowed = w.spans.allowed_before(i);
    if (allowed == i) return i;
    if (allowed <= w.begin) break;
    i = allowed;
  }
  return w.begin;
}

std::size_t find_sentence_end(const window& w) noexcept {
  // The CJK full stop, exclamation and question marks end a sentence without a following space.
  static constexpr std::array<std::string_view, 3> cjk_ends = {"\xE3\x80\x82", "\xEF\xBC\x81",
                                                               "\xEF\xBC\x9F"};
  for (std::size_t cut = w.window_end; cut > w.begin; --cut) {
    const char last = w.text[cut - 1];
    bool found = (last == '.' || last == '!' || last == '?') && util::is_space(w.text[cut]);
    if (!found && cut - w.begin >= 3) {
      const std::string_view tail = w.text.substr(cut - 3, 3);
      found = std::find(cjk_ends.begin(), cjk_ends.end(), tail) != cjk_ends.end();
    }
    if (!found) continue;
    const std::size_t allowed = w.spans.allowed_before(cut);
    if (allowed == cut) return cut;
    cut = allowed + 1;  // the span's start may still end a sentence
  }
  return w.begin;
}

std::size_t find_space(const window& w) noexcept {
  for (std::size_t i = w.window_end; i > w.begin; --i) {
    if (!util::is_space(w.text[i])) continue;
    const std::size_t allowed = w.spans.allowed_before(i);
    if (allowed == i) return i;
    if (allowed <= w.begin) break;
    i = allowed;
  }
  return w.begin;
}

// Where to end the next part.
std::size_t choose_cut(const window& w) noexcept {
  using finder = std::size_t (*)(const window&) noexcept;
  static constexpr std::array<finder, 4> finders = {find_paragraph_break, find_line_break,
                                                    find_sentence_end, find_space};
  const std::size_t width = w.window_end - w.begin;
  std::size_t latest = w.begin;
  for (const finder find : finders) {
    const std::size_t cut = find(w);
    if ((cut - w.begin) * 2 >= width) return cut;
    latest = std::max(latest, cut);
  }
  if (latest > w.begin) return latest;
  // A hard cut; a protected span it would split moves whole to the next part instead.
  const std::size_t allowed = w.spans.allowed_before(w.window_end);
  return allowed > w.begin ? allowed : w.window_end;
}

}  // namespace

std::vector<std::string> split_text(std::string_view original, std::size_t max_units) {
  const std::size_t limit = std::max<std::size_t>(max_units, 1);
  if (skip_spaces(original, 0) == original.size()) return {};
  if (utf16_length(original) <= limit) return {std::string(original)};

  const std::string text = refence_long_code_blocks(original, limit);
  const protected_spans spans(text, limit);
  std::vector<std::string> parts;
  for (std::size_t begin = skip_spaces(text, 0); begin < text.size();) {
    // The window is the longest run of whole characters within the limit.
    const std::size_t window_end =
        begin + prefix_within(std::string_view(text).substr(begin), limit);
    if (window_end == text.size()) {
      parts.emplace_back(util::trim_right(std::string_view(text).substr(begin)));
      break;
    }
    // A character wider than the whole limit still has to go somewhere: alone.
    const std::size_t cut = window_end == begin ? begin + char_at(text, begin).bytes
                                                : choose_cut({text, begin, window_end, spans});
    parts.emplace_back(util::trim_right(std::string_view(text).substr(begin, cut - begin)));
    begin = skip_spaces(text, cut);
  }
  return parts;
}

}  // namespace bridge::webhook::format
