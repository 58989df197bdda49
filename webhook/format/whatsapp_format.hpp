#pragma once

#include <string>
#include <string_view>

namespace bridge::webhook::format {

// Rewrites a Markdown answer (CommonMark 0.30 with GFM tables and strikethrough, read by md4c) in
// WhatsApp's own formatting:
//   - a heading (`# x`, `x` over `===`)  -> `*x*` on its own line (bold inside is dropped)
//   - strong (`**b**`, `__b__`, `<b>`, `<strong>`) -> `*b*`; emphasis (`*i*`, `_i_`, `<i>`, `<em>`)
//     -> `_i_`; strikethrough (`~~s~~`, `~s~`, `<del>`) -> `~s~`; nested spans keep CommonMark's
//     nesting (`***x***` is emphasis around strong: `_*x*_`). WhatsApp formats only where a marker
//     does not touch a letter or digit outside it, so a span that would (`2*3*4`, `a*b*c`) keeps
//     the Markdown delimiters it was written with, and spans over a line break are closed and
//     reopened on each line
//   - `[text](url)` -> `text (url)`, or just the url when the text is empty or names it;
//     `![alt](url)` -> `alt (url)`; `<https://…>` -> the url; `mailto:`/`tel:` prefixes are not
//     shown; links to `#fragments` keep only their text; bare URLs (`http://`, `https://`, `www.`)
//     are text, so `*`, `_` and `~` inside them stay as they are
//   - fenced code (any language tag, closed at the end if left open) -> "```\n…\n```" with the
//   lines
//     untouched; inline code keeps its backticks; `\*` and other escapes -> the character
//   - a table -> one line per body row, `a: value, b: value` (empty cells left out, headers over 40
//     bytes not repeated); a table without body rows -> its header cells, comma separated
//   - list items -> `- item` or `N. item` (numbered from the list's start), nested items indented
//     under their parent's text; block quotes -> `> ` before each line (nested ones too: one `>`);
//     thematic breaks -> an empty line; indented text is not code
//   - HTML entities decoded (`&nbsp;` as a plain space; named ones beyond the ~30 AI answers use
//     stay as written); raw HTML: `<br>` and block tags -> line breaks, `<li>` -> `- `,
//     `<a href=u>t</a>` -> `t (u)`, comments and other known tags removed, unknown tags kept;
//     Markdown inside an HTML block is not read (as CommonMark has it)
//   - blocks are separated by an empty line where the answer had one, trailing whitespace is
//     trimmed, runs of empty lines collapse to one and empty lines at both ends are dropped (inside
//     code blocks nothing is touched)
// An answer over 32 KiB (or one so full of bytes that are not UTF-8 that md4c cannot be given it)
// is only tidied: lines trimmed, empty lines collapsed. Emoji, right-to-left scripts and invalid
// UTF-8 pass through byte for byte. Runs in time linear in the input, and the output stays in
// proportion to it. Never throws except std::bad_alloc.
std::string to_whatsapp(std::string_view markdown);

namespace detail {

// to_whatsapp without its shortcut: an answer without any Markdown syntax is parsed too instead of
// only having its lines trimmed. The output is the same; this exists so the tests can hold the
// shortcut to it.
std::string to_whatsapp_without_shortcuts(std::string_view markdown);

}  // namespace detail

}  // namespace bridge::webhook::format
