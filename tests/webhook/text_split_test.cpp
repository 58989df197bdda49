#include "webhook/text_split.hpp"

#include <boost/test/unit_test.hpp>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace bridge::webhook;

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

// Requires the invariants every split must keep.
void check_split(const std::string& input, std::size_t limit,
                 const std::vector<std::string>& parts) {
  const std::size_t effective = std::max<std::size_t>(limit, 1);
  bool blank = true;
  for (const char c : input)
    blank = blank && is_space(c);
  if (blank) {
    BOOST_TEST_REQUIRE(parts.empty());
    return;
  }
  if (utf16_length(input) <= effective) {
    BOOST_TEST_REQUIRE(parts.size() == 1u);
    BOOST_TEST_REQUIRE(parts[0] == input);
    return;
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
    pos += part.size();
  }
  while (pos < input.size() && is_space(input[pos]))
    ++pos;
  BOOST_TEST_REQUIRE(pos == input.size());
}

std::vector<std::string> checked_split(const std::string& input, std::size_t limit) {
  std::vector<std::string> parts = split_text(input, limit);
  check_split(input, limit, parts);
  return parts;
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

BOOST_AUTO_TEST_SUITE_END()
