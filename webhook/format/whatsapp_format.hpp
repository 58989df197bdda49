#pragma once

#include <string>
#include <string_view>

namespace bridge::webhook::format {

// Rewrites a Markdown-ish answer (as AI agents write them) in WhatsApp's own formatting, line by
// line:
//   - `# Heading` (levels 1-6)         -> `*Heading*` on its own line (bold inside is dropped)
//   - `**b**`, `__b__`, `<b>`, `<strong>` -> `*b*`;  `*i*`, `_i_`, `<i>`, `<em>` -> `_i_`;
//     `~~s~~` -> `~s~`;  `***x***` -> `*_x_*`. Markers count only where CommonMark's flanking
//     rules allow and never inside a word (`*` may touch emoji and other non-ASCII text), so
//     `user_id`, `__init__.py`, `2*3*4` and `5 * 6` stay as they are; a single `~` stays as it is
//   - `[text](url)` -> `text (url)`, or just `url` when the text is the url; `![alt](url)` ->
//     `alt (url)`; `<https://…>` -> the url; `mailto:`/`tel:` prefixes are not shown; bare URLs,
//     link targets and code are copied verbatim (no emphasis, no entity decoding inside them)
//   - fenced code (``` or ~~~, any language tag, closed at the end if left open) -> "```\n…\n```"
//     with the lines untouched; inline code spans untouched; `\*` and other escapes -> the
//     character
//   - a table (`| a | b |` over a `|---|---|` row) -> one line per data row,
//     `a: value, b: value` (empty cells left out, headers over 40 bytes not repeated); the
//     separator row is dropped
//   - `* item` / `+ item` -> `- item`; `1. item` and `> quote` kept (nested `>>` become one `>`);
//     `---`, `***`, `___` -> an empty line
//   - HTML entities (`&amp;` `&lt;` `&gt;` `&quot;` `&#39;` `&nbsp;` (a plain space), a few more
//     named ones, `&#NNN;`, `&#xHH;`) decoded; `<br>` -> newline, `<a href=u>t</a>` -> `t (u)`,
//     other known HTML tags removed (unknown `<words>` are kept: they are probably text)
//   - trailing whitespace trimmed, runs of blank lines collapsed to one, blank lines at the start
//     and end removed (inside code blocks nothing is touched)
// Emoji, right-to-left scripts and invalid UTF-8 pass through byte for byte. Runs in time linear
// in the input. Never throws except std::bad_alloc.
std::string to_whatsapp(std::string_view markdown);

namespace detail {

// to_whatsapp with its shortcuts switched off: every byte of every line goes through the full
// inline converter instead of plain lines and plain runs being copied whole. The output is the
// same; this exists so the tests can hold the fast path to it.
std::string to_whatsapp_without_shortcuts(std::string_view markdown);

}  // namespace detail

}  // namespace bridge::webhook::format
