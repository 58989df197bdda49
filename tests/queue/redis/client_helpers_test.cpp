// The helpers every client gets from the interface (command, run_script), against a fake that
// records what it is asked and answers from a script: what a test double of client looks like.
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <deque>
#include <string>
#include <vector>

#include "queue/redis/client.hpp"
#include "tests/queue/redis/test_io.hpp"

namespace asio = boost::asio;
using namespace bridge::queue::redis;
using namespace bridge::queue::redis::test;
using boost::system::result;

namespace {

// Answers each execute() with the next canned outcome and keeps the request's bytes.
class canned_client final : public client {
 public:
  asio::awaitable<result<std::vector<reply>>> execute(request req) override {
    sent.push_back(req.wire());
    BOOST_REQUIRE(!answers.empty());
    result<std::vector<reply>> next = std::move(answers.front());
    answers.pop_front();
    co_return next;
  }
  bool connected() const noexcept override { return true; }
  client_stats stats() const override { return {}; }
  void close() noexcept override {}

  std::deque<result<std::vector<reply>>> answers;
  std::vector<std::string> sent;
};

std::string wire_of(std::initializer_list<std::string_view> command) {
  request req;
  req.push(command);
  return req.wire();
}

const reply noscript = reply::make_error("NOSCRIPT No matching script. Please use EVAL.");

}  // namespace

BOOST_AUTO_TEST_SUITE(client_helpers_suite)

BOOST_AUTO_TEST_CASE(command_encodes_its_arguments_before_it_returns) {
  asio::io_context io;
  canned_client fake;
  fake.answers.push_back(std::vector<reply>{reply::make_status("OK")});
  auto pending = [&] {
    std::string key = "short-lived";
    return fake.command({"SET", key, "v"});
  }();  // key is gone before the command runs
  BOOST_TEST(run(io, std::move(pending)).value() == reply::make_status("OK"));
  BOOST_TEST(fake.sent.front() == wire_of({"SET", "short-lived", "v"}));
}

BOOST_AUTO_TEST_CASE(every_form_of_command_sends_the_same_bytes) {
  asio::io_context io;
  canned_client fake;
  for (int i = 0; i < 4; ++i)
    fake.answers.push_back(std::vector<reply>{reply{}});
  const std::string key = "k";
  const std::vector<std::string> strings{"GET", key};
  const std::array<std::string_view, 2> views{"GET", key};
  run(io, fake.command({"GET", key}));
  run(io, fake.command(strings));
  run(io, fake.command(views));
  run(io, fake.command("GET", key));
  BOOST_TEST(fake.sent.size() == 4u);
  for (const std::string& wire : fake.sent)
    BOOST_TEST(wire == wire_of({"GET", "k"}));
}

BOOST_AUTO_TEST_CASE(inline_arguments_may_be_temporaries_inside_a_coroutine) {
  asio::io_context io;
  canned_client fake;
  fake.answers.push_back(std::vector<reply>{reply::make_status("OK")});
  auto caller = [](client& c, int n) -> asio::awaitable<result<reply>> {
    co_return co_await c.command("SET", "key:" + std::to_string(n), std::to_string(n * 2));
  };
  BOOST_TEST(run(io, caller(fake, 21)).value() == reply::make_status("OK"));
  BOOST_TEST(fake.sent.front() == wire_of({"SET", "key:21", "42"}));
}

BOOST_AUTO_TEST_CASE(run_script_sends_evalsha_with_keys_then_arguments) {
  asio::io_context io;
  canned_client fake;
  fake.answers.push_back(std::vector<reply>{reply::make_integer(7)});
  const script s("return 7");
  BOOST_TEST(run(io, fake.run_script(s, {"k1", "k2"}, {"a1"})).value() == reply::make_integer(7));
  BOOST_REQUIRE(fake.sent.size() == 1u);
  BOOST_TEST(fake.sent[0] == wire_of({"EVALSHA", s.sha1(), "2", "k1", "k2", "a1"}));
}

BOOST_AUTO_TEST_CASE(noscript_loads_and_retries_once_in_one_round_trip) {
  asio::io_context io;
  canned_client fake;
  const script s("return 1");
  fake.answers.push_back(std::vector<reply>{noscript});
  fake.answers.push_back(std::vector<reply>{reply::make_string(s.sha1()), reply::make_integer(1)});
  const std::vector<std::string> keys{"k"}, args;
  BOOST_TEST(run(io, fake.run_script(s, keys, args)).value() == reply::make_integer(1));
  BOOST_REQUIRE(fake.sent.size() == 2u);
  BOOST_TEST(fake.sent[1] ==
             wire_of({"SCRIPT", "LOAD", "return 1"}) + wire_of({"EVALSHA", s.sha1(), "1", "k"}));
}

BOOST_AUTO_TEST_CASE(a_second_noscript_is_returned_not_retried) {
  asio::io_context io;
  canned_client fake;
  const script s("return 1");
  fake.answers.push_back(std::vector<reply>{noscript});
  fake.answers.push_back(std::vector<reply>{reply::make_string(s.sha1()), noscript});
  const std::array<std::string_view, 1> keys{"k"}, args{"a"};
  const reply r = run(io, fake.run_script(s, keys, args)).value();
  BOOST_TEST(r.error_kind() == server_error::noscript);
  BOOST_TEST(fake.sent.size() == 2u);
}

BOOST_AUTO_TEST_CASE(transport_errors_pass_through) {
  asio::io_context io;
  canned_client fake;
  fake.answers.push_back(make_error_code(errc::timeout));
  const auto r = run(io, fake.run_script(script("return 1"), {}, {}));
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == make_error_code(errc::timeout));

  fake.answers.push_back(make_error_code(errc::not_connected));
  BOOST_TEST(run(io, fake.command({"PING"})).error() == make_error_code(errc::not_connected));
}

BOOST_AUTO_TEST_SUITE_END()
