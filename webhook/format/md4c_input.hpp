#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// What md4c 0.4.8 (Debian 12's libmd4c) is given to read. Bugs of that version, fixed upstream
// since, are worked around here on the text itself, so that whatsapp_format.cpp renders what md4c
// reports and md4c's time stays linear. With md4c >= 0.5.3 most of this unit can go.
namespace bridge::webhook::format {

// An answer with some syntax bytes swapped for bytes that are not UTF-8 (and not taken by the
// answer), so that md4c reads them as text; restore() swaps them back in the converted text.
// Swapped are:
//   - '*', '_' and '~' inside bare URLs ("http://", "https://", "www." at the start of a word, up
//     to whitespace or '<', minus trailing punctuation) and inline link destinations ("](" up to
//     whitespace or the closing parenthesis). To WhatsApp a URL is text, but CommonMark reads those
//     bytes in one as emphasis; and md4c 0.4.8 lets delimiters inside a URL (permissive autolinks,
//     md4c issue #294) or a link destination (`[a](/x~y) ~z~`, issue #222) pair with ones outside
//     it, leaving a span it never entered (or the reverse) and losing a delimiter. A bracket-paren
//     pair that is no link keeps its delimiters literal; that is the price.
//   - '[' nested deeper than 8 in a paragraph: md4c 0.4.8 looks up every bracket pair over all of
//     its text, so nested pairs cost quadratic time (issue #172); no link nests that deep.
//   - the '|' of a table delimiter row with more than 64 columns: md4c reports every column of
//     every row, so such a table costs rows times columns; no chat table is that wide.
class md4c_input {
 public:
  // Prepares `markdown`, which must outlive this. Throws std::bad_alloc only.
  explicit md4c_input(std::string_view markdown);

  // False when md4c should not read the answer at all: it holds so many of the bytes that are not
  // UTF-8 that none is left to stand in for syntax it needs swapped.
  bool usable() const noexcept { return usable_; }

  // The text md4c should read: the answer itself, or its swapped copy.
  std::string_view text() const noexcept { return text_; }

  // Puts the swapped bytes back into text converted from text(). Never throws.
  void restore(std::string& converted) const noexcept;

 private:
  enum swapped : std::size_t { star, underscore, tilde, bracket, pipe_byte, swapped_count };

  void guard_urls();
  void guard_bare_url(std::size_t begin, std::size_t& end);
  void guard_delimiters(std::size_t begin, std::size_t end);
  void guard_deep_brackets();
  void guard_wide_tables();
  bool swap(std::size_t at, swapped what);

  std::string_view text_;
  std::string copy_;
  std::array<char, swapped_count> stand_ins_{};
  bool usable_ = true;
};

// Whether the line starting at text[pos] is a GFM table delimiter row with a column narrower than
// three bytes (`--|--`, `|:-|-:|`). md4c 0.4.8 wants three (md4c issue #169, fixed in 0.5.0) and
// reads such a table as a paragraph. Never throws.
bool is_short_table_rule_at(std::string_view text, std::size_t pos) noexcept;

// `text` with the short delimiter rows starting at `rows` (ascending offsets) widened to three
// bytes a column; `moved_rows` receives where each of them starts in the result. Throws
// std::bad_alloc only.
std::string widen_table_rules(std::string_view text, std::span<const std::size_t> rows,
                              std::vector<std::size_t>& moved_rows);

}  // namespace bridge::webhook::format
