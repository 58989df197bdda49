// The lenient JSON string decoder behind texts that simdjson refuses: surrogate pairs decode as
// usual, an unpaired surrogate becomes U+FFFD, and anything that is not a JSON string is refused.
#include "webhook/util/json_unescape.hpp"

#include <boost/test/unit_test.hpp>
#include <optional>
#include <string>

namespace {

using bridge::webhook::util::unescape_json_string_lenient;

const std::string replacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

std::string decoded(const std::string& token) {
  const auto out = unescape_json_string_lenient(token);
  BOOST_TEST_REQUIRE(out.has_value(), token);
  return *out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(json_unescape)

// A pair of escaped surrogates is one code point (a four-byte UTF-8 sequence), in any hex case.
BOOST_AUTO_TEST_CASE(surrogate_pairs_decode_to_one_code_point) {
  BOOST_TEST(decoded(R"("\ud83d\ude00")") == "\xF0\x9F\x98\x80");  // U+1F600
  BOOST_TEST(decoded(R"("\uD83D\uDE00")") == "\xF0\x9F\x98\x80");
  BOOST_TEST(decoded(R"("a\ud800\udc00b")") ==
             "a\xF0\x90\x80\x80"
             "b");                                                 // U+10000
  BOOST_TEST(decoded(R"("\udbff\udfff")") == "\xF4\x8F\xBF\xBF");  // U+10FFFF
}

// A high surrogate alone (at the end, before text, before another high one) and a low one alone
// each become U+FFFD; the text around them is kept.
BOOST_AUTO_TEST_CASE(lone_surrogates_become_the_replacement_character) {
  BOOST_TEST(decoded(R"("\ud83d")") == replacement);
  BOOST_TEST(decoded(R"("hi \ud83d there")") == "hi " + replacement + " there");
  BOOST_TEST(decoded(R"("\ude00")") == replacement);
  BOOST_TEST(decoded(R"("x\ude00\ud83d")") == "x" + replacement + replacement);
  // A high surrogate followed by another high one: the first is lone, the second pairs.
  BOOST_TEST(decoded(R"("\ud83d\ud83d\ude00")") == replacement + "\xF0\x9F\x98\x80");
  // A high surrogate followed by a non-surrogate escape: both are decoded, the first as U+FFFD.
  BOOST_TEST(decoded(R"("\ud83d\u0041")") == replacement + "A");
  // A low surrogate before a high one is no pair.
  BOOST_TEST(decoded(R"("\ude00\ud83d")") == replacement + replacement);
}

// Every other escape decodes as JSON says, and raw UTF-8 passes through untouched.
BOOST_AUTO_TEST_CASE(other_escapes_decode_as_json_defines_them) {
  BOOST_TEST(decoded(R"("\"\\\/\b\f\n\r\t")") == "\"\\/\b\f\n\r\t");
  BOOST_TEST(decoded(R"("\u0041\u00e9\u20ac")") == "A\xC3\xA9\xE2\x82\xAC");
  BOOST_TEST(decoded(R"("\u0000")") == std::string(1, '\0'));
  BOOST_TEST(decoded("\"caf\xC3\xA9 \xF0\x9F\x98\x80\"") == "caf\xC3\xA9 \xF0\x9F\x98\x80");
  BOOST_TEST(decoded(R"("")").empty());
  // Whatever follows the closing quote is not part of the string.
  BOOST_TEST(decoded(R"("ab", "cd")") == "ab");
}

// Not a string, an unknown escape, a malformed \u or a missing closing quote: nullopt.
BOOST_AUTO_TEST_CASE(invalid_escapes_and_tokens_are_refused) {
  for (const char* token : {R"("\x41")", R"("\a")", R"("\u12")", R"("\u12g4")", R"("\uZZZZ")",
                            R"("abc)", R"("ab\")", R"("\)", "", "abc", "123", R"('a')"}) {
    BOOST_TEST(!unescape_json_string_lenient(token).has_value(), token);
  }
  // A high surrogate followed by a malformed escape is refused for the malformed one.
  BOOST_TEST(!unescape_json_string_lenient(R"("\ud83d\u12")").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
