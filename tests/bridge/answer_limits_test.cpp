// The bounds on what a conversation sends upstream, as pure functions: where a backlog of lines
// is cut into Robofy queries, and how an answer becomes at most max_parts WhatsApp messages.
#include "bridge/answer_limits.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "tests/support/stub_services.hpp"
#include "webhook/format/text_split.hpp"
#include "webhook/util/utf8.hpp"

using namespace bridge;

namespace {

std::vector<store::pending_message> batch(const std::vector<webhook::meta::inbound_message>& ms) {
  std::vector<store::pending_message> out;
  for (const auto& m : ms)
    out.push_back(store::pending_message{m, {}, false});
  return out;
}

webhook::meta::inbound_message line(std::size_t bytes, const std::string& id = "w") {
  return test::text_message(id, std::string(bytes, 'x'));
}

std::string paragraph(const std::string& word, std::size_t bytes) {
  std::string text = word;
  while (text.size() + word.size() + 1 < bytes)
    text += ' ' + word;
  return text + '.';
}

constexpr std::size_t kib = 1024;
const std::string notice = "[cut]";

}  // namespace

BOOST_AUTO_TEST_SUITE(query_ends_suite)

// No messages, no queries.
BOOST_AUTO_TEST_CASE(an_empty_batch_has_no_queries) {
  BOOST_TEST(query_ends({}).empty());
}

// Lines whose joined text fits in 64 KiB are one query.
BOOST_AUTO_TEST_CASE(lines_that_fit_are_one_query) {
  const auto b = batch({line(20 * kib), line(20 * kib), line(20 * kib)});
  BOOST_TEST(query_ends(b) == (std::vector<std::size_t>{3}));
}

// The joined text counts one newline between lines: exactly the cap fits, one byte more does
// not, and the next query starts with the line that did not fit.
BOOST_AUTO_TEST_CASE(the_cap_counts_the_newlines) {
  const std::size_t half = (max_joined_query_bytes - 1) / 2;  // two halves and a newline
  const std::size_t rest = max_joined_query_bytes - 1 - half;
  BOOST_TEST(query_ends(batch({line(half), line(rest)})) == (std::vector<std::size_t>{2}));
  BOOST_TEST(query_ends(batch({line(half), line(rest + 1)})) == (std::vector<std::size_t>{1, 2}));
}

// 64 KiB of several lines is cut into consecutive queries, each within the cap, every line in
// exactly one.
BOOST_AUTO_TEST_CASE(a_long_backlog_is_cut_into_queries_within_the_cap) {
  std::vector<webhook::meta::inbound_message> ms;
  for (int i = 0; i < 10; ++i)
    ms.push_back(line(15 * kib));
  const auto b = batch(ms);
  const auto ends = query_ends(b);
  BOOST_TEST(ends == (std::vector<std::size_t>{4, 8, 10}));
  std::size_t begin = 0;
  for (const std::size_t end : ends) {
    std::size_t bytes = 0;
    for (std::size_t i = begin; i < end; ++i)
      bytes += b[i].message.text.size() + (i > begin ? 1 : 0);
    BOOST_TEST(bytes <= max_joined_query_bytes);
    begin = end;
  }
}

// A single message longer than the cap is a query of its own, between the others.
BOOST_AUTO_TEST_CASE(a_single_long_message_is_asked_alone) {
  const auto b = batch({line(10), line(200 * kib), line(10)});
  BOOST_TEST(query_ends(b) == (std::vector<std::size_t>{1, 2, 3}));
  BOOST_TEST(query_ends(batch({line(200 * kib)})) == (std::vector<std::size_t>{1}));
}

// Messages without a query (voice notes) take no room but stay in their place.
BOOST_AUTO_TEST_CASE(messages_without_text_take_no_room) {
  const auto b = batch({test::voice_message("v1"), line(40 * kib), test::voice_message("v2"),
                        line(20 * kib), test::voice_message("v3")});
  BOOST_TEST(query_ends(b) == (std::vector<std::size_t>{5}));
  BOOST_TEST(query_ends(batch({test::voice_message("v")})) == (std::vector<std::size_t>{1}));
}

// A smaller cap, as the caller may pass.
BOOST_AUTO_TEST_CASE(the_cap_is_a_parameter) {
  const auto b = batch({line(3), line(3), line(3)});
  BOOST_TEST(query_ends(b, 7) == (std::vector<std::size_t>{2, 3}));
  BOOST_TEST(query_ends(b, 11) == (std::vector<std::size_t>{3}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(answer_parts_suite)

// An answer that fits in max_parts is split_text's parts as they are, not cut.
BOOST_AUTO_TEST_CASE(an_answer_within_max_parts_is_not_cut) {
  const auto one = answer_parts("Short answer.", 3, notice);
  BOOST_TEST(one.parts == (std::vector<std::string>{"Short answer."}));
  BOOST_TEST(!one.cut);
  const std::string three =
      paragraph("a", 3000) + "\n\n" + paragraph("b", 3000) + "\n\n" + paragraph("c", 3000);
  const auto split = answer_parts(three, 3, notice);
  BOOST_TEST(split.parts == webhook::format::split_text(three));
  BOOST_TEST(split.parts.size() == 3u);
  BOOST_TEST(!split.cut);
}

// Over max_parts: exactly max_parts parts, the last ending with a blank line and the notice,
// every part within 4096 UTF-16 units (emoji count two).
BOOST_AUTO_TEST_CASE(an_answer_over_max_parts_ends_with_the_cut_notice) {
  std::string answer;
  for (int i = 0; i < 6; ++i) {
    if (i > 0) answer += "\n\n";
    // About 4090 units (a word is 7 bytes, 5 units), so the notice fits only if the last part
    // kept is shortened.
    answer += paragraph("w\xF0\x9F\x98\x80" + std::to_string(i), 4090 * 7 / 5);
  }
  const auto whole = webhook::format::split_text(answer);
  BOOST_TEST_REQUIRE(whole.size() == 6u);
  BOOST_TEST(webhook::util::utf16_length(whole[3]) + 2 + notice.size() >
             webhook::format::max_text_units);
  const auto split = answer_parts(answer, 4, notice);
  BOOST_TEST(split.cut);
  BOOST_TEST_REQUIRE(split.parts.size() == 4u);
  BOOST_TEST(split.parts.back().ends_with("\n\n" + notice));
  for (const std::string& part : split.parts)
    BOOST_TEST(webhook::util::utf16_length(part) <= webhook::format::max_text_units);
  BOOST_TEST(
      split.parts[0].starts_with("w\xF0\x9F\x98\x80"
                                 "0"));
  BOOST_TEST(
      split.parts[3].starts_with("w\xF0\x9F\x98\x80"
                                 "3"));
  BOOST_TEST(split.parts[3].size() < whole[3].size());  // shortened to make room
}

// max_parts 0 acts as 1.
BOOST_AUTO_TEST_CASE(max_parts_zero_keeps_one_part) {
  const std::string answer = paragraph("a", 3000) + "\n\n" + paragraph("b", 3000);
  const auto split = answer_parts(answer, 0, notice);
  BOOST_TEST(split.cut);
  BOOST_TEST_REQUIRE(split.parts.size() == 1u);
  BOOST_TEST(split.parts[0].ends_with(notice));
}

// A notice that leaves no room in a message is left out; the answer is still cut.
BOOST_AUTO_TEST_CASE(a_notice_too_long_for_a_message_is_left_out) {
  const std::string answer = paragraph("a", 3000) + "\n\n" + paragraph("b", 3000);
  const std::string huge(webhook::format::max_text_units, 'n');
  const auto split = answer_parts(answer, 1, huge);
  BOOST_TEST(split.cut);
  BOOST_TEST_REQUIRE(split.parts.size() == 1u);
  BOOST_TEST(split.parts[0] == webhook::format::split_text(answer)[0]);
}

// An answer with no text has no parts (the worker sends the fallback instead).
BOOST_AUTO_TEST_CASE(a_blank_answer_has_no_parts) {
  const auto split = answer_parts(" \n\n ", 3, notice);
  BOOST_TEST(split.parts.empty());
  BOOST_TEST(!split.cut);
}

BOOST_AUTO_TEST_SUITE_END()
