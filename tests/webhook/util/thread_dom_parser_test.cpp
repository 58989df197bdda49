#include "webhook/util/thread_dom_parser.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <thread>

namespace dom = simdjson::dom;

namespace {

std::string answer_of(bridge::webhook::util::thread_dom_parser& parser, std::string_view json) {
  dom::element root;
  std::string_view answer;
  if (parser.parse(json).get(root) != simdjson::SUCCESS) return "<error>";
  if (root["answer"].get(answer) != simdjson::SUCCESS) return "<none>";
  return std::string(answer);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(thread_dom_parser)

BOOST_AUTO_TEST_CASE(parses_a_view_without_padding) {
  // The view ends inside a larger string: simdjson must see only its bytes.
  const std::string text = R"({"answer":"yes"}{"answer":"no"})";
  bridge::webhook::util::thread_dom_parser parser;
  BOOST_TEST(answer_of(parser, std::string_view(text).substr(0, 16)) == "yes");
  BOOST_TEST(answer_of(parser, text) == "<error>");  // trailing content is refused
}

BOOST_AUTO_TEST_CASE(errors_come_back_as_codes) {
  bridge::webhook::util::thread_dom_parser parser;
  for (const std::string_view body :
       {std::string_view(), std::string_view(""), std::string_view("{"),
        std::string_view("{\"answer\":\"\xFF\"}"), std::string_view("nonsense")}) {
    BOOST_TEST(answer_of(parser, body) == "<error>");
  }
  const std::string deep(2000, '[');
  BOOST_TEST(answer_of(parser, deep) == "<error>");
}

BOOST_AUTO_TEST_CASE(the_thread_parser_is_reused) {
  dom::parser* first = nullptr;
  {
    bridge::webhook::util::thread_dom_parser parser;
    first = &parser.get();
    BOOST_TEST(answer_of(parser, R"({"answer":"1"})") == "1");
  }
  bridge::webhook::util::thread_dom_parser again;
  BOOST_TEST(&again.get() == first);
  BOOST_TEST(again.get().capacity() > 0u);  // buffers kept from the last parse
}

BOOST_AUTO_TEST_CASE(a_second_loan_on_the_same_thread_gets_its_own_parser) {
  bridge::webhook::util::thread_dom_parser outer;
  dom::element root;
  BOOST_TEST_REQUIRE(outer.parse(R"({"answer":"outer"})").get(root) == simdjson::SUCCESS);
  {
    bridge::webhook::util::thread_dom_parser inner;
    BOOST_TEST(&inner.get() != &outer.get());
    BOOST_TEST(answer_of(inner, R"({"answer":"inner"})") == "inner");
  }
  // The outer document was not overwritten by the inner parse.
  std::string_view answer;
  BOOST_TEST_REQUIRE(root["answer"].get(answer) == simdjson::SUCCESS);
  BOOST_TEST(answer == "outer");
}

BOOST_AUTO_TEST_CASE(buffers_are_dropped_after_a_large_document) {
  std::string large = R"({"answer":")";
  large.append(bridge::webhook::util::thread_dom_parser::kept_capacity_bytes, 'a');
  large += "\"}";
  dom::parser* thread_parser = nullptr;
  {
    bridge::webhook::util::thread_dom_parser parser;
    thread_parser = &parser.get();
    BOOST_TEST(answer_of(parser, large).size() ==
               bridge::webhook::util::thread_dom_parser::kept_capacity_bytes);
    BOOST_TEST(parser.get().capacity() >
               bridge::webhook::util::thread_dom_parser::kept_capacity_bytes);
  }
  BOOST_TEST(thread_parser->capacity() == 0u);
  bridge::webhook::util::thread_dom_parser parser;
  BOOST_TEST(answer_of(parser, R"({"answer":"small"})") == "small");
}

BOOST_AUTO_TEST_CASE(each_thread_has_its_own_parser) {
  dom::parser* here = nullptr;
  {
    bridge::webhook::util::thread_dom_parser parser;
    here = &parser.get();
  }
  dom::parser* there = nullptr;
  std::string answer;
  std::thread([&] {
    bridge::webhook::util::thread_dom_parser parser;
    there = &parser.get();
    answer = answer_of(parser, R"({"answer":"elsewhere"})");
  }).join();
  BOOST_TEST(there != here);
  BOOST_TEST(answer == "elsewhere");
}

BOOST_AUTO_TEST_SUITE_END()
