#include "webhook/format/html_text.hpp"

#include <array>

#include "webhook/util/ascii.hpp"

namespace bridge::webhook::format {
namespace {

using util::equals_ci;
using util::is_alnum;
using util::is_alpha;
using util::is_digit;
using util::is_space;
using util::to_lower;

constexpr std::size_t npos = std::string_view::npos;

void append_utf8(std::string& out, std::uint32_t cp) {
  // NUL, surrogates and values beyond Unicode become U+FFFD, as CommonMark asks.
  if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    out += replacement_character;
  } else if (cp < 0x80) {
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

// `&#NNN;` or `&#xHH;` starting at text[pos] == '&' into `out`; the position after it, or npos.
std::size_t decode_numeric_entity(std::string_view text, std::size_t pos, std::string& out) {
  std::size_t i = pos + 2;
  const bool hex = i < text.size() && (text[i] == 'x' || text[i] == 'X');
  if (hex) ++i;
  const std::size_t digits_start = i;
  std::uint32_t value = 0;
  // CommonMark's limits (7 decimal, 6 hex digits) also keep the value from overflowing.
  for (; i < text.size() && i - digits_start < (hex ? 6u : 7u); ++i) {
    const char c = to_lower(text[i]);
    if (is_digit(c)) {
      value = value * (hex ? 16u : 10u) + static_cast<std::uint32_t>(c - '0');
    } else if (hex && c >= 'a' && c <= 'f') {
      value = value * 16u + static_cast<std::uint32_t>(c - 'a' + 10);
    } else {
      break;
    }
  }
  if (i == digits_start || i >= text.size() || text[i] != ';') return npos;
  append_utf8(out, value);
  return i + 1;
}

}  // namespace

std::size_t decode_entity(std::string_view text, std::size_t pos, std::string& out) {
  if (pos + 1 < text.size() && text[pos + 1] == '#') return decode_numeric_entity(text, pos, out);
  // No name we know is longer than this; looking no further keeps a run of '&' linear.
  constexpr std::size_t longest_name = 8;
  const std::size_t length = text.substr(pos + 1, longest_name + 1).find(';');
  if (length == npos) return npos;
  const std::string_view name = text.substr(pos + 1, length);
  const std::size_t semicolon = pos + 1 + length;
  for (const named_entity& entity : named_entities) {
    if (entity.name == name) {
      out += entity.text;
      return semicolon + 1;
    }
  }
  return npos;
}

void append_entity(std::string& out, std::string_view entity) {
  if (decode_entity(entity, 0, out) != entity.size()) out += entity;
}

namespace {

// The tags AI answers use; any other tag stays as written, as it is probably text ("<name>").
constexpr std::array<html_tag, 61> html_tags = {{
    {"br", tag_role::text, "\n", "\n"},
    {"b", tag_role::bold, "", ""},
    {"strong", tag_role::bold, "", ""},
    {"i", tag_role::italic, "", ""},
    {"em", tag_role::italic, "", ""},
    {"s", tag_role::strike, "", ""},
    {"strike", tag_role::strike, "", ""},
    {"del", tag_role::strike, "", ""},
    {"code", tag_role::text, "`", "`"},
    {"tt", tag_role::text, "`", "`"},
    {"kbd", tag_role::text, "`", "`"},
    {"li", tag_role::text, "\n- ", ""},
    {"p", tag_role::text, "\n", "\n"},
    {"div", tag_role::text, "\n", "\n"},
    {"ul", tag_role::text, "", "\n"},
    {"ol", tag_role::text, "", "\n"},
    {"table", tag_role::text, "\n", "\n"},
    {"tr", tag_role::text, "\n", "\n"},
    {"td", tag_role::text, "", " "},
    {"th", tag_role::text, "", " "},
    {"thead", tag_role::text, "", ""},
    {"tbody", tag_role::text, "", ""},
    {"tfoot", tag_role::text, "", ""},
    {"blockquote", tag_role::text, "\n", "\n"},
    {"pre", tag_role::text, "\n", "\n"},
    {"section", tag_role::text, "\n", "\n"},
    {"article", tag_role::text, "\n", "\n"},
    {"header", tag_role::text, "\n", "\n"},
    {"footer", tag_role::text, "\n", "\n"},
    {"h1", tag_role::text, "\n", "\n"},
    {"h2", tag_role::text, "\n", "\n"},
    {"h3", tag_role::text, "\n", "\n"},
    {"h4", tag_role::text, "\n", "\n"},
    {"h5", tag_role::text, "\n", "\n"},
    {"h6", tag_role::text, "\n", "\n"},
    {"hr", tag_role::text, "\n", "\n"},
    {"dl", tag_role::text, "\n", "\n"},
    {"dt", tag_role::text, "\n", ""},
    {"dd", tag_role::text, "\n", ""},
    {"span", tag_role::text, "", ""},
    {"u", tag_role::text, "", ""},
    {"ins", tag_role::text, "", ""},
    {"mark", tag_role::text, "", ""},
    {"small", tag_role::text, "", ""},
    {"big", tag_role::text, "", ""},
    {"sup", tag_role::text, "", ""},
    {"sub", tag_role::text, "", ""},
    {"font", tag_role::text, "", ""},
    {"center", tag_role::text, "\n", "\n"},
    {"abbr", tag_role::text, "", ""},
    {"cite", tag_role::text, "", ""},
    {"q", tag_role::text, "\"", "\""},
    {"label", tag_role::text, "", ""},
    {"nav", tag_role::text, "\n", "\n"},
    {"main", tag_role::text, "\n", "\n"},
    {"figure", tag_role::text, "\n", "\n"},
    {"figcaption", tag_role::text, "\n", ""},
    {"caption", tag_role::text, "\n", "\n"},
    {"a", tag_role::link, "", ""},
    {"img", tag_role::image, "", ""},
    {"wbr", tag_role::text, "", ""},
}};

}  // namespace

const html_tag* find_html_tag(std::string_view name) noexcept {
  for (const html_tag& tag : html_tags) {
    if (equals_ci(name, tag.name)) return &tag;
  }
  return nullptr;
}

tag_token read_tag(std::string_view html) noexcept {
  tag_token tag;
  std::size_t i = 1;
  tag.closing = i < html.size() && html[i] == '/';
  if (tag.closing) ++i;
  const std::size_t name_start = i;
  if (i >= html.size() || !is_alpha(html[i])) return tag;
  while (i < html.size() && (is_alnum(html[i]) || html[i] == '-'))
    ++i;
  if (i < html.size() && !is_space(html[i]) && html[i] != '/' && html[i] != '>') return tag;
  const std::size_t end = html.find_first_of("<>", i);
  if (end == npos || html[end] != '>') return tag;
  tag.name = html.substr(name_start, i - name_start);
  tag.attributes = html.substr(i, end - i);
  tag.length = end + 1;
  return tag;
}

std::string_view tag_attribute(std::string_view attributes, std::string_view name) noexcept {
  for (std::size_t at = 0; at + name.size() <= attributes.size(); ++at) {
    if ((at > 0 && !is_space(attributes[at - 1])) ||
        !equals_ci(attributes.substr(at, name.size()), name)) {
      continue;
    }
    std::size_t i = at + name.size();
    while (i < attributes.size() && is_space(attributes[i]))
      ++i;
    if (i >= attributes.size() || attributes[i] != '=') continue;
    ++i;
    while (i < attributes.size() && is_space(attributes[i]))
      ++i;
    if (i >= attributes.size()) return {};
    if (attributes[i] == '"' || attributes[i] == '\'') {
      const std::size_t close = attributes.find(attributes[i], i + 1);
      return close == npos ? std::string_view() : attributes.substr(i + 1, close - i - 1);
    }
    std::size_t end = i;
    while (end < attributes.size() && !is_space(attributes[end]))
      ++end;
    return attributes.substr(i, end - i);
  }
  return {};
}

}  // namespace bridge::webhook::format
