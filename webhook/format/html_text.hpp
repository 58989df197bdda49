#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

// The HTML inside Markdown answers, as far as WhatsApp can show it: entities, and the tags worth
// rendering. md4c finds both (entities, inline tags, HTML blocks) and hands them over as written.
namespace bridge::webhook::format {

// U+FFFD in UTF-8: what a NUL byte or an impossible numeric entity becomes.
inline constexpr std::string_view replacement_character = "\xEF\xBF\xBD";

// Decodes the entity starting at text[pos] == '&' (`&#NNN;`, `&#xHH;`, or one of the ~30 named
// entities AI answers use, `&nbsp;` as a plain space) onto `out`; returns the position after it, or
// std::string_view::npos with `out` untouched when there is none there. Throws std::bad_alloc only.
std::size_t decode_entity(std::string_view text, std::size_t pos, std::string& out);

// Appends `entity` (as md4c reports one) to `out`, decoded when decode_entity knows it, else as
// written. Throws std::bad_alloc only.
void append_entity(std::string& out, std::string_view entity);

// What a tag does on WhatsApp: show text, switch a style on and off, make a link, show an image.
enum class tag_role : std::uint8_t { text, bold, italic, strike, link, image };

// A tag worth rendering.
struct html_tag {
  std::string_view name;
  tag_role role;
  std::string_view open;  // text tags: what the opening and closing tags show; '\n' ends a line
  std::string_view close;
};

// The tag called `name` (in any case), or nullptr for a tag that is probably text. Never throws.
const html_tag* find_html_tag(std::string_view name) noexcept;

// `<name attributes>`, `</name>` or `<name/>` at the start of some raw HTML.
struct tag_token {
  std::size_t length = 0;  // 0: no tag there
  bool closing = false;
  std::string_view name;
  std::string_view attributes;
};

// Reads the tag `html` starts with. Never throws.
tag_token read_tag(std::string_view html) noexcept;

// The value of attribute `name` (lower case) in a tag's attribute text, or empty. Never throws.
std::string_view tag_attribute(std::string_view attributes, std::string_view name) noexcept;

}  // namespace bridge::webhook::format
