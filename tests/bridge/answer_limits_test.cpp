// The bounds on what a conversation sends upstream, as pure functions: where a backlog of lines
// is cut into Robofy queries, and how an answer becomes at most max_parts WhatsApp messages.
#include "bridge/answer_limits.hpp"

#include <boost/test/unit_test.hpp>
#include <random>
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

// A batch of messages with texts of the given sizes, all to be answered unless `skip` says
// otherwise (then they carry their text but are answered with replies.unsupported_text).
std::vector<store::pending_message> batch_of(const std::vector<std::size_t>& sizes,
                                             const std::vector<bool>& skip = {}) {
  std::vector<webhook::meta::inbound_message> ms;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    ms.push_back(line(sizes[i], "wamid." + std::to_string(i)));
    if (i < skip.size() && skip[i]) ms.back().disposition = webhook::meta::disposition::unsupported;
  }
  return batch(ms);
}

// Bytes of the query made from items [begin, end): the texts to answer, newline-separated.
std::size_t joined_bytes(const std::vector<store::pending_message>& b, std::size_t begin,
                         std::size_t end) {
  std::size_t bytes = 0;
  bool first = true;
  for (std::size_t i = begin; i < end; ++i) {
    if (b[i].message.disposition != webhook::meta::disposition::answer) continue;
    bytes += (first ? 0 : 1) + b[i].message.text.size();
    first = false;
  }
  return bytes;
}

// "word word word ..." paragraphs of about `units` characters each, blank-line separated.
std::string paragraphs(int count, std::size_t units) {
  std::string text;
  for (int p = 0; p < count; ++p) {
    if (p > 0) text += "\n\n";
    std::string paragraph = "Paragraph " + std::to_string(p) + ".";
    while (paragraph.size() < units)
      paragraph += " lorem";
    text += paragraph;
  }
  return text;
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

// Five 20 KiB lines make 102 KiB joined: the first three go in one query (61,442 bytes), the
// other two in the next. A line longer than the bound is a query of its own. Lines that are not
// asked (an unsupported voice note) do not count towards the bound, whatever text they carry.
// (The bound exactly and the empty batch are the_cap_counts_the_newlines and
// an_empty_batch_has_no_queries.)
BOOST_AUTO_TEST_CASE(lines_are_cut_into_queries_within_the_bound_in_order) {
  BOOST_TEST(query_ends(batch_of({20480, 20480, 20480, 20480, 20480})) ==
             (std::vector<std::size_t>{3, 5}));
  BOOST_TEST(query_ends(batch_of({1, 2, 3})) == std::vector<std::size_t>{3});
  BOOST_TEST(query_ends(batch_of({10, 100'000, 10})) == (std::vector<std::size_t>{1, 2, 3}));
  BOOST_TEST(query_ends(batch_of({40'000, 100'000, 20'000}, {false, true, false})) ==
             std::vector<std::size_t>{3});
  BOOST_TEST(query_ends(batch_of({4, 4, 4, 4}), 9) == (std::vector<std::size_t>{2, 4}));
}

// Whatever the sizes, every message is in exactly one query, the queries are in order, and each
// query with more than one message stays within the bound.
BOOST_AUTO_TEST_CASE(every_message_is_in_exactly_one_query_within_the_bound) {
  std::mt19937 random(12345);
  std::uniform_int_distribution<std::size_t> size(0, 40'000);
  std::bernoulli_distribution skipped(0.2);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::size_t> sizes(1 + round % 17);
    std::vector<bool> skip(sizes.size());
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      sizes[i] = round % 5 == 0 ? size(random) * 3 : size(random);
      skip[i] = skipped(random);
    }
    const auto b = batch_of(sizes, skip);
    const auto ends = query_ends(b);
    BOOST_TEST_REQUIRE(!ends.empty());
    BOOST_TEST(ends.back() == sizes.size());
    std::size_t begin = 0;
    for (const std::size_t end : ends) {
      BOOST_TEST_REQUIRE(end > begin, "round " << round);
      std::size_t asked = 0;
      for (std::size_t i = begin; i < end; ++i)
        asked += skip[i] ? 0 : 1;
      if (asked > 1) BOOST_TEST(joined_bytes(b, begin, end) <= max_joined_query_bytes);
      begin = end;
    }
  }
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

// An answer that fits in max_parts messages is sent whole; a longer one is cut to max_parts,
// split_text's first parts kept as they are and the last one kept getting a blank line and the
// notice when there is room for it, every part within 4096 UTF-16 units. Exactly max_parts is
// not cut; max_parts 0 is read as 1.
BOOST_AUTO_TEST_CASE(an_answer_over_max_parts_is_cut_with_the_notice) {
  const auto whole = answer_parts(paragraphs(3, 3000), 10, notice);
  BOOST_TEST(!whole.cut);
  BOOST_TEST(whole.parts.size() == 3u);

  const std::string long_answer = paragraphs(15, 3000);
  const auto full_split = webhook::format::split_text(long_answer);
  BOOST_TEST_REQUIRE(full_split.size() == 15u);
  const auto cut = answer_parts(long_answer, 10, notice);
  BOOST_TEST(cut.cut);
  BOOST_REQUIRE_EQUAL(cut.parts.size(), 10u);
  for (std::size_t i = 0; i < 9; ++i)
    BOOST_TEST(cut.parts[i] == full_split[i]);
  BOOST_TEST(cut.parts.back() == full_split[9] + "\n\n" + notice);
  for (const auto& part : cut.parts)
    BOOST_TEST(webhook::util::utf16_length(part) <= webhook::format::max_text_units);

  BOOST_TEST(!answer_parts(long_answer, 15, notice).cut);
  const auto one = answer_parts(long_answer, 0, notice);
  BOOST_TEST(one.cut);
  BOOST_TEST(one.parts.size() == 1u);
  BOOST_TEST(one.parts[0].ends_with("\n\n" + notice));
}

// A last part already at the limit is shortened (at a boundary split_text picks) to make room
// for the notice, counted in UTF-16 units; a notice that leaves no room at all is left out.
BOOST_AUTO_TEST_CASE(the_last_part_makes_room_for_the_notice) {
  // Emoji are two UTF-16 units each: 2,040 of them with spaces fill a part to the brim.
  std::string emoji_words;
  for (int i = 0; i < 3000; ++i)
    emoji_words += "\xF0\x9F\x98\x80 ";
  const std::string answer = emoji_words + "\n\n" + emoji_words + "\n\n" + emoji_words;
  const std::string scissors_notice = "\xE2\x9C\x82 the answer was cut";
  const auto cut = answer_parts(answer, 2, scissors_notice);
  BOOST_TEST(cut.cut);
  BOOST_REQUIRE_EQUAL(cut.parts.size(), 2u);
  BOOST_TEST(cut.parts.back().ends_with("\n\n" + scissors_notice));
  for (const auto& part : cut.parts) {
    BOOST_TEST(webhook::util::utf16_length(part) <= webhook::format::max_text_units);
    BOOST_TEST(webhook::util::utf16_length(part) > 3000u);  // shortened, not emptied
  }

  const std::string huge_notice(5000, 'n');
  const auto without = answer_parts(paragraphs(4, 3000), 2, huge_notice);
  BOOST_TEST(without.cut);
  BOOST_REQUIRE_EQUAL(without.parts.size(), 2u);
  BOOST_TEST(without.parts.back().find('n' + std::string(100, 'n')) == std::string::npos);
  for (const auto& part : without.parts)
    BOOST_TEST(webhook::util::utf16_length(part) <= webhook::format::max_text_units);
}

BOOST_AUTO_TEST_SUITE_END()
