#include "webhook/util/json_text.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

namespace {

std::string quoted(std::string_view text) {
  std::string out;
  bridge::webhook::util::append_json_string(out, text);
  return out;
}

// What Boost.JSON, which wrote these bodies before, writes for the same valid UTF-8 text.
std::string boost_quoted(std::string_view text) {
  return boost::json::serialize(boost::json::string(text));
}

// The string a strict, UTF-8-validating parser reads back from `wire`.
std::string parsed_back(const std::string& wire) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(wire, ec);
  BOOST_TEST_REQUIRE(!ec, wire << ": " << ec.message());
  BOOST_TEST_REQUIRE(value.is_string(), wire);
  return std::string(value.get_string());
}

const std::string replacement = "\xEF\xBF\xBD";

}  // namespace

BOOST_AUTO_TEST_SUITE(json_text)

BOOST_AUTO_TEST_CASE(empty_string) {
  BOOST_TEST(quoted("") == R"("")");
  BOOST_TEST(quoted(std::string_view()) == R"("")");
}

BOOST_AUTO_TEST_CASE(plain_ascii_is_copied) {
  BOOST_TEST(quoted("Hello, world! 123 </script> / ~") == R"("Hello, world! 123 </script> / ~")");
}

BOOST_AUTO_TEST_CASE(quote_and_backslash_are_escaped) {
  BOOST_TEST(quoted(R"(He said "hi")") == R"("He said \"hi\"")");
  BOOST_TEST(quoted(R"(C:\path\)") == R"("C:\\path\\")");
  BOOST_TEST(quoted(R"(\")") == R"("\\\"")");
  BOOST_TEST(quoted("\"") == R"("\"")");
}

BOOST_AUTO_TEST_CASE(control_characters_use_short_forms_where_json_has_them) {
  BOOST_TEST(quoted("\b\t\n\f\r") == R"("\b\t\n\f\r")");
  BOOST_TEST(quoted(std::string("\0", 1)) == R"("\u0000")");
  BOOST_TEST(quoted("\x01\x0b\x1b\x1f") == R"("\u0001\u000b\u001b\u001f")");
  BOOST_TEST(quoted("a\nb") == R"("a\nb")");
}

BOOST_AUTO_TEST_CASE(del_and_printable_ascii_pass_through) {
  BOOST_TEST(quoted("\x7f") == "\"\x7f\"");
  BOOST_TEST(quoted(" ") == R"(" ")");
}

BOOST_AUTO_TEST_CASE(every_ascii_byte_matches_boost_json) {
  for (int c = 0; c < 0x80; ++c) {
    const std::string text(1, static_cast<char>(c));
    BOOST_TEST(quoted(text) == boost_quoted(text), "byte " << c);
    BOOST_TEST(parsed_back(quoted(text)) == text, "byte " << c);
  }
}

BOOST_AUTO_TEST_CASE(multibyte_utf8_passes_through) {
  // 2, 3 and 4 bytes, the edges of each length, and an emoji with a skin tone and a ZWJ sequence.
  for (const std::string& text : {
           std::string("caf\xC3\xA9"),
           std::string("\xC2\x80 \xDF\xBF"),                  // U+0080, U+07FF
           std::string("\xE0\xA0\x80 \xEF\xBF\xBF"),          // U+0800, U+FFFF
           std::string("\xED\x9F\xBF \xEE\x80\x80"),          // U+D7FF, U+E000 (around surrogates)
           std::string("\xF0\x90\x80\x80 \xF4\x8F\xBF\xBF"),  // U+10000, U+10FFFF
           std::string("\xE4\xBD\xA0\xE5\xA5\xBD"),           // 你好
           std::string("\xF0\x9F\x98\x80"),                   // 😀
           std::string("\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD"),   // 👍🏽
           std::string("\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB"),  // 👩‍💻
           std::string("\xE2\x80\xA8\xE2\x80\xA9"),  // U+2028, U+2029: valid in JSON as they are
       }) {
    BOOST_TEST(quoted(text) == "\"" + text + "\"");
    BOOST_TEST(quoted(text) == boost_quoted(text));
    BOOST_TEST(parsed_back(quoted(text)) == text);
  }
}

BOOST_AUTO_TEST_CASE(escapes_next_to_multibyte_sequences) {
  const std::string text = "\"\xC3\xA9\\\n\xF0\x9F\x98\x80\t";
  BOOST_TEST(quoted(text) == "\"\\\"\xC3\xA9\\\\\\n\xF0\x9F\x98\x80\\t\"");
  BOOST_TEST(parsed_back(quoted(text)) == text);
}

BOOST_AUTO_TEST_CASE(each_byte_starting_no_sequence_becomes_one_replacement_character) {
  const struct {
    std::string text;
    std::string expected;
  } cases[] = {
      {"\xFF", replacement},
      {"\x80", replacement},  // stray continuation
      {"a\xBF"
       "b",
       "a" + replacement + "b"},  // stray continuation inside
      {"\xC3", replacement},      // truncated at the end
      {"\xC3"
       "A",
       replacement + "A"},                                        // continuation missing
      {"\xC0\xAF", replacement + replacement},                    // overlong '/'
      {"\xC1\xBF", replacement + replacement},                    // overlong
      {"\xE0\x80\xAF", replacement + replacement + replacement},  // overlong 3-byte
      {"\xED\xA0\x80", replacement + replacement + replacement},  // surrogate U+D800
      {"\xF0\x80\x80\xAF", std::string() + replacement + replacement + replacement + replacement},
      {"\xF4\x90\x80\x80", replacement + replacement + replacement + replacement},  // > U+10FFFF
      {"\xF5\x80\x80\x80", replacement + replacement + replacement + replacement},
      {"\xE2\x82", replacement + replacement},                    // truncated 3-byte (€)
      {"\xF0\x9F\x98", replacement + replacement + replacement},  // truncated emoji
      {"\xE2\x82\xAC\xE2\x82", "\xE2\x82\xAC" + replacement + replacement},
      {"ok \xFF \xC3 end", "ok " + replacement + " " + replacement + " end"},
  };
  for (const auto& c : cases) {
    BOOST_TEST(quoted(c.text) == "\"" + c.expected + "\"", c.text);
    BOOST_TEST(parsed_back(quoted(c.text)) == c.expected, c.text);
  }
}

BOOST_AUTO_TEST_CASE(every_special_byte_at_every_position_of_a_long_text) {
  // Plain text is skipped eight bytes at a time; whatever needs a look must be found at any offset
  // and with any length of plain text after it.
  for (int c = 0; c < 256; ++c) {
    const bool plain = c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
    if (plain) continue;
    const std::string special(1, static_cast<char>(c));
    const std::string expected_special =
        c >= 0x80 ? replacement : boost_quoted(special).substr(1, boost_quoted(special).size() - 2);
    for (std::size_t before = 0; before < 18; ++before) {
      for (std::size_t after : {0, 1, 7, 8, 9, 16}) {
        const std::string text = std::string(before, 'a') + special + std::string(after, 'z');
        const std::string expected =
            "\"" + std::string(before, 'a') + expected_special + std::string(after, 'z') + "\"";
        BOOST_TEST_REQUIRE(quoted(text) == expected, "byte " << c << " at " << before);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(multibyte_sequences_across_block_edges) {
  const std::string emoji = "\xF0\x9F\x98\x80";
  for (std::size_t before = 0; before < 18; ++before) {
    const std::string text = std::string(before, 'a') + emoji + "b" + emoji;
    BOOST_TEST_REQUIRE(quoted(text) == "\"" + text + "\"", before);
    // Cut short at the end of the text: the lead byte and the rest each become U+FFFD.
    const std::string cut = std::string(before, 'a') + emoji.substr(0, 3);
    BOOST_TEST_REQUIRE(quoted(cut) == "\"" + std::string(before, 'a') + replacement + replacement +
                                          replacement + "\"",
                       before);
  }
}

BOOST_AUTO_TEST_CASE(appends_after_what_is_there) {
  std::string out = R"({"a":)";
  bridge::webhook::util::append_json_string(out, "x");
  out += ',';
  bridge::webhook::util::append_json_string(out, "");
  BOOST_TEST(out == R"({"a":"x","")");
}

BOOST_AUTO_TEST_CASE(random_valid_text_matches_boost_json) {
  // Random mixes of ASCII (controls included) and well-formed sequences of every length, against
  // the serializer the bodies were written with before; a fixed seed keeps the run repeatable.
  std::mt19937 random(20240611);
  const auto code_point = [&]() -> std::uint32_t {
    switch (random() % 4) {
      case 0:
        return random() % 0x80;
      case 1:
        return 0x80 + random() % (0x800 - 0x80);
      case 2: {
        const std::uint32_t cp = 0x800 + random() % (0x10000 - 0x800);
        return cp >= 0xD800 && cp <= 0xDFFF ? cp - 0x800 : cp;
      }
      default:
        return 0x10000 + random() % (0x110000 - 0x10000);
    }
  };
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int length = static_cast<int>(random() % 40);
    for (int i = 0; i < length; ++i) {
      const std::uint32_t cp = code_point();
      if (cp < 0x80) {
        text += static_cast<char>(cp);
      } else if (cp < 0x800) {
        text += static_cast<char>(0xC0 | (cp >> 6));
        text += static_cast<char>(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        text += static_cast<char>(0xE0 | (cp >> 12));
        text += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        text += static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        text += static_cast<char>(0xF0 | (cp >> 18));
        text += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        text += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        text += static_cast<char>(0x80 | (cp & 0x3F));
      }
    }
    BOOST_TEST_REQUIRE(quoted(text) == boost_quoted(text), "round " << round);
    BOOST_TEST_REQUIRE(parsed_back(quoted(text)) == text, "round " << round);
  }
}

BOOST_AUTO_TEST_CASE(random_bytes_always_give_valid_json) {
  // Whatever the bytes, a strict parser reads the result back, and valid text round-trips.
  std::mt19937 random(7);
  for (int round = 0; round < 2000; ++round) {
    std::string bytes(random() % 24, '\0');
    for (char& b : bytes)
      b = static_cast<char>(random() % 256);
    const std::string back = parsed_back(quoted(bytes));
    if (back.find(replacement) == std::string::npos) BOOST_TEST_REQUIRE(back == bytes);
  }
}

BOOST_AUTO_TEST_CASE(numbers) {
  const auto number = [](std::int64_t value) {
    std::string out;
    bridge::webhook::util::append_json_number(out, value);
    return out;
  };
  BOOST_TEST(number(0) == "0");
  BOOST_TEST(number(1) == "1");
  BOOST_TEST(number(-42) == "-42");
  BOOST_TEST(number(1763971200) == "1763971200");
  BOOST_TEST(number(std::numeric_limits<std::int64_t>::max()) == "9223372036854775807");
  BOOST_TEST(number(std::numeric_limits<std::int64_t>::min()) == "-9223372036854775808");
}

BOOST_AUTO_TEST_CASE(booleans) {
  std::string out;
  bridge::webhook::util::append_json_bool(out, true);
  out += ',';
  bridge::webhook::util::append_json_bool(out, false);
  BOOST_TEST(out == "true,false");
}

BOOST_AUTO_TEST_SUITE_END()
