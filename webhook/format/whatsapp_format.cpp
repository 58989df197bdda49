#include "webhook/format/whatsapp_format.hpp"

#include <md4c.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "webhook/format/html_text.hpp"
#include "webhook/format/md4c_input.hpp"
#include "webhook/util/ascii.hpp"

namespace bridge::webhook::format {
namespace {

using util::is_alnum;
using util::is_digit;
using util::is_space_or_tab;
using util::starts_with_ci;
using util::to_lower;
using util::trim;
using util::trim_right;

constexpr std::size_t npos = std::string_view::npos;

// Links.

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

// A link destination or image source as md4c hands it over: escapes resolved, entities not.
std::string attribute_text(const MD_ATTRIBUTE& attribute) {
  std::string out;
  if (attribute.substr_offsets == nullptr || attribute.substr_types == nullptr) return out;
  for (std::size_t i = 0; attribute.substr_offsets[i] < attribute.size; ++i) {
    const MD_OFFSET begin = attribute.substr_offsets[i];
    const std::string_view piece(attribute.text + begin, attribute.substr_offsets[i + 1] - begin);
    if (attribute.substr_types[i] == MD_TEXT_ENTITY) {
      append_entity(out, piece);
    } else if (attribute.substr_types[i] == MD_TEXT_NULLCHAR) {
      out += replacement_character;
    } else {
      out += piece;
    }
  }
  return out;
}

// Rendering.

struct output_line {
  std::string text;
  bool verbatim = false;  // a code line: no trimming, no collapsing
};

// Whether a line of the source between two blocks is empty (quote markers aside), so that the
// blocks stay apart in the output. Lines end at "\n", "\r\n" or "\r", as in CommonMark.
bool has_blank_line(std::string_view gap) noexcept {
  bool after_line_end = false;
  bool content = false;
  for (std::size_t i = 0; i < gap.size(); ++i) {
    const char c = gap[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < gap.size() && gap[i + 1] == '\n') ++i;
      if (after_line_end && !content) return true;
      after_line_end = true;
      content = false;
    } else if (!is_space_or_tab(c) && c != '>') {
      content = true;
    }
  }
  return false;
}

enum class style : std::uint8_t { bold, italic, strike };

std::string_view marker_of(style kind) noexcept {
  switch (kind) {
    case style::bold:
      return "*";
    case style::italic:
      return "_";
    case style::strike:
      return "~";
  }
  return {};
}

// One style over a stretch of the line being built.
struct stretch {
  style kind;
  std::size_t begin;
  std::size_t end;            // npos while the style is still in force
  std::string_view fallback;  // shown instead of the markers where WhatsApp would not format
};

// A marker to put into a line.
struct mark {
  std::size_t at;
  bool opens;
  std::size_t stretch;  // stretches are numbered in the order they opened: outer ones first
  std::string_view text;
};

bool mark_before(const mark& a, const mark& b) noexcept {
  if (a.at != b.at) return a.at < b.at;
  if (a.opens != b.opens) return !a.opens;  // close what ends here before opening what begins
  return a.opens ? a.stretch < b.stretch : a.stretch > b.stretch;
}

// The markers for one stretch: none when it holds only whitespace; its fallback when a marker
// would touch a letter or digit outside it (WhatsApp would show the marker as it is).
void add_marks(std::string_view line, const stretch& span, std::size_t index,
               std::vector<mark>& marks) {
  std::size_t begin = std::min(span.begin, line.size());
  std::size_t end = std::min(span.end, line.size());
  // WhatsApp wants its markers against the text they format.
  while (begin < end && is_space_or_tab(line[begin]))
    ++begin;
  while (end > begin && is_space_or_tab(line[end - 1]))
    --end;
  if (begin == end) return;
  const bool stuck =
      (begin > 0 && is_alnum(line[begin - 1])) || (end < line.size() && is_alnum(line[end]));
  const std::string_view text = stuck ? span.fallback : marker_of(span.kind);
  if (text.empty()) return;
  marks.push_back({begin, true, index, text});
  marks.push_back({end, false, index, text});
}

// Appends the line to `out` with its styles' markers in place.
void render_styles(std::string& out, std::string_view line, const std::vector<stretch>& stretches,
                   std::vector<mark>& marks) {
  marks.clear();
  for (std::size_t i = 0; i < stretches.size(); ++i)
    add_marks(line, stretches[i], i, marks);
  std::sort(marks.begin(), marks.end(), mark_before);
  out.reserve(out.size() + line.size() + marks.size() * 2);
  std::size_t copied = 0;
  for (const mark& m : marks) {
    out.append(line, copied, m.at - copied);
    out += m.text;
    copied = m.at;
  }
  out.append(line, copied);
}

// What the renderer does about tables' delimiter rows (see widen_table_rules).
struct rule_check {
  bool find_short = false;               // note paragraph lines that are short delimiter rows
  std::span<const std::size_t> widened;  // rows already widened: they must not be text any more
};

// md4c's callbacks, rendering WhatsApp lines. Inline content is built one output line at a time,
// with the styles in force as stretches over it; a line gets its markers when it is finished.
class renderer {
 public:
  renderer(std::string_view doc, rule_check rules)
      : doc_(doc), rules_(rules), url_budget_(doc.size()) {
    lines_.reserve(doc.size() / 32 + 8);  // about one line per 32 bytes of an answer
  }

  // Parses the document through md4c; throws std::bad_alloc when md4c or a callback runs out.
  void run() {
    static constexpr MD_PARSER parser = {
        0,
        MD_FLAG_TABLES | MD_FLAG_STRIKETHROUGH |
            // An answer's indented text is prose (or a list's continuation), never code.
            MD_FLAG_NOINDENTEDCODEBLOCKS,
        &renderer::on_enter_block,
        &renderer::on_leave_block,
        &renderer::on_enter_span,
        &renderer::on_leave_span,
        &renderer::on_text,
        nullptr,
        nullptr,
    };
    const int result = md_parse(doc_.data(), static_cast<MD_SIZE>(doc_.size()), &parser, this);
    if (failure_) std::rethrow_exception(failure_);
    // md4c fails only when it cannot allocate.
    if (result != 0) throw std::bad_alloc();
    end_line();
  }

  std::vector<output_line>& lines() noexcept { return lines_; }
  const std::vector<std::size_t>& short_rules() const noexcept { return short_rules_; }
  bool widened_rule_stayed_text() const noexcept { return widened_rule_stayed_text_; }

 private:
  // A style in force and shown: there is at most one of each kind.
  struct active_style {
    style kind;
    bool from_html;
    std::string_view fallback;
    std::size_t stretch;  // on the current line; npos until the line starts
  };

  struct container {
    bool quote;
    std::string marker;  // a list item's "- " or "3. "
    bool marker_pending;
  };

  struct list_counter {
    bool ordered;
    unsigned next;
    char delimiter;
  };

  struct open_link {
    std::string url;
    std::size_t begin;  // where its text starts on line `line`
    std::size_t line;
  };

  // md4c is C: an exception must not unwind through it. A failing callback stops the parse, and
  // run() rethrows.
  template <typename Step>
  static int guarded(void* self, Step&& step) noexcept {
    auto& r = *static_cast<renderer*>(self);
    try {
      step(r);
      return 0;
    } catch (...) {
      r.failure_ = std::current_exception();
      return 1;
    }
  }

  static int on_enter_block(MD_BLOCKTYPE type, void* detail, void* self) {
    return guarded(self, [&](renderer& r) { r.enter_block(type, detail); });
  }
  static int on_leave_block(MD_BLOCKTYPE type, void*, void* self) {
    return guarded(self, [&](renderer& r) { r.leave_block(type); });
  }
  static int on_enter_span(MD_SPANTYPE type, void* detail, void* self) {
    return guarded(self, [&](renderer& r) { r.enter_span(type, detail); });
  }
  static int on_leave_span(MD_SPANTYPE type, void*, void* self) {
    return guarded(self, [&](renderer& r) { r.leave_span(type); });
  }
  static int on_text(MD_TEXTTYPE type, const MD_CHAR* text, MD_SIZE size, void* self) {
    return guarded(self, [&](renderer& r) { r.text(type, text, size); });
  }

  // Blocks.

  void enter_block(MD_BLOCKTYPE type, const void* detail) {
    flush_html();
    end_line();
    // Whether an empty line comes first is known once the block's first text shows where it is.
    gap_pending_ = true;
    gap_line_ = lines_.size();
    paragraph_breaks_ = 0;
    switch (type) {
      case MD_BLOCK_QUOTE:
        containers_.push_back({true, {}, false});
        break;
      case MD_BLOCK_UL:
        lists_.push_back({false, 0, 0});
        break;
      case MD_BLOCK_OL: {
        const auto& list = *static_cast<const MD_BLOCK_OL_DETAIL*>(detail);
        lists_.push_back({true, list.start, list.mark_delimiter});
        break;
      }
      case MD_BLOCK_LI:
        containers_.push_back({false, next_item_marker(), true});
        break;
      case MD_BLOCK_HR:
        push_line({}, false);
        break;
      case MD_BLOCK_H:
        push_style(style::bold, false, {});
        break;
      case MD_BLOCK_CODE:
        code_block_ = true;
        push_line(line_prefix() + "```", true);  // WhatsApp has no language tags
        break;
      case MD_BLOCK_THEAD:
        table_head_ = true;
        break;
      case MD_BLOCK_TR:
        cells_.clear();
        break;
      case MD_BLOCK_TH:
      case MD_BLOCK_TD:
        in_cell_ = true;
        break;
      default:
        break;
    }
  }

  void leave_block(MD_BLOCKTYPE type) {
    flush_html();
    switch (type) {
      case MD_BLOCK_QUOTE:
      case MD_BLOCK_LI:
        end_line();
        if (!containers_.empty()) containers_.pop_back();
        new_containers_ = std::min(new_containers_, containers_.size());
        break;
      case MD_BLOCK_UL:
      case MD_BLOCK_OL:
        if (!lists_.empty()) lists_.pop_back();
        break;
      case MD_BLOCK_CODE:
        finish_code_block();
        break;
      case MD_BLOCK_THEAD:
        table_head_ = false;
        break;
      case MD_BLOCK_TH:
      case MD_BLOCK_TD:
        cells_.emplace_back(trim(finish_line()));
        in_cell_ = false;
        break;
      case MD_BLOCK_TR:
        finish_table_row();
        break;
      case MD_BLOCK_TABLE:
        finish_table();
        break;
      default:
        break;
    }
    end_line();
    // Whatever raw HTML left open ends with its block.
    styles_.clear();
    nested_styles_.fill(0);
    links_.clear();
  }

  std::string next_item_marker() {
    if (lists_.empty() || !lists_.back().ordered) return "- ";
    list_counter& list = lists_.back();
    std::string marker = std::to_string(list.next++);
    marker += list.delimiter;
    marker += ' ';
    return marker;
  }

  // Containers deeper than this add nothing to the lines after their first: each line would carry
  // all of them.
  static constexpr std::size_t max_prefix_depth = 8;

  // What goes before a new line: one "> " for any depth of quotes, and per list item its marker on
  // its first line and as many spaces on the others. The containers entered since the last line
  // (whose markers are due) are the last ones.
  std::string line_prefix() {
    std::string prefix;
    bool quoted = false;
    const std::size_t shallow = std::min(containers_.size(), max_prefix_depth);
    for (std::size_t k = 0; k < shallow; ++k)
      add_to_prefix(containers_[k], prefix, quoted);
    for (std::size_t k = std::max(shallow, new_containers_); k < containers_.size(); ++k)
      add_to_prefix(containers_[k], prefix, quoted);
    new_containers_ = containers_.size();
    return prefix;
  }

  static void add_to_prefix(container& c, std::string& prefix, bool& quoted) {
    if (c.quote) {
      if (!quoted) prefix += "> ";
      quoted = true;
    } else if (c.marker_pending) {
      prefix += c.marker;
      c.marker_pending = false;
    } else {
      prefix.append(c.marker.size(), ' ');
    }
  }

  void push_line(std::string text, bool verbatim) { lines_.push_back({std::move(text), verbatim}); }

  void finish_code_block() {
    if (!code_line_.empty()) push_code_line();
    push_line(line_prefix() + "```", true);
    code_block_ = false;
  }

  void push_code_line() {
    std::string prefix = line_prefix();
    push_line(code_line_.empty() ? std::string() : prefix + code_line_, true);
    code_line_.clear();
  }

  // A row becomes "label: value, label: value"; a table without body rows shows its header cells.
  void finish_table_row() {
    if (table_head_) {
      labels_ = std::move(cells_);
      cells_.clear();
      return;
    }
    push_line(line_prefix() + joined_cells(labels_, cells_), false);
    ++table_rows_;
  }

  void finish_table() {
    if (table_rows_ == 0) push_line(line_prefix() + joined_cells({}, labels_), false);
    labels_.clear();
    table_rows_ = 0;
  }

  // A label longer than this is not repeated on every row (it would multiply the text).
  static constexpr std::size_t max_label_bytes = 40;

  static std::string joined_cells(const std::vector<std::string>& labels,
                                  const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t k = 0; k < cells.size(); ++k) {
      if (cells[k].empty()) continue;
      if (!out.empty()) out += ", ";
      if (k < labels.size() && !labels[k].empty() && labels[k].size() <= max_label_bytes) {
        out += labels[k];
        out += ": ";
      }
      out += cells[k];
    }
    return out;
  }

  // Spans.

  void enter_span(MD_SPANTYPE type, const void* detail) {
    flush_html();
    switch (type) {
      case MD_SPAN_EM:
        push_style(style::italic, false, "*");
        break;
      case MD_SPAN_STRONG:
        push_style(style::bold, false, "**");
        break;
      case MD_SPAN_DEL:
        push_style(style::strike, false, "~");
        break;
      case MD_SPAN_A:
        begin_link(static_cast<const MD_SPAN_A_DETAIL*>(detail)->href);
        break;
      case MD_SPAN_IMG:
        begin_link(static_cast<const MD_SPAN_IMG_DETAIL*>(detail)->src);
        break;
      case MD_SPAN_CODE:
        code_span_open_ = false;
        break;
      default:
        break;
    }
  }

  void leave_span(MD_SPANTYPE type) {
    flush_html();
    switch (type) {
      case MD_SPAN_EM:
        leave_style(style::italic);
        break;
      case MD_SPAN_STRONG:
        leave_style(style::bold);
        break;
      case MD_SPAN_DEL:
        leave_style(style::strike);
        break;
      case MD_SPAN_A:
      case MD_SPAN_IMG:
        end_link();
        break;
      case MD_SPAN_CODE:
        end_code_span();
        break;
      default:
        break;
    }
  }

  void leave_style(style kind) {
    const std::string_view delimiter = closing_delimiter(kind);
    // md4c 0.4.8 can leave a span it never entered (see url_guard), having taken the delimiter for
    // its closer: show the delimiter as the text it is.
    if (!pop_style(kind, false, delimiter)) append(delimiter);
  }

  // The delimiter that closed a span, read from the source right after the span's last text, so
  // that a span WhatsApp cannot format comes out as it was written ("~" or "~~", "*" or "_").
  std::string_view closing_delimiter(style kind) const noexcept {
    const std::size_t at = source_end_;
    if (at >= doc_.size()) return {};
    const char c = doc_[at];
    const bool matches = kind == style::strike ? c == '~' : c == '*' || c == '_';
    if (!matches) return {};
    std::size_t length = kind == style::italic ? 1 : 2;
    if (kind == style::strike && (at + 1 >= doc_.size() || doc_[at + 1] != '~')) length = 1;
    if (at + length > doc_.size() || doc_[at + length - 1] != c) return {};
    return doc_.substr(at, length);
  }

  void push_style(style kind, bool from_html, std::string_view fallback) {
    // Inside the same style (bold in a heading) a span has no markers of its own: it is only
    // counted, so that its end is told from the end of the style around it.
    if (std::any_of(styles_.begin(), styles_.end(),
                    [&](const active_style& s) { return s.kind == kind; })) {
      ++nested(kind, from_html);
      return;
    }
    active_style added{kind, from_html, fallback, npos};
    if (line_started_) added.stretch = open_stretch(added);
    styles_.push_back(added);
  }

  // Ends the innermost style of this kind and origin; `fallback`, when known, replaces its guess.
  // False when there is none.
  bool pop_style(style kind, bool from_html, std::string_view fallback) {
    if (nested(kind, from_html) > 0) {
      --nested(kind, from_html);
      return true;
    }
    const auto found = std::find_if(styles_.begin(), styles_.end(), [&](const active_style& s) {
      return s.kind == kind && s.from_html == from_html;
    });
    if (found == styles_.end()) return false;
    if (found->stretch != npos && !fallback.empty()) stretches_[found->stretch].fallback = fallback;
    close_stretch(*found);
    styles_.erase(found);
    return true;
  }

  std::size_t& nested(style kind, bool from_html) noexcept {
    return nested_styles_[static_cast<std::size_t>(kind) * 2 + (from_html ? 1 : 0)];
  }

  std::size_t open_stretch(const active_style& s) {
    stretches_.push_back({s.kind, line_.size(), npos, s.fallback});
    return stretches_.size() - 1;
  }

  void close_stretch(active_style& s) noexcept {
    if (s.stretch == npos) return;
    stretches_[s.stretch].end = line_.size();
    s.stretch = npos;
  }

  void begin_link(std::string url) {
    links_.push_back({std::move(url), line_.size(), line_number_});
  }

  // A link from md4c. A reference definition can lend one long url to any number of links
  // (md4c 0.4.8 has no limit, issue #238); past a budget as large as the answer links show only
  // their text, so the output stays in proportion to the answer.
  void begin_link(const MD_ATTRIBUTE& url) {
    const bool affordable = url.size <= url_budget_;
    url_budget_ -= affordable ? url.size : 0;
    begin_link(affordable ? attribute_text(url) : std::string());
  }

  // "text (url)"; the url alone when the text is empty or names it; the text alone for a fragment.
  void end_link() {
    if (links_.empty()) return;
    const open_link link = std::move(links_.back());
    links_.pop_back();
    const std::string_view url = trim(link.url);
    if (url.empty() || url.front() == '#') return;  // a fragment leads nowhere in a chat
    if (link.line == line_number_) {
      const std::size_t begin = std::min(link.begin, line_.size());
      const std::string_view text = trim(std::string_view(line_).substr(begin));
      if (text.empty() || same_url(text, url)) {
        truncate_line(begin);
        append(shown_url(url));
        return;
      }
    }
    append(" (");
    append(shown_url(url));
    append(")");
  }

  // Drops the line from `at` on: a link's text when its url replaces it.
  void truncate_line(std::size_t at) {
    line_.resize(at);
    // Stretches open in the order they start, so those that started inside the text are last.
    for (auto it = stretches_.rbegin(); it != stretches_.rend() && it->begin >= at; ++it) {
      it->begin = at;
      if (it->end != npos) it->end = at;
    }
  }

  // The backticks (and the padding space CommonMark strips) that opened a code span, read from the
  // source before its first text: the span keeps them, as WhatsApp shows ``` and ` differently.
  void open_code_span(const char* text) {
    code_ticks_ = {};
    code_padded_ = false;
    const std::size_t at = doc_offset(text, 0);
    if (at != npos) {
      code_padded_ = at >= 2 && doc_[at - 1] == ' ' && doc_[at - 2] == '`';
      std::size_t start = at - (code_padded_ ? 1 : 0);
      while (start > 0 && doc_[start - 1] == '`')
        --start;
      code_ticks_ = doc_.substr(start, at - (code_padded_ ? 1 : 0) - start);
    }
    if (code_ticks_.empty()) {
      code_ticks_ = "`";
      code_padded_ = false;
    }
    append(code_ticks_);
    if (code_padded_) append(" ");
    code_span_open_ = true;
  }

  void end_code_span() {
    if (!code_span_open_) open_code_span(nullptr);
    if (code_padded_) append(" ");
    append(code_ticks_);
    code_span_open_ = false;
  }

  // Text.

  void text(MD_TEXTTYPE type, const MD_CHAR* data, MD_SIZE size) {
    const std::string_view piece(data, size);
    note_source(type, data, size);
    if (type == MD_TEXT_HTML) {
      html_ += piece;  // a tag can come in pieces: it is rendered once something else comes
      return;
    }
    flush_html();
    switch (type) {
      case MD_TEXT_NULLCHAR:
        append(replacement_character);
        break;
      case MD_TEXT_BR:
      case MD_TEXT_SOFTBR:
        line_break();
        break;
      case MD_TEXT_ENTITY:
        append_entity(line_for_append(), piece);
        break;
      case MD_TEXT_CODE:
        if (code_block_) {
          code_block_text(piece);
        } else {
          if (!code_span_open_) open_code_span(data);
          append(piece);
        }
        break;
      default:
        append(piece);
        break;
    }
  }

  // md4c hands a code block over in pieces, each line's end as a "\n" of its own.
  void code_block_text(std::string_view piece) {
    for (std::size_t newline = piece.find('\n'); newline != npos; newline = piece.find('\n')) {
      code_line_.append(piece.substr(0, newline));
      push_code_line();
      piece.remove_prefix(newline + 1);
    }
    code_line_.append(piece);
  }

  // Where `data` lies in the document, or npos for text md4c made up (line breaks, spaces).
  std::size_t doc_offset(const char* data, std::size_t size) const noexcept {
    const auto address = reinterpret_cast<std::uintptr_t>(data);
    const auto begin = reinterpret_cast<std::uintptr_t>(doc_.data());
    if (data == nullptr || address < begin || address - begin > doc_.size()) return npos;
    const std::size_t at = address - begin;
    return size <= doc_.size() - at ? at : npos;
  }

  // Follows md4c through the source: empty lines between blocks, and tables' delimiter rows.
  void note_source(MD_TEXTTYPE type, const char* data, std::size_t size) {
    const std::size_t at = doc_offset(data, size);
    if (at == npos) return;
    if (gap_pending_) {
      if (at > source_end_ && has_blank_line(doc_.substr(source_end_, at - source_end_))) {
        lines_.insert(lines_.begin() + static_cast<std::ptrdiff_t>(gap_line_), output_line{});
      }
      gap_pending_ = false;
    }
    if (type == MD_TEXT_NORMAL) check_table_rule(at);
    rule_candidate_ = false;
    source_end_ = std::max(source_end_, at + size);
  }

  void check_table_rule(std::size_t at) {
    if (rule_candidate_ && rules_.find_short && is_short_table_rule_at(doc_, at)) {
      short_rules_.push_back(at);
    }
    while (next_widened_ < rules_.widened.size() && rules_.widened[next_widened_] < at)
      ++next_widened_;
    if (next_widened_ < rules_.widened.size() && rules_.widened[next_widened_] == at) {
      widened_rule_stayed_text_ = true;
    }
  }

  // Lines.

  std::string& line_for_append() {
    if (!line_started_) start_line();
    return line_;
  }

  void append(std::string_view text) {
    if (!text.empty()) line_for_append() += text;
  }

  void start_line() {
    line_started_ = true;
    if (!in_cell_) prefix_ = line_prefix();
    for (active_style& s : styles_)
      s.stretch = open_stretch(s);
  }

  // The current line with its markers, after `text`; a fresh line follows.
  std::string finish_line(std::string text = {}) {
    if (!line_started_) return text;
    for (active_style& s : styles_)
      close_stretch(s);
    render_styles(text, line_, stretches_, marks_);
    line_.clear();
    stretches_.clear();
    line_started_ = false;
    ++line_number_;
    return text;
  }

  void end_line() {
    if (line_started_) push_line(finish_line(prefix_), false);
  }

  // md4c's soft and hard line breaks. A block's second line may be a delimiter row md4c 0.4.8
  // missed.
  void line_break() {
    if (in_cell_) {
      append(" ");
      return;
    }
    rule_candidate_ = paragraph_breaks_++ == 0;
    end_line();
  }

  // HTML.

  void flush_html() {
    if (html_.empty()) return;
    const std::string html = std::move(html_);
    html_.clear();
    render_html(html);
  }

  void render_html(std::string_view html) {
    std::size_t i = 0;
    while (i < html.size()) {
      const std::size_t stop = html.find_first_of("<&\n", i);
      if (stop == npos) {
        append(html.substr(i));
        return;
      }
      append(html.substr(i, stop - i));
      i = stop + render_html_construct(html.substr(stop));
    }
  }

  // Renders the line break, entity, comment or tag `html` starts with; returns its length (> 0).
  std::size_t render_html_construct(std::string_view html) {
    if (html.front() == '\n') {
      html_break();
      return 1;
    }
    if (html.front() == '&') {
      std::string decoded;
      const std::size_t end = decode_entity(html, 0, decoded);
      append(end == npos ? "&" : decoded);
      return end == npos ? 1 : end;
    }
    if (html.starts_with("<!--")) {
      const std::size_t end = html.find("-->", 4);
      return end == npos ? html.size() : end + 3;  // a comment shows nothing
    }
    const tag_token tag = read_tag(html);
    const html_tag* known = tag.length == 0 ? nullptr : find_html_tag(tag.name);
    if (known == nullptr) {
      append("<");  // not a tag we know: probably text
      return 1;
    }
    apply_tag(tag, *known);
    return tag.length;
  }

  void apply_tag(const tag_token& tag, const html_tag& known) {
    switch (known.role) {
      case tag_role::text:
        html_markup(tag.closing ? known.close : known.open);
        break;
      case tag_role::bold:
      case tag_role::italic:
      case tag_role::strike: {
        const style kind = known.role == tag_role::bold     ? style::bold
                           : known.role == tag_role::italic ? style::italic
                                                            : style::strike;
        if (tag.closing) {
          pop_style(kind, true, {});
        } else {
          push_style(kind, true, {});  // no fallback: a tag shows nothing
        }
        break;
      }
      case tag_role::link:
        if (tag.closing) {
          end_link();
        } else {
          begin_link(std::string(tag_attribute(tag.attributes, "href")));
        }
        break;
      case tag_role::image:
        if (!tag.closing) {
          begin_link(std::string(tag_attribute(tag.attributes, "src")));
          append(tag_attribute(tag.attributes, "alt"));
          end_link();
        }
        break;
    }
  }

  void html_markup(std::string_view text) {
    for (std::size_t newline = text.find('\n'); newline != npos; newline = text.find('\n')) {
      append(text.substr(0, newline));
      html_break();
      text.remove_prefix(newline + 1);
    }
    append(text);
  }

  // A line break from HTML: with nothing on the line it makes an empty line, as two <br> would.
  void html_break() {
    if (in_cell_) {
      append(" ");
    } else if (line_started_) {
      end_line();
    } else {
      push_line({}, false);
    }
  }

  std::string_view doc_;
  rule_check rules_;
  std::exception_ptr failure_;
  std::vector<output_line> lines_;

  // Blocks.
  std::vector<container> containers_;
  std::size_t new_containers_ = 0;  // containers_ from here on were entered since the last line
  std::vector<list_counter> lists_;
  bool code_block_ = false;
  std::string code_line_;
  bool table_head_ = false;
  bool in_cell_ = false;
  std::size_t table_rows_ = 0;
  std::vector<std::string> labels_;
  std::vector<std::string> cells_;

  // The line being built.
  std::string line_;
  std::string prefix_;
  bool line_started_ = false;
  std::size_t line_number_ = 0;
  std::vector<stretch> stretches_;
  std::vector<mark> marks_;
  std::vector<active_style> styles_;
  std::array<std::size_t, 6> nested_styles_{};  // per style and origin
  std::vector<open_link> links_;
  std::size_t url_budget_;  // bytes of md4c link urls still to be shown
  std::string html_;
  std::string_view code_ticks_;
  bool code_padded_ = false;
  bool code_span_open_ = false;

  // Where md4c is in the source.
  std::size_t source_end_ = 0;
  bool gap_pending_ = false;
  std::size_t gap_line_ = 0;
  std::size_t paragraph_breaks_ = 0;
  bool rule_candidate_ = false;
  std::vector<std::size_t> short_rules_;
  std::size_t next_widened_ = 0;
  bool widened_rule_stayed_text_ = false;
};

// Reads the document with md4c, and once more with short delimiter rows widened when it has any.
std::vector<output_line> render_document(std::string_view doc) {
  renderer first(doc, {true, {}});
  first.run();
  if (first.short_rules().empty()) return std::move(first.lines());
  std::vector<std::size_t> widened_rows;
  const std::string widened = widen_table_rules(doc, first.short_rules(), widened_rows);
  renderer second(widened, {false, widened_rows});
  second.run();
  // A widened row md4c still reads as text would show the added dashes: keep the first reading.
  if (second.widened_rule_stayed_text()) return std::move(first.lines());
  return std::move(second.lines());
}

// Joins the lines: other than code lines they are split at the newlines an entity put in them,
// right-trimmed, and runs of empty lines collapsed; empty lines at both ends are dropped.
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
      const std::string_view piece = trim_right(rest.substr(0, newline));
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

// The shortcut. Many answers are prose without any Markdown syntax; such an answer reads as
// paragraphs only, and md4c's output for it is its lines trimmed.

// Bytes that start inline syntax (and control bytes such as NUL and CR, left to md4c too).
constexpr std::array<bool, 256> inline_syntax = [] {
  std::array<bool, 256> bytes{};
  for (std::size_t c = 0; c < 0x20; ++c)
    bytes[c] = c != '\t' && c != '\n';
  bytes[0x7F] = true;
  for (const char c : std::string_view("\\`*_~[<&|"))
    bytes[static_cast<unsigned char>(c)] = true;
  return bytes;
}();

// Whether a line's first non-blank byte, at pos, starts a block other than a paragraph: a
// heading, quote, list item, rule or setext underline.
bool starts_block(std::string_view text, std::size_t pos) noexcept {
  const char c = text[pos];
  if (c == '#' || c == '>' || c == '-' || c == '+' || c == '=') return true;
  std::size_t end = pos;
  while (end < text.size() && is_digit(text[end]))
    ++end;
  return end > pos && end < text.size() && (text[end] == '.' || text[end] == ')');  // "1." "12)"
}

bool is_plain(std::string_view text) noexcept {
  for (const char c : text) {
    if (inline_syntax[static_cast<unsigned char>(c)]) return false;
  }
  for (std::size_t start = 0; start < text.size();) {
    while (start < text.size() && is_space_or_tab(text[start]))
      ++start;
    if (start < text.size() && starts_block(text, start)) return false;
    const std::size_t newline = text.find('\n', start);
    if (newline == npos) break;
    start = newline + 1;
  }
  return true;
}

// What the parse makes of plain text: each line trimmed, runs of empty lines collapsed to one,
// empty lines at both ends dropped.
std::string tidy_plain(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool blank_pending = false;
  for (std::size_t start = 0; start <= text.size();) {
    std::size_t end = text.find('\n', start);
    if (end == npos) end = text.size();
    const std::string_view line = trim(text.substr(start, end - start));
    if (line.empty()) {
      blank_pending = !out.empty();
    } else {
      if (!out.empty()) out += blank_pending ? "\n\n" : "\n";
      out += line;
      blank_pending = false;
    }
    start = end + 1;
  }
  return out;
}

// The longest answer md4c reads; longer ones are only tidied. An AI answer is a few KB, and this
// bounds the time md4c 0.4.8 takes on what is left of its super-linear cases (md4c issue #236).
constexpr std::size_t max_markdown_bytes = 32 * 1024;

std::string convert(std::string_view markdown, bool shortcut) {
  if ((shortcut && is_plain(markdown)) || markdown.size() > max_markdown_bytes) {
    return tidy_plain(markdown);
  }
  const md4c_input input(markdown);
  if (!input.usable()) return tidy_plain(markdown);
  std::string out = assemble(render_document(input.text()), markdown.size());
  input.restore(out);
  return out;
}

}  // namespace

std::string to_whatsapp(std::string_view markdown) {
  return convert(markdown, true);
}

namespace detail {

std::string to_whatsapp_without_shortcuts(std::string_view markdown) {
  return convert(markdown, false);
}

}  // namespace detail

}  // namespace bridge::webhook::format
