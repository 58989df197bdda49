#include "webhook/format/text_split.hpp"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cctype>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "webhook/util/utf8.hpp"

namespace {

using namespace bridge::webhook::format;
using namespace bridge::webhook::util;

const std::string e_acute = "\xC3\xA9";           // é: 2 bytes, 1 unit
const std::string han = "\xE4\xB8\xAD";           // 中: 3 bytes, 1 unit
const std::string cjk_stop = "\xE3\x80\x82";      // 。
const std::string grinning = "\xF0\x9F\x98\x80";  // 😀: 4 bytes, 2 units

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_valid_utf8(const std::string& text) {
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t length = utf8_sequence_length(text, pos);
    if (length == 0) return false;
    pos += length;
  }
  return true;
}

std::string repeat(const std::string& piece, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i)
    out += piece;
  return out;
}

// Where each part was found in the input: [first, second).
using ranges = std::vector<std::pair<std::size_t, std::size_t>>;

// Requires the invariants every split must keep; returns where each part lies in the input.
ranges check_split(const std::string& input, std::size_t limit,
                   const std::vector<std::string>& parts) {
  ranges found;
  const std::size_t effective = std::max<std::size_t>(limit, 1);
  bool blank = true;
  for (const char c : input)
    blank = blank && is_space(c);
  if (blank) {
    BOOST_TEST_REQUIRE(parts.empty());
    return found;
  }
  if (utf16_length(input) <= effective) {
    BOOST_TEST_REQUIRE(parts.size() == 1u);
    BOOST_TEST_REQUIRE(parts[0] == input);
    found.emplace_back(0, input.size());
    return found;
  }
  // Each part is the next stretch of the input, separated from the previous by whitespace only.
  const bool valid = is_valid_utf8(input);
  std::vector<bool> boundary(input.size() + 1, false);  // where a character (or stray byte) starts
  for (std::size_t at = 0; at < input.size();) {
    boundary[at] = true;
    at += std::max<std::size_t>(utf8_sequence_length(input, at), 1);
  }
  boundary[input.size()] = true;
  std::size_t pos = 0;
  for (const std::string& part : parts) {
    BOOST_TEST_REQUIRE(!part.empty());
    BOOST_TEST_REQUIRE(!is_space(part.front()));
    BOOST_TEST_REQUIRE(!is_space(part.back()));
    const std::size_t units = utf16_length(part);
    const bool single_wide_char = utf8_sequence_length(part, 0) == part.size() && units > effective;
    BOOST_TEST_REQUIRE((units <= effective || single_wide_char), "part of " << units << " units");
    while (pos < input.size() && is_space(input[pos]))
      ++pos;
    BOOST_TEST_REQUIRE(input.compare(pos, part.size(), part) == 0);
    // Cuts never fall inside a well-formed UTF-8 sequence.
    BOOST_TEST_REQUIRE(boundary[pos]);
    BOOST_TEST_REQUIRE(boundary[pos + part.size()]);
    if (valid) BOOST_TEST_REQUIRE(is_valid_utf8(part));
    found.emplace_back(pos, pos + part.size());
    pos += part.size();
  }
  while (pos < input.size() && is_space(input[pos]))
    ++pos;
  BOOST_TEST_REQUIRE(pos == input.size());
  return found;
}

std::vector<std::string> checked_split(const std::string& input, std::size_t limit) {
  std::vector<std::string> parts = split_text(input, limit);
  check_split(input, limit, parts);
  return parts;
}

// An independent reading of what split_text promises to keep whole.
using span = std::pair<std::size_t, std::size_t>;

std::size_t count_of(const std::string& haystack, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size()))
    ++count;
  return count;
}

// Code blocks: a run of three or more backticks to the next such run.
std::vector<span> code_blocks_in(const std::string& text) {
  std::vector<span> blocks;
  std::size_t open = std::string::npos;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] != '`') {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && text[end] == '`')
      ++end;
    if (end - i >= 3) {
      if (open == std::string::npos) {
        open = i;
      } else {
        blocks.emplace_back(open, end);
        open = std::string::npos;
      }
    }
    i = end;
  }
  return blocks;
}

// URLs: "http://", "https://" or "www." (any case) not preceded by a letter or digit, to
// whitespace.
std::vector<span> urls_in(const std::string& text) {
  std::vector<span> urls;
  std::string lower = text;
  for (char& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i > 0 && std::isalnum(static_cast<unsigned char>(text[i - 1]))) continue;
    if (lower.compare(i, 7, "http://") != 0 && lower.compare(i, 8, "https://") != 0 &&
        lower.compare(i, 4, "www.") != 0) {
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && !is_space(text[end]))
      ++end;
    urls.emplace_back(i, end);
    i = end;
  }
  return urls;
}

std::size_t units_of(const std::string& text, span where) {
  return utf16_length(std::string_view(text).substr(where.first, where.second - where.first));
}

// No part starts or ends strictly inside a span that fits in one part.
void check_spans_kept_whole(const std::string& input, std::size_t limit, const ranges& parts,
                            const std::vector<span>& spans) {
  std::vector<std::size_t> boundaries;
  for (const auto& [start, end] : parts) {
    boundaries.push_back(start);
    boundaries.push_back(end);
  }
  std::sort(boundaries.begin(), boundaries.end());
  for (const span& kept : spans) {
    if (units_of(input, kept) > std::max<std::size_t>(limit, 1)) continue;
    const auto inside = std::upper_bound(boundaries.begin(), boundaries.end(), kept.first);
    if (inside != boundaries.end() && *inside < kept.second) {
      BOOST_TEST_REQUIRE(false, "a part starts or ends inside "
                                    << input.substr(kept.first, kept.second - kept.first));
    }
  }
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  lines.push_back(text.substr(start));
  return lines;
}

std::string trimmed(const std::string& text) {
  std::size_t start = 0;
  std::size_t end = text.size();
  while (start < end && is_space(text[start]))
    ++start;
  while (end > start && is_space(text[end - 1]))
    --end;
  return text.substr(start, end - start);
}

// The text without fence lines (and the "py" tag a bare fence may push into the code) and without
// whitespace: what a split that re-fences code blocks must keep.
std::string without_fences(const std::string& text) {
  std::string out;
  for (const std::string& line : lines_of(text)) {
    const std::string bare = trimmed(line);
    if (bare.starts_with("```") || bare == "py") continue;
    for (const char c : line) {
      if (!is_space(c)) out += c;
    }
  }
  return out;
}

// The lines inside code blocks, in order: of the input's blocks, or of fenced stretches of parts.
std::vector<std::string> code_lines_of_input(const std::string& text) {
  std::vector<std::string> lines;
  for (const span& block : code_blocks_in(text)) {
    const std::string inside = text.substr(block.first, block.second - block.first);
    const std::size_t first_newline = inside.find('\n');
    const std::size_t closing = inside.rfind('\n');
    if (first_newline == closing) continue;
    for (std::string& line :
         lines_of(inside.substr(first_newline + 1, closing - first_newline - 1)))
      lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<std::string> code_lines_of_parts(const std::vector<std::string>& parts) {
  std::vector<std::string> lines;
  for (const std::string& part : parts) {
    bool inside = false;
    for (std::string& line : lines_of(part)) {
      if (line.starts_with("```")) {
        inside = !inside;
      } else if (inside) {
        lines.push_back(std::move(line));
      }
    }
    BOOST_TEST_REQUIRE(!inside, "a part leaves a code block open: " << part);
  }
  return lines;
}

std::size_t fence_runs(const std::string& text) {
  std::size_t runs = 0;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t end = i;
    while (end < text.size() && text[end] == '`')
      ++end;
    if (end - i >= 3) ++runs;
    i = std::max(end, i + 1);
  }
  return runs;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& part : parts) {
    if (!out.empty()) out += '\n';
    out += part;
  }
  return out;
}

// Every promise of split_text about URLs and code blocks, for any input and limit. Returns whether
// a code block had to be re-fenced.
bool check_split_keeps_urls_and_code(const std::string& input, std::size_t limit) {
  const std::size_t effective = std::max<std::size_t>(limit, 1);
  const std::vector<std::string> parts = split_text(input, limit);
  const std::vector<span> blocks = code_blocks_in(input);
  bool oversized = false;
  for (const span& block : blocks)
    oversized = oversized || units_of(input, block) > effective;
  // Below 10 units there is no room for fences: code is split as text.
  const bool refenced = oversized && effective >= 10;
  if (!refenced) {
    const ranges found = check_split(input, limit, parts);
    check_spans_kept_whole(input, limit, found, urls_in(input));
    check_spans_kept_whole(input, limit, found, blocks);
  } else {
    for (const std::string& part : parts) {
      BOOST_TEST_REQUIRE(!part.empty());
      BOOST_TEST_REQUIRE(!is_space(part.front()));
      BOOST_TEST_REQUIRE(!is_space(part.back()));
      BOOST_TEST_REQUIRE(utf16_length(part) <= effective, "part of " << utf16_length(part));
      BOOST_TEST_REQUIRE(is_valid_utf8(part));
    }
    const std::string joined = join(parts);
    BOOST_TEST_REQUIRE(without_fences(joined) == without_fences(input));
    // With room for every code line (at most 30 units here) the lines arrive whole and in order.
    if (effective >= 40)
      BOOST_TEST_REQUIRE(code_lines_of_parts(parts) == code_lines_of_input(input));
    for (const span& url : urls_in(input)) {
      bool in_code = false;
      for (const span& block : blocks)
        in_code = in_code || (block.first < url.first && url.second <= block.second);
      // Inside a re-fenced block a URL is safe when it fits the lines' budget (limit - 10).
      if (units_of(input, url) > effective || (in_code && units_of(input, url) + 10 > effective)) {
        continue;
      }
      const std::string text = input.substr(url.first, url.second - url.first);
      BOOST_TEST_REQUIRE(count_of(joined, text) >= count_of(input, text), "URL cut: " << text);
    }
  }
  if (effective >= 10) {
    for (const std::string& part : parts)
      BOOST_TEST_REQUIRE(fence_runs(part) % 2 == 0u, "unbalanced fences in " << part);
  }
  return refenced;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(text_split)

BOOST_AUTO_TEST_CASE(utf16_lengths) {
  BOOST_TEST(utf16_length("") == 0u);
  BOOST_TEST(utf16_length("abc") == 3u);
  BOOST_TEST(utf16_length(e_acute) == 1u);
  BOOST_TEST(utf16_length(han) == 1u);
  BOOST_TEST(utf16_length(grinning) == 2u);
  BOOST_TEST(utf16_length("a" + e_acute + han + grinning) == 5u);
  BOOST_TEST(utf16_length("\xFF") == 1u);                  // invalid byte
  BOOST_TEST(utf16_length("\xE4\xB8") == 2u);              // truncated sequence: two bytes
  BOOST_TEST(utf16_length("\xC0\xAF") == 2u);              // overlong "/"
  BOOST_TEST(utf16_length("\xED\xA0\x80") == 3u);          // encoded surrogate
  BOOST_TEST(utf16_length("\xF4\x90\x80\x80") == 4u);      // beyond U+10FFFF
  BOOST_TEST(utf16_length("\xF0\x9F\x98") == 3u);          // truncated emoji
  BOOST_TEST(utf16_length(std::string("a\0b", 3)) == 3u);  // NUL is a character
}

BOOST_AUTO_TEST_CASE(utf16_length_matches_a_character_by_character_count) {
  // utf16_length skips ASCII eight bytes at a time: runs of every length, at every alignment, next
  // to multi-byte and invalid bytes, must count as one character at a time does.
  const std::vector<std::string> others = {e_acute, han, grinning, "\xFF", "\xE4\xB8", "\x80"};
  std::mt19937 random(20260301);
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    for (int piece = static_cast<int>(random() % 8); piece > 0; --piece) {
      text += std::string(random() % 20, static_cast<char>('a' + random() % 26));
      text += others[random() % others.size()];
    }
    text += std::string(random() % 20, 'z');
    for (std::size_t offset = 0; offset < 8 && offset <= text.size(); ++offset) {
      const std::string_view view = std::string_view(text).substr(offset);
      std::size_t expected = 0;
      for (std::size_t at = 0; at < view.size();) {
        const std::size_t length = utf8_sequence_length(view, at);
        expected += length == 4 ? 2 : 1;
        at += std::max<std::size_t>(length, 1);
      }
      BOOST_TEST_REQUIRE(utf16_length(view) == expected, "round " << round << " offset " << offset);
    }
  }
}

BOOST_AUTO_TEST_CASE(utf8_sequence_lengths) {
  BOOST_TEST(utf8_sequence_length("a", 0) == 1u);
  BOOST_TEST(utf8_sequence_length(e_acute, 0) == 2u);
  BOOST_TEST(utf8_sequence_length(e_acute, 1) == 0u);  // continuation byte
  BOOST_TEST(utf8_sequence_length(han, 0) == 3u);
  BOOST_TEST(utf8_sequence_length(grinning, 0) == 4u);
  BOOST_TEST(utf8_sequence_length("\xEF\xBF\xBF", 0) == 3u);      // U+FFFF
  BOOST_TEST(utf8_sequence_length("\xF4\x8F\xBF\xBF", 0) == 4u);  // U+10FFFF
  BOOST_TEST(utf8_sequence_length("\xE0\x80\x80", 0) == 0u);      // overlong
  BOOST_TEST(utf8_sequence_length("\xF0\x80\x80\x80", 0) == 0u);  // overlong
  BOOST_TEST(utf8_sequence_length("\xC1\xBF", 0) == 0u);          // overlong
  BOOST_TEST(utf8_sequence_length("\xF5\x80\x80\x80", 0) == 0u);
  BOOST_TEST(utf8_sequence_length("abc", 3) == 0u);  // past the end
}

BOOST_AUTO_TEST_CASE(short_text_is_unchanged) {
  BOOST_TEST(split_text("Hello") == std::vector<std::string>{"Hello"});
  BOOST_TEST(split_text("  Hello \n") == std::vector<std::string>{"  Hello \n"});
  const std::string exactly(max_text_units, 'a');
  BOOST_TEST(split_text(exactly) == std::vector<std::string>{exactly});
  const std::string emoji_limit = repeat(grinning, max_text_units / 2);
  BOOST_TEST(split_text(emoji_limit) == std::vector<std::string>{emoji_limit});
}

BOOST_AUTO_TEST_CASE(blank_text_gives_no_parts) {
  BOOST_TEST(split_text("").empty());
  BOOST_TEST(split_text(" \n\t\r\n ").empty());
  BOOST_TEST(split_text(std::string(10000, ' '), 10).empty());
}

BOOST_AUTO_TEST_CASE(paragraph_break_preferred) {
  // Sentences and lines inside each paragraph, but the paragraph break is the cut.
  const std::string paragraph_one = repeat("This is a sentence. Another one!\n", 90);  // 2970
  const std::string paragraph_two = repeat("Second paragraph text. More of it? ", 80);
  const std::string text = paragraph_one + "\n" + paragraph_two;
  const auto parts = checked_split(text, max_text_units);
  BOOST_TEST_REQUIRE(parts.size() == 2u);
  BOOST_TEST(parts[0] + "\n" == paragraph_one);
  BOOST_TEST(parts[1] + " " == paragraph_two);
}

BOOST_AUTO_TEST_CASE(crlf_paragraph_break) {
  const std::string text = repeat("word ", 30) + "end\r\n\r\n" + repeat("next ", 30);
  const auto parts = checked_split(text, 200);
  BOOST_TEST_REQUIRE(parts.size() == 2u);
  BOOST_TEST(parts[0].ends_with("end"));
}

BOOST_AUTO_TEST_CASE(line_break_preferred_over_sentence) {
  const std::string line_one = repeat("Short sentence. ", 150) + "tail";  // 2404
  const std::string text = line_one + "\n" + repeat("Line two goes on. ", 150);
  const auto parts = checked_split(text, max_text_units);
  BOOST_TEST_REQUIRE(parts.size() == 2u);
  BOOST_TEST(parts[0] == line_one);
}

BOOST_AUTO_TEST_CASE(sentence_end_preferred_over_space) {
  const std::string text = repeat("one two three four five six seven. ", 200);  // 7000
  const auto parts = checked_split(text, max_text_units);
  BOOST_TEST_REQUIRE(parts.size() == 2u);
  BOOST_TEST(parts[0].ends_with("seven."));
  BOOST_TEST(parts[0].size() > max_text_units - 40);
  for (const char* mark : {"!", "?"}) {
    const std::string shout = repeat(std::string("alpha beta gamma") + mark + " ", 500);
    const auto shouted = checked_split(shout, 1000);
    for (std::size_t i = 0; i + 1 < shouted.size(); ++i) {
      BOOST_TEST(shouted[i].ends_with(std::string("gamma") + mark));
    }
  }
}

BOOST_AUTO_TEST_CASE(cjk_sentence_end) {
  const std::string sentence = repeat(han, 9) + cjk_stop;  // 10 units, no spaces
  const std::string text = repeat(sentence, 50);
  const auto parts = checked_split(text, 25);
  BOOST_TEST_REQUIRE(parts.size() == 25u);
  for (const std::string& part : parts) {
    BOOST_TEST(part == sentence + sentence);
  }
  const std::string fullwidth =
      repeat(repeat(han, 4) + "\xEF\xBC\x81" + repeat(han, 4) + "\xEF\xBC\x9F", 20);
  for (const std::string& part : checked_split(fullwidth, 12)) {
    BOOST_TEST((part.ends_with("\xEF\xBC\x81") || part.ends_with("\xEF\xBC\x9F")));
  }
}

BOOST_AUTO_TEST_CASE(word_boundary_preferred_over_hard_cut) {
  const std::string text = repeat("lorem ipsum dolor sit amet consectetur ", 300);
  const auto parts = checked_split(text, max_text_units);
  BOOST_TEST(parts.size() == 3u);
  std::size_t pos = 0;
  for (const std::string& part : parts) {
    pos = text.find(part, pos) + part.size();
    BOOST_TEST((pos == text.size() || text[pos] == ' '));  // ends where a word ends
    BOOST_TEST((part.size() * 2 >= max_text_units || &part == &parts.back()));
  }
}

BOOST_AUTO_TEST_CASE(early_heading_does_not_become_its_own_part) {
  const std::string text = "Title\n\n" + repeat("plain words without any stops ", 300);  // 8707
  const auto parts = checked_split(text, max_text_units);
  BOOST_TEST_REQUIRE(parts.size() == 3u);
  BOOST_TEST(parts[0].starts_with("Title\n\nplain"));
  BOOST_TEST(parts[0].size() > max_text_units / 2);
}

BOOST_AUTO_TEST_CASE(only_early_break_is_still_better_than_a_hard_cut) {
  const std::string text = "Hello " + std::string(5000, 'x');
  const auto parts = checked_split(text, max_text_units);
  BOOST_TEST_REQUIRE(parts.size() == 3u);
  BOOST_TEST(parts[0] == "Hello");
  BOOST_TEST(parts[1] == std::string(max_text_units, 'x'));
}

BOOST_AUTO_TEST_CASE(hard_cut_of_a_long_word) {
  const std::string word(10000, 'x');
  const auto parts = checked_split(word, max_text_units);
  BOOST_TEST_REQUIRE(parts.size() == 3u);
  BOOST_TEST(parts[0].size() == max_text_units);
  BOOST_TEST(parts[1].size() == max_text_units);
  BOOST_TEST(parts[2].size() == 10000u - 2 * max_text_units);
}

BOOST_AUTO_TEST_CASE(multibyte_never_broken) {
  const auto accented = checked_split(repeat(e_acute, 5000), max_text_units);
  BOOST_TEST_REQUIRE(accented.size() == 2u);
  BOOST_TEST(accented[0] == repeat(e_acute, max_text_units));
  BOOST_TEST(accented[1] == repeat(e_acute, 5000 - max_text_units));

  const auto chinese = checked_split(repeat(han, 5000), max_text_units);
  BOOST_TEST_REQUIRE(chinese.size() == 2u);
  BOOST_TEST(chinese[0] == repeat(han, max_text_units));

  // Each emoji is a surrogate pair: 2048 of them fill 4096 units.
  const auto emoji = checked_split(repeat(grinning, 3000), max_text_units);
  BOOST_TEST_REQUIRE(emoji.size() == 2u);
  BOOST_TEST(emoji[0] == repeat(grinning, 2048));
  BOOST_TEST(emoji[1] == repeat(grinning, 952));
  const auto odd_limit = checked_split(repeat(grinning, 3000), 4095);
  BOOST_TEST(odd_limit[0] == repeat(grinning, 2047));

  for (const std::string& part : checked_split(repeat("a" + grinning + e_acute + han, 777), 7)) {
    BOOST_TEST_REQUIRE(is_valid_utf8(part));
    BOOST_TEST_REQUIRE(utf16_length(part) <= 7u);
  }
}

BOOST_AUTO_TEST_CASE(hard_cuts_fill_the_whole_window) {
  // With no break of any kind (no whitespace, sentence end, URL or code), every part but the last
  // is as long as the limit allows: the next character would not have fitted. The window is
  // measured over ASCII runs eight bytes at a time, so runs of every length sit between wider
  // characters here.
  const std::vector<std::string> wide = {e_acute, han, grinning, "\xFF"};
  std::mt19937 random(20260302);
  for (int round = 0; round < 300; ++round) {
    std::string text;
    for (int piece = static_cast<int>(random() % 40); piece > 0; --piece) {
      text += std::string(random() % 30, static_cast<char>('a' + random() % 6));
      text += wide[random() % wide.size()];
    }
    for (const std::size_t limit : {1u, 2u, 3u, 7u, 8u, 9u, 16u, 33u, 100u}) {
      BOOST_TEST_CONTEXT("round " << round << " limit " << limit) {
        const std::vector<std::string> parts = checked_split(text, limit);
        std::size_t end = 0;
        for (std::size_t k = 0; k + 1 < parts.size(); ++k) {
          end += parts[k].size();
          const std::size_t next = std::max<std::size_t>(utf8_sequence_length(text, end), 1);
          const std::size_t next_units = utf16_length(text.substr(end, next));
          BOOST_TEST_REQUIRE(utf16_length(parts[k]) + next_units > limit, "part " << k);
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(tiny_limits) {
  const auto ones = checked_split("ab cd", 1);
  BOOST_TEST((ones == std::vector<std::string>{"a", "b", "c", "d"}));
  const auto zero = checked_split("abc", 0);  // counts as 1
  BOOST_TEST((zero == std::vector<std::string>{"a", "b", "c"}));
  const auto wide = checked_split(grinning + grinning, 1);  // a pair cannot fit in 1: alone
  BOOST_TEST((wide == std::vector<std::string>{grinning, grinning}));
}

BOOST_AUTO_TEST_CASE(invalid_bytes_count_one_and_are_kept) {
  const std::string text = repeat(
      "ab\xFF"
      "cd\xE4\xB8 ",
      50);
  const auto parts = checked_split(text, 16);
  BOOST_TEST(parts.size() > 1u);
}

BOOST_AUTO_TEST_CASE(large_text_is_fast_enough) {
  // Linear work: a megabyte of mixed text splits without noticeable time.
  const std::string text = repeat("A sentence of moderate length, with words. ", 25000);
  const auto parts = checked_split(text, max_text_units);
  BOOST_TEST(parts.size() > 250u);
  BOOST_TEST(parts.size() < 300u);
}

BOOST_AUTO_TEST_CASE(generated_inputs_keep_every_invariant) {
  const std::vector<std::string> tokens = {"a",
                                           "word",
                                           "longerword",
                                           " ",
                                           "  ",
                                           "\n",
                                           "\n\n",
                                           "\r\n",
                                           ". ",
                                           "! ",
                                           "? ",
                                           ".",
                                           "\t",
                                           e_acute,
                                           han,
                                           cjk_stop,
                                           grinning,
                                           "\xEF\xBC\x9F",
                                           "x",
                                           "yz",
                                           "\n \n",
                                           "end. ",
                                           grinning + grinning};
  std::mt19937 random(20251124);
  std::uniform_int_distribution<std::size_t> pick(0, tokens.size() - 1);
  std::uniform_int_distribution<std::size_t> length(0, 400);
  const std::size_t limits[] = {1, 2, 3, 4, 5, 7, 8, 10, 13, 16, 25, 32, 50, 64, 100, 257, 4096};
  for (int round = 0; round < 200; ++round) {
    std::string text;
    const std::size_t count = length(random);
    for (std::size_t i = 0; i < count; ++i)
      text += tokens[pick(random)];
    for (const std::size_t limit : limits) {
      BOOST_TEST_CONTEXT("round " << round << " limit " << limit) {
        checked_split(text, limit);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(generated_invalid_utf8_keeps_limits) {
  std::mt19937 random(7);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 200; ++round) {
    std::string text;
    for (int i = 0; i < 300; ++i)
      text += static_cast<char>(byte(random));
    for (const std::size_t limit : {1u, 2u, 3u, 9u, 40u}) {
      BOOST_TEST_CONTEXT("round " << round << " limit " << limit) {
        checked_split(text, limit);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(url_is_moved_whole_instead_of_cut) {
  // No break before the URL: a hard cut would land inside it; the URL goes to the next part.
  const std::string url = "https://example.com/a_b_c?x=*y*&z=~w~";
  const std::string glued = std::string(50, 'a') + "(" + url + ")";
  const auto parts = checked_split(glued, 70);
  BOOST_TEST_REQUIRE(parts.size() == 2u);
  BOOST_TEST(parts[0] == std::string(50, 'a') + "(");
  BOOST_TEST(parts[1] == url + ")");

  // A CJK full stop inside a URL is no sentence end to cut at.
  const std::string cjk_url = "https://example.com/" + han + cjk_stop + repeat(han, 10);
  const std::string text = repeat("word ", 6) + cjk_url + " " + repeat("more ", 10);
  const auto cjk_parts = checked_split(text, 40);
  BOOST_TEST(count_of(join(cjk_parts), cjk_url) == 1u);
  BOOST_TEST(cjk_parts[0] == trimmed(repeat("word ", 6)));

  // A dot ending a sentence right after the URL is still a fine cut.
  const std::string dotted = "See https://x.com/a_b. " + repeat("Then more words here. ", 4);
  const auto dotted_parts = checked_split(dotted, 30);
  BOOST_TEST(dotted_parts[0] == "See https://x.com/a_b.");
  check_split_keeps_urls_and_code(text, 40);
}

BOOST_AUTO_TEST_CASE(url_longer_than_the_limit_is_hard_cut) {
  const std::string url = "https://example.com/" + std::string(280, 'p');  // 300 units
  const auto parts = checked_split("Link: " + url, 100);
  BOOST_TEST_REQUIRE(parts.size() == 4u);
  BOOST_TEST(parts[0] == "Link:");
  BOOST_TEST(parts[1] + parts[2] + parts[3] == url);
  for (const std::string& part : parts)
    BOOST_TEST(part.size() <= 100u);
}

BOOST_AUTO_TEST_CASE(code_block_that_fits_moves_whole) {
  // The paragraph break inside the block would be the natural cut; the block moves instead.
  const std::string block = "```py\nfirst = 1\n\nsecond = 2. Done! third = 3\n```";
  const std::string intro = repeat("Some intro words. ", 3);  // 54 units
  const auto parts = checked_split(intro + block + "\nAfter.", 80);
  BOOST_TEST_REQUIRE(parts.size() == 2u);
  BOOST_TEST(parts[0] == trimmed(intro));
  BOOST_TEST(parts[1] == block + "\nAfter.");
  // Glued to the text before it, the block still moves whole.
  const auto glued = checked_split(std::string(40, 'x') + block, 60);
  BOOST_TEST_REQUIRE(glued.size() == 2u);
  BOOST_TEST(glued[1] == block);
}

BOOST_AUTO_TEST_CASE(code_block_longer_than_the_limit_is_refenced_per_part) {
  std::string code;
  std::vector<std::string> lines;
  for (int i = 0; i < 100; ++i) {
    lines.push_back("value_" + std::to_string(i) + " = compute(**args)  # step " +
                    std::to_string(i));
    code += lines.back() + "\n";
  }
  const std::string text = "Here is the script:\n\n```python\n" + code + "```\n\nRun it.";
  const std::size_t limit = 200;
  const auto parts = split_text(text, limit);
  BOOST_TEST_REQUIRE(parts.size() > 10u);
  BOOST_TEST(parts.front() == "Here is the script:");
  BOOST_TEST(
      parts.back().ends_with("\n```\n\nRun it."));  // the text after fits with the last piece
  std::size_t widest = 0;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    // Each piece is a block of its own, fences and language tag included in the limit.
    BOOST_TEST_REQUIRE(parts[i].starts_with("```python\n"));
    BOOST_TEST_REQUIRE(fence_runs(parts[i]) == 2u);
    BOOST_TEST_REQUIRE(utf16_length(parts[i]) <= limit);
    widest = std::max(widest, utf16_length(parts[i]));
  }
  BOOST_TEST(code_lines_of_parts(parts) == lines);  // every line, whole and in order
  BOOST_TEST(widest > limit - 50);                  // pieces are filled, not one line each
  check_split_keeps_urls_and_code(text, limit);
}

BOOST_AUTO_TEST_CASE(code_line_longer_than_a_part_is_cut_at_spaces) {
  const std::string line = repeat("token_word ", 59) + "token_word";  // 659 units on one line
  const auto parts = split_text("```\n" + line + "\n```", 100);
  BOOST_TEST_REQUIRE(parts.size() >= 7u);
  std::string words;
  for (const std::string& part : parts) {
    BOOST_TEST_REQUIRE(part.starts_with("```\n"));
    BOOST_TEST_REQUIRE(part.ends_with("\n```"));
    BOOST_TEST_REQUIRE(part.size() <= 100u);
    const std::string inside = part.substr(4, part.size() - 8);
    BOOST_TEST(inside.ends_with("token_word"));  // cut between words, never inside one
    words += (words.empty() ? "" : " ") + inside;
  }
  BOOST_TEST(words == line);

  // Without spaces, a URL that fits a piece is not cut either.
  const std::string url = "https://example.com/path_x')";
  const std::string call = "call(" + std::string(40, 'a') + ")+('" + url;
  const auto url_parts = split_text("```\n" + call + "\n```", 60);
  BOOST_TEST(count_of(join(url_parts), url) == 1u);
  for (const std::string& part : url_parts)
    BOOST_TEST(part.size() <= 60u);
}

BOOST_AUTO_TEST_CASE(long_language_tag_falls_back_to_bare_fences) {
  const std::string tag = "averyveryverylonglanguagename";
  const std::string text = "```" + tag + "\n" + repeat("x = 1\n", 20) + "```";
  // "```" + tag + "\n…\n```" leaves no room for code in 38 units; the tag becomes a code line.
  const auto parts = split_text(text, 38);
  BOOST_TEST_REQUIRE(parts.size() > 1u);
  for (const std::string& part : parts) {
    BOOST_TEST_REQUIRE(part.starts_with("```\n"));
    BOOST_TEST_REQUIRE(part.size() <= 38u);
  }
  BOOST_TEST(parts[0].find(tag) != std::string::npos);  // the tag is kept, as code
}

BOOST_AUTO_TEST_CASE(limits_too_small_for_fences_split_code_as_text) {
  const std::string text = "```\nabc def\nghi\n```";
  for (const std::size_t limit : {1u, 5u, 9u}) {
    BOOST_TEST_CONTEXT("limit " << limit) {
      const auto parts = checked_split(text, limit);
      BOOST_TEST(parts.size() > 1u);
    }
  }
}

BOOST_AUTO_TEST_CASE(unclosed_fence_is_plain_text) {
  const std::string text = "```\n" + repeat("line of text\n", 10);
  const auto parts = checked_split(text, 40);
  BOOST_TEST(parts.size() > 1u);
}

BOOST_AUTO_TEST_CASE(generated_urls_and_code_blocks_keep_every_promise) {
  const std::vector<std::string> prose = {"word",   "longer", " ",   " ",   "\n",    "\n\n",
                                          ". ",     "! ",     "? ",  "x",   e_acute, han,
                                          grinning, cjk_stop, "2*3", "a_b", "end. ", "\n \n"};
  const std::vector<std::string> fixed_urls = {" https://example.com/a_b_c?x=*y*&z=~w~ ",
                                               " www.shop.example/x_y ", " HTTPS://UP.EXAMPLE/P_1 ",
                                               " http://h.io/" + han + cjk_stop + han + " "};
  const std::vector<std::string> code = {
      "def f(**kw):",         "    return x_y * 2",         "",
      "  # a comment. More!", "print('https://x.com/a b')", grinning + " = 1",
      "if a < b: pass"};
  std::mt19937 random(424242);
  std::uniform_int_distribution<int> percent(0, 99);
  std::uniform_int_distribution<std::size_t> pick_prose(0, prose.size() - 1);
  std::uniform_int_distribution<std::size_t> pick_url(0, fixed_urls.size() - 1);
  std::uniform_int_distribution<std::size_t> pick_code(0, code.size() - 1);
  std::uniform_int_distribution<int> long_url(1, 300);
  std::uniform_int_distribution<int> code_length(0, 40);
  std::uniform_int_distribution<int> tokens(0, 300);
  const std::size_t limits[] = {1, 5, 9, 10, 12, 16, 25, 40, 64, 100, 257, 1000, 4096};
  int unique = 0;
  std::size_t refenced = 0;
  std::size_t kept = 0;
  for (int round = 0; round < 40; ++round) {
    std::string text;
    for (int i = tokens(random); i > 0; --i) {
      const int kind = percent(random);
      if (kind < 85) {
        text += prose[pick_prose(random)];
      } else if (kind < 91) {
        text += fixed_urls[pick_url(random)];
      } else if (kind < 95) {
        text += " https://t.co/" + std::string(static_cast<std::size_t>(long_url(random)), 'a') +
                "_end" + std::to_string(unique++) + " ";
      } else {
        text += percent(random) < 50 ? "\n```py\n" : "\n```\n";
        for (int line = code_length(random); line > 0; --line)
          text += code[pick_code(random)] + "\n";
        text += "```\n";
      }
    }
    for (const std::size_t limit : limits) {
      BOOST_TEST_CONTEXT("round " << round << " limit " << limit) {
        (check_split_keeps_urls_and_code(text, limit) ? refenced : kept) += 1;
      }
    }
  }
  // Both kinds of input were generated: code blocks that fit, and ones that had to be re-fenced.
  BOOST_TEST(refenced > 30u);
  BOOST_TEST(kept > 30u);
}

BOOST_AUTO_TEST_CASE(meta_limit_is_counted_in_utf16_units) {
  // 4096 UTF-16 units: never more code points than that, so within Meta's limit however it counts.
  BOOST_TEST(max_text_units == 4096u);
  const std::string text = repeat(grinning + " ", 3000);  // 3 units each
  for (const std::string& part : checked_split(text, max_text_units))
    BOOST_TEST(utf16_length(part) <= max_text_units);
}

BOOST_AUTO_TEST_SUITE_END()
