// The pure pieces under the client: reply values and their error kinds, the hiredis-backed
// encoder and parser, and script SHA-1s.
#include "queue/redis/reply.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "queue/redis/errc.hpp"
#include "queue/redis/reply_reader.hpp"
#include "queue/redis/request.hpp"
#include "queue/redis/script.hpp"

using namespace bridge::queue::redis;

namespace {

// Feeds wire one byte at a time and collects every reply that comes out.
std::vector<reply> parse_byte_by_byte(const std::string& wire) {
  reply_reader reader;
  std::vector<reply> out;
  for (char c : wire) {
    BOOST_REQUIRE(reader.feed(&c, 1));
    for (;;) {
      auto next = reader.next();
      BOOST_REQUIRE(next.has_value());
      if (!*next) break;
      out.push_back(std::move(**next));
    }
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reply_suite)

BOOST_AUTO_TEST_CASE(error_kinds_come_from_the_first_word) {
  const std::pair<std::string, server_error> cases[] = {
      {"OOM command not allowed when used memory > 'maxmemory'.", server_error::oom},
      {"READONLY You can't write against a read only replica.", server_error::readonly},
      {"LOADING Redis is loading the dataset in memory", server_error::loading},
      {"NOREPLICAS Not enough good replicas to write.", server_error::noreplicas},
      {"NOSCRIPT No matching script. Please use EVAL.", server_error::noscript},
      {"BUSY Redis is busy running a script.", server_error::busy},
      {"MASTERDOWN Link with MASTER is down", server_error::masterdown},
      {"NOAUTH Authentication required.", server_error::auth},
      {"WRONGPASS invalid username-password pair or user is disabled.", server_error::auth},
      {"WRONGTYPE Operation against a key holding the wrong kind of value",
       server_error::wrongtype},
      {"ERR unknown command 'FOO'", server_error::other},
      {"BUSYKEY Target key name already exists.", server_error::other},
      {"OOMPH not a real error", server_error::other},
      {"", server_error::other},
  };
  for (const auto& [message, kind] : cases) {
    BOOST_TEST((classify_server_error(message) == kind), message);
    BOOST_TEST((reply::make_error(message).error_kind() == kind), message);
  }
}

BOOST_AUTO_TEST_CASE(transient_kinds_are_the_retry_later_ones) {
  for (auto kind : {server_error::oom, server_error::readonly, server_error::loading,
                    server_error::noreplicas, server_error::busy, server_error::masterdown}) {
    BOOST_TEST(is_transient(kind), to_string(kind));
  }
  for (auto kind : {server_error::none, server_error::noscript, server_error::auth,
                    server_error::wrongtype, server_error::other}) {
    BOOST_TEST(!is_transient(kind), to_string(kind));
  }
}

BOOST_AUTO_TEST_CASE(accessors_answer_only_for_their_type) {
  const reply number = reply::make_integer(42);
  BOOST_TEST(number.integer().value() == 42);
  BOOST_TEST(!number.text().has_value());
  BOOST_TEST(number.error_kind() == server_error::none);

  const reply bulk = reply::make_string(std::string("a\0b", 3));
  BOOST_TEST(bulk.text().value() == std::string_view("a\0b", 3));
  BOOST_TEST(!bulk.integer().has_value());
  BOOST_TEST(reply::make_status("OK").text().value() == "OK");

  const reply nil;
  BOOST_TEST(nil.is_nil());
  BOOST_TEST(!nil.text().has_value());
  BOOST_TEST(nil.elements().empty());

  const reply error = reply::make_error("ERR nope");
  BOOST_TEST(error.is_error());
  BOOST_TEST(error.error_message() == "ERR nope");
  BOOST_TEST(!error.text().has_value());
  BOOST_TEST(bulk.error_message().empty());

  const reply array = reply::make_array({number, nil});
  BOOST_TEST(array.elements().size() == 2u);
  BOOST_TEST(array.describe() == "[(integer) 42, (nil)]");
}

BOOST_AUTO_TEST_CASE(describe_cuts_long_text) {
  const std::string describe = reply::make_string(std::string(1000, 'x')).describe();
  BOOST_TEST(describe.size() < 80u);
  BOOST_TEST(describe.find("...") != std::string::npos);
  BOOST_TEST(reply::make_error("ERR x").describe() == "(error) ERR x");
}

BOOST_AUTO_TEST_CASE(requests_are_resp_arrays_of_bulk_strings) {
  request req;
  req.push({"SET", "k", std::string_view("v\0\r\n", 4)});
  BOOST_TEST(req.size() == 1u);
  BOOST_TEST(req.wire() == std::string("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\nv\0\r\n\r\n", 30));

  const std::vector<std::string> args{"GET", "k"};
  request more;
  more.push(args).push({"PING"});
  req.append(more);
  BOOST_TEST(req.size() == 3u);
  BOOST_TEST(req.wire().ends_with("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n"));
  BOOST_CHECK_THROW(req.push(std::span<const std::string_view>{}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(replies_parse_from_any_fragmentation) {
  const std::string wire =
      "+OK\r\n:-42\r\n$3\r\nfoo\r\n$0\r\n\r\n$-1\r\n*-1\r\n*3\r\n$1\r\na\r\n*1\r\n:1\r\n*0\r\n"
      "-ERR bad thing\r\n";
  const std::vector<reply> expected{
      reply::make_status("OK"),
      reply::make_integer(-42),
      reply::make_string("foo"),
      reply::make_string(""),
      reply{},
      reply{},
      reply::make_array({reply::make_string("a"), reply::make_array({reply::make_integer(1)}),
                         reply::make_array({})}),
      reply::make_error("ERR bad thing"),
  };
  const std::vector<reply> got = parse_byte_by_byte(wire);
  BOOST_TEST(got == expected, boost::test_tools::per_element());

  reply_reader whole;
  BOOST_REQUIRE(whole.feed(wire.data(), wire.size()));
  for (const reply& want : expected) {
    auto next = whole.next();
    BOOST_REQUIRE(next.has_value());
    BOOST_REQUIRE(next->has_value());
    BOOST_TEST(**next == want);
  }
  BOOST_TEST(!whole.next().value().has_value());
}

BOOST_AUTO_TEST_CASE(bytes_that_are_not_resp_are_a_protocol_error) {
  reply_reader reader;
  const std::string junk = "HTTP/1.1 400 Bad Request\r\n";
  reader.feed(junk.data(), junk.size());
  auto next = reader.next();
  BOOST_REQUIRE(!next.has_value());
  BOOST_TEST(next.error() == make_error_code(errc::protocol_error));
  BOOST_TEST(!reader.error_text().empty());
  BOOST_TEST(!reader.feed("+OK\r\n", 5));  // broken for good
}

BOOST_AUTO_TEST_CASE(script_names_are_sha1_hex) {
  BOOST_TEST(sha1_hex("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  const script s("return 1");
  BOOST_TEST(s.sha1() == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
  BOOST_TEST(s.source() == "return 1");
  const script copy = s;
  BOOST_TEST(&copy.source() == &s.source());  // copies share the text
}

BOOST_AUTO_TEST_CASE(errc_values_have_messages_in_their_own_category) {
  const boost::system::error_code ec = errc::timeout;
  BOOST_TEST(ec.category().name() == std::string("bridge.queue.redis"));
  BOOST_TEST(ec.message() == "redis did not answer in time");
  BOOST_TEST(make_error_code(errc::auth_failed).message().find("credentials") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
