#include "webhook/format/md4c_input.hpp"

#include <algorithm>

#include "webhook/util/ascii.hpp"

namespace bridge::webhook::format {
namespace {

using util::is_alnum;
using util::is_space;
using util::is_space_or_tab;
using util::starts_with_ci;

constexpr std::size_t npos = std::string_view::npos;

// What md4c_input::swapped names, in its order.
constexpr std::array<char, 5> swapped_bytes = {'*', '_', '~', '[', '|'};
constexpr std::string_view url_delimiters = "*_~";

// Bytes that never occur in UTF-8 and that md4c 0.4.8's decoder takes for one character each, a
// letter as far as emphasis is concerned (0xF5-0xF7 would start a four-byte sequence there, 0xC0
// and 0xC1 a two-byte one).
constexpr std::string_view stand_in_candidates = "\xF8\xF9\xFA\xFB\xFC\xFD\xFE\xFF";

constexpr std::size_t max_bracket_depth = 8;
constexpr std::size_t max_table_columns = 64;

// The end of the bare URL starting at pos, or npos when none starts there.
std::size_t bare_url_end(std::string_view text, std::size_t pos) noexcept {
  if (pos > 0 && is_alnum(text[pos - 1])) return npos;
  std::size_t minimum = 0;
  if (starts_with_ci(text, pos, "https://")) {
    minimum = pos + 8;
  } else if (starts_with_ci(text, pos, "http://")) {
    minimum = pos + 7;
  } else if (starts_with_ci(text, pos, "www.")) {
    minimum = pos + 4;
  } else {
    return npos;
  }
  std::size_t stop = pos;
  std::size_t opens = 0;
  std::size_t closes = 0;
  while (stop < text.size() && !is_space(text[stop]) && text[stop] != '<') {
    opens += text[stop] == '(';
    closes += text[stop] == ')';
    ++stop;
  }
  // Trailing punctuation ends the sentence, not the URL; so does an unbalanced ')'.
  static constexpr std::string_view trailing = "?!.,:;*_~'\"";
  while (stop > minimum) {
    const char last = text[stop - 1];
    if (trailing.find(last) != npos) {
      --stop;
    } else if (last == ')' && closes > opens) {
      --stop;
      --closes;
    } else {
      break;
    }
  }
  return stop > minimum ? stop : npos;
}

// The end of the inline link destination starting at `start` (after "]("): the first whitespace,
// or the ')' that closes the link, parentheses balanced.
std::size_t link_destination_end(std::string_view text, std::size_t start) noexcept {
  std::size_t depth = 0;
  std::size_t i = start;
  for (; i < text.size() && !is_space(text[i]); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size() && !is_space(text[i + 1])) {
      ++i;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && depth-- == 0) {
      break;
    }
  }
  return i;
}

// How many times `c` occurs in `text`, counting no further than `limit`.
std::size_t count_up_to(std::string_view text, char c, std::size_t limit) noexcept {
  std::size_t count = 0;
  for (std::size_t at = text.find(c); at != npos && count < limit; at = text.find(c, at + 1))
    ++count;
  return count;
}

// Where the line holding pos starts: after its preceding "\n" or "\r", or at the text's start.
std::size_t line_start(std::string_view text, std::size_t pos) noexcept {
  while (pos > 0 && text[pos - 1] != '\n' && text[pos - 1] != '\r')
    --pos;
  return pos;
}

// Where the line holding pos ends: its "\n" or "\r", or the end of the text.
std::size_t line_end(std::string_view text, std::size_t pos) noexcept {
  while (pos < text.size() && text[pos] != '\n' && text[pos] != '\r')
    ++pos;
  return pos;
}

// Whether the line after the line end at text[pos] is empty, so that a paragraph ends there.
bool blank_line_follows(std::string_view text, std::size_t pos) noexcept {
  std::size_t next = pos + 1;
  if (text[pos] == '\r' && next < text.size() && text[next] == '\n') ++next;
  while (next < text.size() && is_space_or_tab(text[next]))
    ++next;
  return next >= text.size() || text[next] == '\n' || text[next] == '\r';
}

// Walks a delimiter row (`| :-- | --: |`, `-|-`) as md4c's grammar has it, minus the three-byte
// minimum, calling visit(cell_begin, dashes_end, cell_end) for each cell; false when it is none.
template <typename Visit>
bool walk_table_rule(std::string_view line, Visit&& visit) {
  std::size_t i = 0;
  const auto skip_blanks = [&] {
    while (i < line.size() && is_space_or_tab(line[i]))
      ++i;
  };
  bool found_pipe = i < line.size() && line[i] == '|';
  if (found_pipe) ++i;
  skip_blanks();
  while (true) {
    const std::size_t cell = i;
    if (i < line.size() && line[i] == ':') ++i;
    const std::size_t dashes = i;
    while (i < line.size() && line[i] == '-')
      ++i;
    if (i == dashes) return false;
    const std::size_t dashes_end = i;
    if (i < line.size() && line[i] == ':') ++i;
    visit(cell, dashes_end, i);
    skip_blanks();
    const bool delimited = i < line.size() && line[i] == '|';
    if (delimited) {
      found_pipe = true;
      ++i;
      skip_blanks();
    }
    if (i >= line.size()) return found_pipe;
    if (!delimited) return false;
  }
}

constexpr std::size_t md4c_rule_cell_minimum = 3;

}  // namespace

md4c_input::md4c_input(std::string_view markdown) : text_(markdown) {
  guard_urls();
  guard_deep_brackets();
  guard_wide_tables();
}

void md4c_input::restore(std::string& converted) const noexcept {
  if (copy_.empty()) return;
  for (std::size_t k = 0; k < swapped_count; ++k) {
    for (std::size_t at = converted.find(stand_ins_[k]); at != npos;
         at = converted.find(stand_ins_[k], at + 1))
      converted[at] = swapped_bytes[k];
  }
}

void md4c_input::guard_urls() {
  if (std::none_of(url_delimiters.begin(), url_delimiters.end(),
                   [&](char c) { return text_.find(c) != npos; })) {
    return;
  }
  // Each search goes on after what the last one guarded: a URL holding "://" twice is read once.
  for (std::size_t pos = text_.find("://"); pos != npos; pos = text_.find("://", pos)) {
    std::size_t end = pos + 3;
    guard_bare_url(pos >= 5 ? pos - 5 : npos, end);                      // "https"
    if (end == pos + 3) guard_bare_url(pos >= 4 ? pos - 4 : npos, end);  // "http"
    pos = end;
  }
  for (const std::string_view www : {"www.", "WWW."}) {
    for (std::size_t pos = text_.find(www); pos != npos; pos = text_.find(www, pos)) {
      std::size_t end = pos + www.size();
      guard_bare_url(pos, end);
      pos = end;
    }
  }
  for (std::size_t pos = text_.find("]("); pos != npos; pos = text_.find("](", pos)) {
    const std::size_t end = link_destination_end(text_, pos + 2);
    guard_delimiters(pos + 2, end);
    pos = std::max(end, pos + 2);
  }
}

// Guards the bare URL starting at `begin`, if one does, and moves `end` past it.
void md4c_input::guard_bare_url(std::size_t begin, std::size_t& end) {
  if (begin == npos) return;
  const std::size_t url_end = bare_url_end(text_, begin);
  if (url_end == npos) return;
  guard_delimiters(begin, url_end);
  end = std::max(end, url_end);
}

void md4c_input::guard_delimiters(std::size_t begin, std::size_t end) {
  for (std::size_t i = begin; i < end; ++i) {
    const char c = text_[i];
    const swapped what = c == '*' ? star : c == '_' ? underscore : c == '~' ? tilde : swapped_count;
    if (what != swapped_count && !swap(i, what)) return;
  }
}

void md4c_input::guard_deep_brackets() {
  // Fewer brackets than the limit cannot nest beyond it.
  if (count_up_to(text_, '[', max_bracket_depth + 1) <= max_bracket_depth) return;
  std::size_t depth = 0;
  for (std::size_t i = 0; i < text_.size(); ++i) {
    const char c = text_[i];
    if (c == '[') {
      if (++depth > max_bracket_depth && !swap(i, bracket)) return;
    } else if (c == ']') {
      if (depth > 0) --depth;
    } else if ((c == '\n' || c == '\r') && blank_line_follows(text_, i)) {
      depth = 0;  // md4c reads each paragraph's inlines on their own
    }
  }
}

void md4c_input::guard_wide_tables() {
  // A row of more columns than the limit has at least as many pipes.
  if (count_up_to(text_, '|', max_table_columns) < max_table_columns) return;
  for (std::size_t pipe = text_.find('|'); pipe != npos; pipe = text_.find('|', pipe)) {
    const std::size_t end = line_end(text_, pipe);
    std::size_t content = line_start(text_, pipe);  // past quote markers and indentation
    while (content < end && (is_space_or_tab(text_[content]) || text_[content] == '>'))
      ++content;
    std::size_t columns = 0;
    const std::string_view line = text_.substr(content, end - content);
    if (walk_table_rule(line, [&](std::size_t, std::size_t, std::size_t) { ++columns; }) &&
        columns > max_table_columns) {
      for (std::size_t i = content; i < end; ++i) {
        if (text_[i] == '|' && !swap(i, pipe_byte)) return;
      }
    }
    pipe = end;
  }
}

// Swaps one byte, choosing the stand-ins (bytes absent from the answer) and copying the answer the
// first time; false (and the answer left to plain tidying) when there are not enough such bytes.
bool md4c_input::swap(std::size_t at, swapped what) {
  if (!usable_) return false;
  if (copy_.empty()) {
    std::size_t chosen = 0;
    for (const char candidate : stand_in_candidates) {
      if (chosen < swapped_count && text_.find(candidate) == npos) stand_ins_[chosen++] = candidate;
    }
    if (chosen < swapped_count) {
      usable_ = false;
      return false;
    }
    copy_.assign(text_);
    text_ = copy_;
  }
  copy_[at] = stand_ins_[what];
  return true;
}

bool is_short_table_rule_at(std::string_view text, std::size_t pos) noexcept {
  bool short_cell = false;
  const std::string_view line = text.substr(pos, line_end(text, pos) - pos);
  const bool rule = walk_table_rule(line, [&](std::size_t begin, std::size_t, std::size_t end) {
    short_cell = short_cell || end - begin < md4c_rule_cell_minimum;
  });
  return rule && short_cell;
}

std::string widen_table_rules(std::string_view text, std::span<const std::size_t> rows,
                              std::vector<std::size_t>& moved_rows) {
  std::string out;
  out.reserve(text.size() + rows.size() * 8);
  std::size_t copied = 0;
  for (const std::size_t row : rows) {
    out.append(text, copied, row - copied);
    moved_rows.push_back(out.size());
    const std::string_view line = text.substr(row, line_end(text, row) - row);
    std::size_t line_copied = 0;
    walk_table_rule(line, [&](std::size_t begin, std::size_t dashes_end, std::size_t end) {
      out.append(line, line_copied, dashes_end - line_copied);
      if (end - begin < md4c_rule_cell_minimum) {
        out.append(md4c_rule_cell_minimum - (end - begin), '-');
      }
      line_copied = dashes_end;
    });
    copied = row + line_copied;
  }
  out.append(text, copied);
  return out;
}

}  // namespace bridge::webhook::format
