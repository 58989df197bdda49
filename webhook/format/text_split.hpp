#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bridge::webhook::format {

// Longest text body Meta accepts. Meta documents "4096 characters" without saying how it counts;
// we count UTF-16 code units, which is never less than the number of code points (a character
// beyond U+FFFF is one code point but two units), so a part within 4096 units is within 4096
// characters however Meta counts.
inline constexpr std::size_t max_text_units = 4096;

// Splits `text` into parts of at most `max_units` UTF-16 code units each, in order. Text that fits
// is returned unchanged as one part; empty or whitespace-only text gives no parts. Otherwise each
// cut goes at the last paragraph break ("\n\n"), else line break, else sentence end (". ", "! ",
// "? ", "。", "！", "？"), else space in the window — a kind is used only when its break falls in
// the second half of the window (so a heading does not become a message of its own), failing that
// the latest break of any kind, and only when there is none a hard cut, which never splits a UTF-8
// sequence. Whitespace at a cut is dropped, so no part begins or ends with it and none is empty.
// Never cut: a URL ("http://", "https://" or "www." up to whitespace) or a code block (from a run
// of three or more backticks to the next such run) that fits in one part; such a span moves whole
// to the next part instead. A code block too long for one part is cut between its lines (a line
// too long alone at its last space, else anywhere) and every piece is wrapped in its own fences
// (the opening line with its language tag, or a bare ``` when that line is too long, and a closing
// ```), counted in the limit; below a limit of 10 there is no room for fences and it
// is split like text. A URL longer than the limit is hard-cut as a last resort. A single
// character wider than `max_units` (an emoji with a limit of 1) is a part of its own; a limit of 0
// counts as 1. Throws std::bad_alloc only.
std::vector<std::string> split_text(std::string_view text, std::size_t max_units = max_text_units);

}  // namespace bridge::webhook::format
