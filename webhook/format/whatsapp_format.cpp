#include "webhook/format/whatsapp_format.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "webhook/util/ascii.hpp"

namespace bridge::webhook::format {
namespace {

constexpr std::size_t npos = std::string_view::npos;

// Character classes are ASCII only: every byte >= 0x80 (letters of any script, emoji, invalid
// bytes) counts as a letter, which is what keeps markers next to them working like next to words.
bool is_punct(char c) noexcept {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
         (c >= '{' && c <= '~');
}

bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) noexcept {
  return is_alpha(c) || is_digit(c);
}

// A 256-entry membership table for `members`, so that scanning prose costs one lookup a byte.
using byte_set = std::array<bool, 256>;

constexpr byte_set make_byte_set(std::string_view members) noexcept {
  byte_set set{};
  for (const char c : members)
    set[static_cast<unsigned char>(c)] = true;
  return set;
}

bool contains(const byte_set& set, char c) noexcept {
  return set[static_cast<unsigned char>(c)];
}

// Every inline construct begins at one of these bytes: escapes, code spans, autolinks and HTML,
// entities, links, emphasis. Images and bare URLs need no byte of their own: `![` holds a '[', and
// a bare URL is copied as it is anyway; what copying it protects (markers, entities, escapes inside
// it) needs one of these bytes to exist. So a line without any of them converts to itself.
constexpr byte_set inline_syntax = make_byte_set("\\`<&[*_~");

// Where convert_range stops copying a run of plain text: the bytes above, '!' (an image) and the
// letters a bare URL starts with (which matter only at the start of a word).
constexpr byte_set run_stops = make_byte_set("\\`<&[*_~!hHwW");

// The bytes find_brackets looks at: escapes, code spans and the brackets themselves.
constexpr byte_set bracket_syntax = make_byte_set("\\`[]()");

char to_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

bool starts_with_ci(std::string_view text, std::size_t pos, std::string_view prefix) noexcept {
  if (pos > text.size() || text.size() - pos < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (to_lower(text[pos + i]) != prefix[i]) return false;
  }
  return true;
}

std::string_view trim_left(std::string_view text) noexcept {
  std::size_t start = 0;
  while (start < text.size() && util::is_space(text[start]))
    ++start;
  return text.substr(start);
}

std::string_view trim(std::string_view text) noexcept {
  return util::trim_right(trim_left(text));
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = to_lower(c);
  return out;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  // NUL, surrogates and values beyond Unicode become U+FFFD, as HTML decoders do.
  if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

struct named_entity {
  std::string_view name;
  std::string_view text;
};

// The entities AI answers actually contain; anything else stays as written.
constexpr std::array<named_entity, 30> named_entities = {{
    {"amp", "&"},
    {"lt", "<"},
    {"gt", ">"},
    {"quot", "\""},
    {"apos", "'"},
    {"nbsp", " "},  // a plain space: WhatsApp wraps lines itself
    {"ndash", "\xE2\x80\x93"},
    {"mdash", "\xE2\x80\x94"},
    {"hellip", "\xE2\x80\xA6"},
    {"copy", "\xC2\xA9"},
    {"reg", "\xC2\xAE"},
    {"trade", "\xE2\x84\xA2"},
    {"euro", "\xE2\x82\xAC"},
    {"pound", "\xC2\xA3"},
    {"yen", "\xC2\xA5"},
    {"cent", "\xC2\xA2"},
    {"laquo", "\xC2\xAB"},
    {"raquo", "\xC2\xBB"},
    {"lsquo", "\xE2\x80\x98"},
    {"rsquo", "\xE2\x80\x99"},
    {"ldquo", "\xE2\x80\x9C"},
    {"rdquo", "\xE2\x80\x9D"},
    {"bull", "\xE2\x80\xA2"},
    {"middot", "\xC2\xB7"},
    {"times", "\xC3\x97"},
    {"divide", "\xC3\xB7"},
    {"deg", "\xC2\xB0"},
    {"rarr", "\xE2\x86\x92"},
    {"larr", "\xE2\x86\x90"},
    {"shy", ""},
}};

// Decodes the entity starting at text[pos] == '&' into `out`; returns the position after it, or
// npos when there is no entity there.
std::size_t decode_entity(std::string_view text, std::size_t pos, std::size_t end,
                          std::string& out) {
  std::size_t i = pos + 1;
  if (i < end && text[i] == '#') {
    ++i;
    const bool hex = i < end && (text[i] == 'x' || text[i] == 'X');
    if (hex) ++i;
    const std::size_t digits_start = i;
    std::uint32_t value = 0;
    while (i < end && i - digits_start < (hex ? 6u : 7u)) {
      const char c = text[i];
      std::uint32_t digit = 0;
      if (is_digit(c)) {
        digit = static_cast<std::uint32_t>(c - '0');
      } else if (hex && to_lower(c) >= 'a' && to_lower(c) <= 'f') {
        digit = static_cast<std::uint32_t>(to_lower(c) - 'a' + 10);
      } else {
        break;
      }
      value = value * (hex ? 16u : 10u) + digit;
      ++i;
    }
    if (i == digits_start || i >= end || text[i] != ';') return npos;
    append_utf8(out, value);
    return i + 1;
  }
  const std::size_t name_start = i;
  while (i < end && i - name_start < 8 && is_alnum(text[i]))
    ++i;
  if (i == name_start || i >= end || text[i] != ';') return npos;
  const std::string_view name = text.substr(name_start, i - name_start);
  for (const named_entity& entity : named_entities) {
    if (entity.name == name) {
      out += entity.text;
      return i + 1;
    }
  }
  return npos;
}

// How a known HTML tag is rendered; tags not listed here are left as text.
struct html_tag {
  std::string_view name;
  std::string_view open;
  std::string_view close;
};

constexpr std::array<html_tag, 61> html_tags = {{
    {"br", "\n", "\n"},      {"b", "*", "*"},         {"strong", "*", "*"},
    {"i", "_", "_"},         {"em", "_", "_"},        {"s", "~", "~"},
    {"strike", "~", "~"},    {"del", "~", "~"},       {"code", "`", "`"},
    {"tt", "`", "`"},        {"kbd", "`", "`"},       {"li", "\n- ", ""},
    {"p", "\n", "\n"},       {"div", "\n", "\n"},     {"ul", "", "\n"},
    {"ol", "", "\n"},        {"table", "\n", "\n"},   {"tr", "\n", "\n"},
    {"td", "", " "},         {"th", "", " "},         {"thead", "", ""},
    {"tbody", "", ""},       {"tfoot", "", ""},       {"blockquote", "\n", "\n"},
    {"pre", "\n", "\n"},     {"section", "\n", "\n"}, {"article", "\n", "\n"},
    {"header", "\n", "\n"},  {"footer", "\n", "\n"},  {"h1", "\n", "\n"},
    {"h2", "\n", "\n"},      {"h3", "\n", "\n"},      {"h4", "\n", "\n"},
    {"h5", "\n", "\n"},      {"h6", "\n", "\n"},      {"hr", "\n", "\n"},
    {"dl", "\n", "\n"},      {"dt", "\n", ""},        {"dd", "\n", ""},
    {"span", "", ""},        {"u", "", ""},           {"ins", "", ""},
    {"mark", "", ""},        {"small", "", ""},       {"big", "", ""},
    {"sup", "", ""},         {"sub", "", ""},         {"font", "", ""},
    {"center", "\n", "\n"},  {"abbr", "", ""},        {"cite", "", ""},
    {"q", "\"", "\""},       {"label", "", ""},       {"nav", "\n", "\n"},
    {"main", "\n", "\n"},    {"figure", "\n", "\n"},  {"figcaption", "\n", ""},
    {"caption", "\n", "\n"}, {"a", "", ""},           {"img", "", ""},
    {"wbr", "", ""},
}};

const html_tag* find_tag(std::string_view lower_name) noexcept {
  for (const html_tag& tag : html_tags) {
    if (tag.name == lower_name) return &tag;
  }
  return nullptr;
}

// The value of attribute `name` inside a tag's attribute text, or empty.
std::string_view attribute(std::string_view attributes, std::string_view name) {
  const std::string lower = lowercase(attributes);
  for (std::size_t at = lower.find(name); at != npos; at = lower.find(name, at + 1)) {
    if (at > 0 && !util::is_space(lower[at - 1])) continue;
    std::size_t i = at + name.size();
    while (i < lower.size() && util::is_space(lower[i]))
      ++i;
    if (i >= lower.size() || lower[i] != '=') continue;
    ++i;
    while (i < lower.size() && util::is_space(lower[i]))
      ++i;
    if (i >= lower.size()) return {};
    if (attributes[i] == '"' || attributes[i] == '\'') {
      const std::size_t close = attributes.find(attributes[i], i + 1);
      if (close == npos) return {};
      return attributes.substr(i + 1, close - i - 1);
    }
    std::size_t end = i;
    while (end < attributes.size() && !util::is_space(attributes[end]))
      ++end;
    return attributes.substr(i, end - i);
  }
  return {};
}

// Strips `mailto:` and `tel:`, which WhatsApp shows better as the bare address or number.
std::string_view shown_url(std::string_view url) noexcept {
  if (starts_with_ci(url, 0, "mailto:")) return url.substr(7);
  if (starts_with_ci(url, 0, "tel:")) return url.substr(4);
  return url;
}

// A url and a text naming it compare equal when they differ only in scheme, `www.`, a trailing
// slash or letter case: "[example.com](https://example.com/)" shows the url alone.
std::string_view comparable_part(std::string_view url) noexcept {
  std::string_view rest = trim(url);
  for (const std::string_view scheme : {"https://", "http://", "mailto:", "tel:"}) {
    if (starts_with_ci(rest, 0, scheme)) {
      rest.remove_prefix(scheme.size());
      break;
    }
  }
  if (starts_with_ci(rest, 0, "www.")) rest.remove_prefix(4);
  while (!rest.empty() && rest.back() == '/')
    rest.remove_suffix(1);
  return rest;
}

bool same_url(std::string_view a, std::string_view b) noexcept {
  const std::string_view left = comparable_part(a);
  const std::string_view right = comparable_part(b);
  return left.size() == right.size() &&
         std::equal(left.begin(), left.end(), right.begin(),
                    [](char x, char y) { return to_lower(x) == to_lower(y); });
}

// "text (url)", or the url alone when the text is empty or names the url; fragment-only links
// ("#section") lead nowhere in a chat, so only their text is kept.
std::string link_text(std::string_view text, std::string_view url) {
  const std::string_view label = trim(text);
  url = trim(url);
  if (url.empty() || url.front() == '#') return std::string(label);
  if (label.empty()) return std::string(shown_url(url));
  if (same_url(label, url)) return std::string(shown_url(url));
  std::string out(label);
  out += " (";
  out += shown_url(url);
  out += ')';
  return out;
}

// One piece of a line: literal text, or a run of emphasis markers that may become markup.
struct token {
  std::size_t text_begin = 0;  // text: its stretch of the token_list's text
  std::size_t text_end = 0;
  char marker = 0;         // '*', '_' or '~' for a delimiter run; 0 for text
  std::size_t length = 0;  // the run's original length
  std::size_t count = 0;   // markers not used as markup (printed literally)
  bool can_open = false;
  bool can_close = false;
  std::string close_markup;  // printed before the leftover markers
  std::string open_markup;   // printed after them
};

// A line's tokens in order. The text of all text tokens lives in one buffer, each token holding its
// stretch of it, so that copying prose costs no allocation per token.
class token_list {
 public:
  explicit token_list(std::size_t expected_text) {
    // Room for a line with a few emphasis runs, so that growing does not dominate short lines.
    tokens_.reserve(8);
    text_.reserve(expected_text);
  }

  // Appends to the last token when it is text, else starts a text token.
  void add_text(std::string_view text) {
    if (tokens_.empty() || tokens_.back().marker != 0) start_text();
    text_ += text;
    tokens_.back().text_end = text_.size();
  }

  // A new, empty text token, so that text added after it can be told apart from text before.
  void start_text() {
    token piece;
    piece.text_begin = piece.text_end = text_.size();
    tokens_.push_back(std::move(piece));
  }

  void add_run(token run) { tokens_.push_back(std::move(run)); }

  std::size_t size() const noexcept { return tokens_.size(); }
  std::vector<token>& items() noexcept { return tokens_; }

  std::string_view text_of(const token& piece) const noexcept {
    return std::string_view(text_).substr(piece.text_begin, piece.text_end - piece.text_begin);
  }

  // The text of token `first` and of every text token after it (text is stored in order).
  std::string_view text_from(std::size_t first) const noexcept {
    return std::string_view(text_).substr(tokens_[first].text_begin);
  }

 private:
  std::vector<token> tokens_;
  std::string text_;
};

std::size_t marker_kind(char marker) noexcept {
  return marker == '*' ? 0 : marker == '_' ? 1 : 2;
}

// Pairs delimiter runs into emphasis as CommonMark's "process emphasis" does (delimiter list,
// rule of three, per-kind lower bounds that keep it linear). `plain_bold` drops bold markup.
void pair_emphasis(std::vector<token>& tokens, bool plain_bold) {
  // The delimiter runs as a doubly linked list (-1 ends it), in one vector: one allocation a line.
  struct delimiter {
    std::size_t token;
    std::ptrdiff_t prev;
    std::ptrdiff_t next;
  };
  const auto runs = std::count_if(tokens.begin(), tokens.end(),
                                  [](const token& piece) { return piece.marker != 0; });
  if (runs == 0) return;
  std::vector<delimiter> delims;
  delims.reserve(static_cast<std::size_t>(runs));
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].marker != 0) delims.push_back({i, -1, -1});
  }
  const auto count = static_cast<std::ptrdiff_t>(delims.size());
  const auto prev = [&](std::ptrdiff_t index) -> std::ptrdiff_t& {
    return delims[static_cast<std::size_t>(index)].prev;
  };
  const auto next = [&](std::ptrdiff_t index) -> std::ptrdiff_t& {
    return delims[static_cast<std::size_t>(index)].next;
  };
  for (std::ptrdiff_t i = 0; i < count; ++i) {
    prev(i) = i - 1;
    next(i) = i + 1 < count ? i + 1 : -1;
  }
  const auto unlink = [&](std::ptrdiff_t at) {
    const std::ptrdiff_t before = prev(at);
    const std::ptrdiff_t after = next(at);
    if (before >= 0) next(before) = after;
    if (after >= 0) prev(after) = before;
  };
  const auto at = [&](std::ptrdiff_t index) -> token& {
    return tokens[delims[static_cast<std::size_t>(index)].token];
  };
  // No opener for this kind of closer exists at or below bottom[slot].
  std::array<std::ptrdiff_t, 18> bottom;
  bottom.fill(-1);

  std::ptrdiff_t current = count > 0 ? 0 : -1;
  while (current != -1) {
    token& closer = at(current);
    if (!closer.can_close) {
      current = next(current);
      continue;
    }
    const std::size_t slot =
        marker_kind(closer.marker) * 6 + (closer.can_open ? 3 : 0) + closer.length % 3;
    std::ptrdiff_t opener = prev(current);
    bool found = false;
    while (opener != -1 && opener > bottom[slot]) {
      const token& candidate = at(opener);
      if (candidate.marker == closer.marker && candidate.can_open) {
        const bool rule_of_three = (candidate.can_close || closer.can_open) &&
                                   (candidate.length + closer.length) % 3 == 0 &&
                                   !(candidate.length % 3 == 0 && closer.length % 3 == 0);
        if (!rule_of_three) {
          found = true;
          break;
        }
      }
      opener = prev(opener);
    }
    if (!found) {
      bottom[slot] = prev(current);
      const std::ptrdiff_t following = next(current);
      if (!closer.can_open) unlink(current);
      current = following;
      continue;
    }
    token& open = at(opener);
    std::size_t used = open.count >= 2 && closer.count >= 2 ? 2 : 1;
    // `***x***`: italic innermost, so bold wraps it: `*_x_*`.
    if (open.count >= 3 && closer.count >= 3) used = 1;
    std::string_view markup = "_";
    if (closer.marker == '~') {
      markup = "~";
      used = 2;
    } else if (used == 2) {
      markup = plain_bold ? "" : "*";
    }
    open.open_markup.insert(0, markup);
    closer.close_markup.append(markup);
    open.count -= used;
    closer.count -= used;
    // Runs between the pair can no longer pair with anything: they stay literal.
    next(opener) = current;
    prev(current) = opener;
    if (open.count == 0) unlink(opener);
    if (closer.count == 0) {
      unlink(current);  // leaves current's own links as they were
      current = next(current);
    }
  }
}

// Whether plain text may be copied in whole runs (and a line with no inline syntax at all copied
// whole) or must go through the converter byte by byte. Both give the same output; the byte-by-byte
// path is the plain reading of the rules, which the tests hold the shortcuts to.
enum class shortcuts { on, off };

// Converts the inline content of one line. The line is scanned once: code spans, autolinks and
// HTML, entities, links, bare URLs and emphasis runs, left to right, with code spans and bracket
// pairs found up front so that nothing is searched for twice.
class line_converter {
 public:
  line_converter(std::string_view line, bool plain_bold, shortcuts mode)
      : line_(line), plain_bold_(plain_bold), shortcuts_(mode) {
    find_code_spans();
    find_brackets();
  }

  std::string convert() { return convert_range(0, line_.size(), 0); }

 private:
  std::string_view line_;
  bool plain_bold_;
  shortcuts shortcuts_;
  std::vector<std::pair<std::size_t, std::size_t>> code_spans_;  // [start, end), sorted
  std::vector<std::size_t> partner_;  // closing ']' of a '[', closing ')' of a '('
  std::size_t comment_search_from_ = 0;
  std::size_t comment_end_ = 0;  // where "-->" was found searching from comment_search_from_

  std::size_t run_end(std::size_t pos) const noexcept {
    std::size_t end = pos;
    while (end < line_.size() && line_[end] == line_[pos])
      ++end;
    return end;
  }

  void find_code_spans() {
    // A code span runs from a backtick run to the next run of the same length.
    struct run {
      std::size_t start;
      std::size_t length;
    };
    std::vector<run> runs;
    std::size_t longest = 0;
    for (std::size_t i = line_.find('`'); i != npos;) {
      const std::size_t end = run_end(i);
      runs.push_back({i, end - i});
      longest = std::max(longest, end - i);
      i = line_.find('`', end);
    }
    if (runs.size() < 2) return;
    // next_same[k] is the next run as long as run k. The table indexed by length is no longer than
    // the line, so this stays linear.
    std::vector<std::size_t> next_same(runs.size(), npos);
    std::vector<std::size_t> later_of_length(longest + 1, npos);
    for (std::size_t k = runs.size(); k-- > 0;) {
      next_same[k] = later_of_length[runs[k].length];
      later_of_length[runs[k].length] = k;
    }
    for (std::size_t k = 0; k < runs.size();) {
      if (next_same[k] == npos) {
        ++k;
        continue;
      }
      const run& close = runs[next_same[k]];
      code_spans_.emplace_back(runs[k].start, close.start + close.length);
      k = next_same[k] + 1;
    }
  }

  // The code span starting exactly at `pos`, if any.
  const std::pair<std::size_t, std::size_t>* code_span_at(std::size_t pos) const noexcept {
    const auto found = std::lower_bound(code_spans_.begin(), code_spans_.end(), pos,
                                        [](const std::pair<std::size_t, std::size_t>& span,
                                           std::size_t p) { return span.first < p; });
    return found != code_spans_.end() && found->first == pos ? &*found : nullptr;
  }

  void find_brackets() {
    // Only link() reads partner_, and only at a '['.
    if (shortcuts_ == shortcuts::on && line_.find('[') == npos) return;
    partner_.assign(line_.size(), npos);
    std::vector<std::size_t> brackets;
    std::vector<std::size_t> parens;
    std::size_t span = 0;
    for (std::size_t i = 0; i < line_.size(); ++i) {
      // Nothing below happens at other bytes (code spans start at a backtick).
      if (!contains(bracket_syntax, line_[i])) continue;
      while (span < code_spans_.size() && code_spans_[span].first < i)
        ++span;  // a span whose opening backtick was escaped
      if (span < code_spans_.size() && code_spans_[span].first == i) {
        i = code_spans_[span++].second - 1;  // brackets inside code are text
        continue;
      }
      const char c = line_[i];
      if (c == '\\' && i + 1 < line_.size() && is_punct(line_[i + 1])) {
        ++i;
      } else if (c == '[') {
        brackets.push_back(i);
      } else if (c == ']' && !brackets.empty()) {
        partner_[brackets.back()] = i;
        brackets.pop_back();
      } else if (c == '(') {
        parens.push_back(i);
      } else if (c == ')' && !parens.empty()) {
        partner_[parens.back()] = i;
        parens.pop_back();
      }
    }
  }

  // The end of the plain text starting at pos: bytes that convert_range would copy one at a time
  // anyway, since no syntax starts there ('h' or 'w' inside a word starts no URL).
  std::size_t plain_run_end(std::size_t pos, std::size_t end) const noexcept {
    for (; pos < end; ++pos) {
      const char c = line_[pos];
      if (!contains(run_stops, c)) continue;
      const bool url_letter = c == 'h' || c == 'H' || c == 'w' || c == 'W';
      if (!url_letter || pos == 0 || !is_alnum(line_[pos - 1])) break;
    }
    return pos;
  }

  // A bare URL starting at pos ("http://", "https://", "www."), ending at whitespace or '<' minus
  // trailing punctuation; returns its end, or npos.
  std::size_t bare_url_end(std::size_t pos, std::size_t end) const noexcept {
    if (pos > 0 && is_alnum(line_[pos - 1])) return npos;
    std::size_t minimum = 0;
    if (starts_with_ci(line_, pos, "https://")) {
      minimum = pos + 8;
    } else if (starts_with_ci(line_, pos, "http://")) {
      minimum = pos + 7;
    } else if (starts_with_ci(line_, pos, "www.")) {
      minimum = pos + 4;
    } else {
      return npos;
    }
    std::size_t stop = pos;
    std::size_t opens = 0;
    std::size_t closes = 0;
    while (stop < end && !util::is_space(line_[stop]) && line_[stop] != '<') {
      opens += line_[stop] == '(';
      closes += line_[stop] == ')';
      ++stop;
    }
    // Trailing punctuation ends the sentence, not the URL; so does an unbalanced ')'.
    static constexpr std::string_view trailing = "?!.,:;*_~'\"";
    while (stop > minimum) {
      const char last = line_[stop - 1];
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

  // `<https://…>`, `<a@b.c>`, `<!-- … -->` or a known HTML tag at pos; returns the position after
  // it, or npos.
  std::size_t angle(std::size_t pos, std::size_t end, token_list& tokens, std::size_t& anchor_start,
                    std::string& anchor_href) {
    if (line_.substr(pos, 4) == "<!--") {
      if (comment_search_from_ > pos + 4 || comment_end_ < pos + 4) {
        comment_search_from_ = pos + 4;
        comment_end_ = line_.find("-->", pos + 4);
      }
      if (comment_end_ == npos || comment_end_ + 3 > end) return npos;
      return comment_end_ + 3;
    }
    std::size_t close = pos + 1;
    while (close < end && !util::is_space(line_[close]) && line_[close] != '<' &&
           line_[close] != '>')
      ++close;
    if (close < end && line_[close] == '>' && close > pos + 1) {
      const std::string_view inner = line_.substr(pos + 1, close - pos - 1);
      std::size_t scheme = 0;
      while (scheme < inner.size() && (is_alnum(inner[scheme]) || inner[scheme] == '+' ||
                                       inner[scheme] == '.' || inner[scheme] == '-'))
        ++scheme;
      const bool is_uri =
          scheme >= 2 && scheme < inner.size() && inner[scheme] == ':' && is_alpha(inner[0]);
      const bool is_email = inner.find('@') != npos && inner.front() != '@';
      if (is_uri || is_email) {
        tokens.add_text(shown_url(inner));
        return close + 1;
      }
    }
    // HTML tag: <name ...>, </name>, <name/>.
    std::size_t i = pos + 1;
    const bool closing = i < end && line_[i] == '/';
    if (closing) ++i;
    const std::size_t name_start = i;
    if (i >= end || !is_alpha(line_[i])) return npos;
    while (i < end && is_alnum(line_[i]))
      ++i;
    const std::string name = lowercase(line_.substr(name_start, i - name_start));
    const html_tag* tag = find_tag(name);
    if (tag == nullptr) return npos;
    const std::size_t attributes_start = i;
    if (i < end && util::is_space(line_[i])) {
      while (i < end && line_[i] != '>' && line_[i] != '<')
        ++i;
    } else if (i + 1 < end && line_[i] == '/' && line_[i + 1] == '>') {
      ++i;
    }
    if (i >= end || line_[i] != '>') return npos;
    const std::string_view attributes = line_.substr(attributes_start, i - attributes_start);
    if (name == "a") {
      if (closing) {
        close_anchor(tokens, anchor_start, anchor_href);
      } else {
        anchor_href = std::string(attribute(attributes, "href"));
        tokens.start_text();  // a boundary, so the anchor's text can be told apart
        anchor_start = tokens.size() - 1;
      }
    } else if (name == "img" && !closing) {
      tokens.add_text(link_text(attribute(attributes, "alt"), attribute(attributes, "src")));
    } else {
      std::string_view markup = closing ? tag->close : tag->open;
      if (plain_bold_ && markup == "*") markup = "";
      tokens.add_text(markup);
    }
    return i + 1;
  }

  // `</a>`: the anchor's text gets its target appended, unless the text already names it.
  static void close_anchor(token_list& tokens, std::size_t& anchor_start,
                           std::string& anchor_href) {
    if (anchor_start == npos) return;
    const std::string text(tokens.text_from(anchor_start));  // a copy: adding text moves it
    const std::string_view href = trim(anchor_href);
    if (!href.empty() && href.front() != '#') {
      if (trim(text).empty()) {
        tokens.add_text(shown_url(href));
      } else if (!same_url(text, href)) {
        tokens.add_text(" (" + std::string(shown_url(href)) + ")");
      }
    }
    anchor_start = npos;
    anchor_href.clear();
  }

  // `[text](url "title")` with '[' at open_bracket; returns the position after it, or npos.
  std::size_t link(std::size_t open_bracket, std::size_t end, int depth, std::string& shown) {
    const std::size_t close_bracket = partner_[open_bracket];
    if (close_bracket == npos || close_bracket + 1 >= end || line_[close_bracket + 1] != '(') {
      return npos;
    }
    const std::size_t close_paren = partner_[close_bracket + 1];
    if (close_paren == npos || close_paren >= end) return npos;
    std::string_view target =
        trim(line_.substr(close_bracket + 2, close_paren - close_bracket - 2));
    std::string_view url;
    std::string_view title;
    if (!target.empty() && target.front() == '<') {
      const std::size_t gt = target.find('>');
      if (gt == npos) return npos;
      url = target.substr(1, gt - 1);
      title = trim(target.substr(gt + 1));
    } else {
      std::size_t gap = 0;
      while (gap < target.size() && !util::is_space(target[gap]))
        ++gap;
      url = target.substr(0, gap);
      title = trim(target.substr(gap));
    }
    if (!title.empty()) {
      const char first = title.front();
      const char last = title.back();
      const bool quoted =
          title.size() >= 2 && ((first == '"' && last == '"') || (first == '\'' && last == '\'') ||
                                (first == '(' && last == ')'));
      if (!quoted) return npos;  // "[a](not a url)" is text, not a link
    }
    const std::string text = convert_range(open_bracket + 1, close_bracket, depth + 1);
    shown = link_text(text, url);
    return close_paren + 1;
  }

  std::string convert_range(std::size_t begin, std::size_t end, int depth) {
    token_list tokens(end - begin);
    std::size_t anchor_start = npos;
    std::string anchor_href;
    std::size_t i = begin;
    while (i < end) {
      if (shortcuts_ == shortcuts::on) {
        const std::size_t plain_end = plain_run_end(i, end);
        if (plain_end > i) {
          tokens.add_text(line_.substr(i, plain_end - i));
          i = plain_end;
          continue;
        }
      }
      const char c = line_[i];
      if (c == '\\' && i + 1 < end && is_punct(line_[i + 1])) {
        tokens.add_text(line_.substr(i + 1, 1));  // an escaped marker is just that character
        i += 2;
        continue;
      }
      if (c == '`') {
        const auto* span = code_span_at(i);
        const std::size_t stop =
            span != nullptr && span->second <= end ? span->second : std::min(run_end(i), end);
        tokens.add_text(line_.substr(i, stop - i));  // code is copied as it is
        i = stop;
        continue;
      }
      if (c == '<') {
        const std::size_t after = angle(i, end, tokens, anchor_start, anchor_href);
        if (after != npos) {
          i = after;
          continue;
        }
      } else if (c == '&') {
        std::string decoded;
        const std::size_t after = decode_entity(line_, i, end, decoded);
        if (after != npos) {
          tokens.add_text(decoded);
          i = after;
          continue;
        }
      } else if ((c == '[' || (c == '!' && i + 1 < end && line_[i + 1] == '[')) && depth < 2) {
        std::string shown;
        const std::size_t after = link(c == '!' ? i + 1 : i, end, depth, shown);
        if (after != npos) {
          tokens.add_text(shown);
          i = after;
          continue;
        }
      } else if (c == '*' || c == '_' || c == '~') {
        const std::size_t stop = std::min(run_end(i), end);
        add_run(tokens, i, stop);
        i = stop;
        continue;
      } else if (c == 'h' || c == 'H' || c == 'w' || c == 'W') {
        const std::size_t stop = bare_url_end(i, end);
        if (stop != npos) {
          tokens.add_text(line_.substr(i, stop - i));  // URLs are copied as they are
          i = stop;
          continue;
        }
      }
      tokens.add_text(line_.substr(i, 1));
      ++i;
    }
    pair_emphasis(tokens.items(), plain_bold_);
    std::string out;
    out.reserve(end - begin);
    for (const token& piece : tokens.items()) {
      if (piece.marker == 0) {
        out += tokens.text_of(piece);
        continue;
      }
      out += piece.close_markup;
      out.append(piece.count, piece.marker);
      out += piece.open_markup;
    }
    return out;
  }

  void add_run(token_list& tokens, std::size_t start, std::size_t stop) {
    const char marker = line_[start];
    const std::size_t length = stop - start;
    // Markdown strikes through with `~~`; a single `~` (WhatsApp's own) stays as it is.
    if (marker == '~' && length != 2) {
      tokens.add_text(line_.substr(start, length));
      return;
    }
    char before = start > 0 ? line_[start - 1] : ' ';
    char after = stop < line_.size() ? line_[stop] : ' ';
    // A dot between letters joins words ("__init__.py", "obj.__dict__"): it counts as a letter.
    if (before == '.' && start > 1 && is_alnum(line_[start - 2])) before = 'a';
    if (after == '.' && stop + 1 < line_.size() && is_alnum(line_[stop + 1])) after = 'a';
    const bool left =
        !util::is_space(after) && (!is_punct(after) || util::is_space(before) || is_punct(before));
    const bool right =
        !util::is_space(before) && (!is_punct(before) || util::is_space(after) || is_punct(after));
    // CommonMark's rule for `_`: a run inside a word neither opens nor closes, so snake_case stays.
    // `*` may sit inside a "word" only next to non-ASCII (emoji, scripts without spaces), never
    // between ASCII letters or digits, so 2*3*4 stays too.
    const bool in_word = marker == '*' ? is_alnum(before) && is_alnum(after) : true;
    token run;
    run.marker = marker;
    run.length = length;
    run.count = length;
    run.can_open = left && (!right || !in_word || is_punct(before));
    run.can_close = right && (!left || !in_word || is_punct(after));
    if (!run.can_open && !run.can_close) {
      tokens.add_text(line_.substr(start, length));
      return;
    }
    tokens.add_run(std::move(run));
  }
};

std::string convert_inline(std::string_view text, shortcuts mode, bool plain_bold = false) {
  // Most lines of an answer are prose without any Markdown: they come out as they went in.
  if (mode == shortcuts::on &&
      std::none_of(text.begin(), text.end(), [](char c) { return contains(inline_syntax, c); })) {
    return std::string(text);
  }
  return line_converter(text, plain_bold, mode).convert();
}

// Block structure, one line at a time.

struct fence {
  char marker = 0;
  std::size_t length = 0;
};

// "```lang" or "~~~" (any indentation); a backtick fence's language tag has no backticks.
bool opens_fence(std::string_view line, fence& found) noexcept {
  const std::string_view text = trim_left(line);
  if (text.empty() || (text[0] != '`' && text[0] != '~')) return false;
  std::size_t length = 0;
  while (length < text.size() && text[length] == text[0])
    ++length;
  if (length < 3) return false;
  if (text[0] == '`' && text.substr(length).find('`') != npos) return false;
  found = {text[0], length};
  return true;
}

bool closes_fence(std::string_view line, const fence& open) noexcept {
  const std::string_view text = trim(line);
  if (text.size() < open.length) return false;
  return std::all_of(text.begin(), text.end(), [&](char c) { return c == open.marker; });
}

bool is_rule(std::string_view line) noexcept {
  const std::string_view text = trim(line);
  if (text.empty() || (text[0] != '-' && text[0] != '*' && text[0] != '_')) return false;
  std::size_t markers = 0;
  for (const char c : text) {
    if (c == text[0]) {
      ++markers;
    } else if (c != ' ' && c != '\t') {
      return false;
    }
  }
  return markers >= 3;
}

// "## Title ##" -> "Title"; false when the line is no heading ("#hashtag", "####### x").
bool heading_text(std::string_view line, std::string_view& text) noexcept {
  std::string_view rest = trim_left(line);
  std::size_t level = 0;
  while (level < rest.size() && rest[level] == '#')
    ++level;
  if (level == 0 || level > 6 || (level < rest.size() && !util::is_space(rest[level])))
    return false;
  rest = trim(rest.substr(level));
  // An optional closing run of '#' after a space.
  std::size_t end = rest.size();
  while (end > 0 && rest[end - 1] == '#')
    --end;
  if (end == 0) {
    rest = {};
  } else if (end < rest.size() && util::is_space(rest[end - 1])) {
    rest = util::trim_right(rest.substr(0, end));
  }
  text = rest;
  return true;
}

// "  * item" -> indent "  ", item "item".
bool bullet(std::string_view line, std::string_view& indent, std::string_view& item) noexcept {
  std::size_t start = 0;
  while (start < line.size() && (line[start] == ' ' || line[start] == '\t'))
    ++start;
  if (start >= line.size()) return false;
  const char marker = line[start];
  if (marker != '-' && marker != '*' && marker != '+') return false;
  if (start + 1 < line.size() && !util::is_space(line[start + 1])) return false;
  indent = line.substr(0, start);
  item = trim_left(line.substr(start + 1));
  return true;
}

// Table cells: split at '|' outside code spans and not escaped; outer pipes dropped.
std::vector<std::string> table_cells(std::string_view line) {
  std::string_view text = trim(line);
  if (!text.empty() && text.front() == '|') text.remove_prefix(1);
  if (!text.empty() && text.back() == '|' && !(text.size() >= 2 && text[text.size() - 2] == '\\')) {
    text.remove_suffix(1);
  }
  std::vector<std::string> cells(1);
  bool in_code = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size() && text[i + 1] == '|') {
      cells.back() += '|';
      ++i;
    } else if (c == '`') {
      in_code = !in_code;
      cells.back() += c;
    } else if (c == '|' && !in_code) {
      cells.emplace_back();
    } else {
      cells.back() += c;
    }
  }
  for (std::string& cell : cells)
    cell = std::string(trim(cell));
  return cells;
}

bool is_table_separator(std::string_view line, std::size_t columns) {
  if (line.find('|') == npos) return false;
  const std::vector<std::string> cells = table_cells(line);
  if (cells.size() != columns) return false;
  return std::all_of(cells.begin(), cells.end(), [](const std::string& cell) {
    std::string_view text = cell;
    if (!text.empty() && text.front() == ':') text.remove_prefix(1);
    if (!text.empty() && text.back() == ':') text.remove_suffix(1);
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c == '-'; });
  });
}

// A label longer than this is not repeated on every row (it would multiply the text).
constexpr std::size_t max_label_bytes = 40;

std::string table_row(const std::vector<std::string>& labels, std::string_view line,
                      shortcuts mode) {
  const std::vector<std::string> cells = table_cells(line);
  std::string out;
  for (std::size_t k = 0; k < cells.size(); ++k) {
    const std::string value = std::string(trim(convert_inline(cells[k], mode)));
    if (value.empty()) continue;
    if (!out.empty()) out += ", ";
    if (k < labels.size() && !labels[k].empty() && labels[k].size() <= max_label_bytes) {
      out += labels[k];
      out += ": ";
    }
    out += value;
  }
  return out;
}

// A line that is not part of a multi-line block (also the inside of a quote).
std::string convert_simple_line(std::string_view line, shortcuts mode) {
  if (is_rule(line)) return {};
  std::string_view text;
  if (heading_text(line, text)) {
    const std::string title = std::string(trim(convert_inline(text, mode, true)));
    return title.empty() ? std::string() : "*" + title + "*";
  }
  std::string_view indent;
  std::string_view item;
  if (bullet(line, indent, item)) return std::string(indent) + "- " + convert_inline(item, mode);
  const std::string_view quoted = trim_left(line);
  if (!quoted.empty() && quoted.front() == '>') {
    std::size_t start = 0;
    while (start < quoted.size() && (quoted[start] == '>' || util::is_space(quoted[start])))
      ++start;
    const std::string inner = convert_simple_line(quoted.substr(start), mode);
    return inner.empty() ? std::string() : "> " + inner;
  }
  return convert_inline(line, mode);
}

struct output_line {
  std::string text;
  bool verbatim;  // a code line: no trimming, no collapsing
};

// Joins the lines: non-code lines are split at the newlines HTML put in them, right-trimmed, and
// blank runs collapsed; blank lines at both ends are dropped.
std::string assemble(const std::vector<output_line>& lines, std::size_t size_hint) {
  std::string out;
  out.reserve(size_hint);
  bool started = false;
  bool blank_pending = false;
  const auto emit = [&](std::string_view text) {
    if (started) out += blank_pending ? "\n\n" : "\n";
    out += text;
    started = true;
    blank_pending = false;
  };
  for (const output_line& line : lines) {
    if (line.verbatim) {
      emit(line.text);
      continue;
    }
    std::string_view rest = line.text;
    while (true) {
      const std::size_t newline = rest.find('\n');
      const std::string_view piece = util::trim_right(rest.substr(0, newline));
      if (piece.empty()) {
        blank_pending = started;
      } else {
        emit(piece);
      }
      if (newline == npos) break;
      rest.remove_prefix(newline + 1);
    }
  }
  return out;
}

std::string convert_document(std::string_view markdown, shortcuts mode) {
  std::vector<std::string_view> lines;
  for (std::size_t start = 0; start <= markdown.size();) {
    std::size_t end = markdown.find('\n', start);
    if (end == npos) end = markdown.size();
    std::string_view line = markdown.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }

  std::vector<output_line> out;
  out.reserve(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    fence open;
    if (opens_fence(line, open)) {
      // WhatsApp has no language tags; the lines inside are copied untouched.
      out.push_back({"```", true});
      ++i;
      while (i < lines.size() && !closes_fence(lines[i], open)) {
        out.push_back({std::string(lines[i]), true});
        ++i;
      }
      out.push_back({"```", true});
      continue;
    }
    if (line.find('|') != npos && i + 1 < lines.size()) {
      const std::vector<std::string> headers = table_cells(line);
      if (is_table_separator(lines[i + 1], headers.size())) {
        std::vector<std::string> labels;
        for (const std::string& header : headers)
          labels.push_back(std::string(trim(convert_inline(header, mode))));
        std::size_t row = i + 2;
        bool any_row = false;
        for (; row < lines.size() && !trim(lines[row]).empty() && lines[row].find('|') != npos;
             ++row) {
          out.push_back({table_row(labels, lines[row], mode), false});
          any_row = true;
        }
        if (!any_row) out.push_back({table_row({}, line, mode), false});
        i = row - 1;
        continue;
      }
    }
    out.push_back({convert_simple_line(line, mode), false});
  }
  return assemble(out, markdown.size());
}

}  // namespace

std::string to_whatsapp(std::string_view markdown) {
  return convert_document(markdown, shortcuts::on);
}

namespace detail {

std::string to_whatsapp_without_shortcuts(std::string_view markdown) {
  return convert_document(markdown, shortcuts::off);
}

}  // namespace detail

}  // namespace bridge::webhook::format
