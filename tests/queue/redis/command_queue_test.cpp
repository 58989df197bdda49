// Matching replies to requests: first in, first out, several replies per request, abandoned
// requests keep their place, and a reply nobody asked for is caught.
#include "queue/redis/command_queue.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include "queue/redis/errc.hpp"

using namespace bridge::queue::redis;

namespace {

struct fixture {
  boost::asio::io_context io;

  std::shared_ptr<pending_request> make(std::initializer_list<std::string_view> first,
                                        std::size_t extra_pings = 0) {
    request req;
    req.push(first);
    for (std::size_t i = 0; i < extra_pings; ++i)
      req.push({"PING"});
    return std::make_shared<pending_request>(
        io.get_executor(), std::move(req),
        std::chrono::steady_clock::now() + std::chrono::hours(1));
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(command_queue_suite, fixture)

BOOST_AUTO_TEST_CASE(replies_go_to_requests_in_write_order) {
  command_queue queue;
  auto a = make({"GET", "a"});
  auto b = make({"GET", "b"}, 2);  // three commands
  auto c = make({"GET", "c"});
  queue.push(a);
  queue.push(b);
  auto first = queue.take_unwritten();
  BOOST_TEST(first.size() == 2u);
  queue.push(c);
  BOOST_TEST(queue.take_unwritten().size() == 1u);
  BOOST_TEST(queue.awaiting() == 3u);

  for (int i = 1; i <= 5; ++i)
    BOOST_TEST(queue.deliver(reply::make_integer(i)));
  BOOST_TEST(a->done);
  BOOST_TEST(a->replies == std::vector<reply>{reply::make_integer(1)});
  BOOST_TEST(b->done);
  BOOST_TEST(b->replies.size() == 3u);
  BOOST_TEST(b->replies.back() == reply::make_integer(4));
  BOOST_TEST(c->done);
  BOOST_TEST(c->replies == std::vector<reply>{reply::make_integer(5)});
  BOOST_TEST(!c->error);
  BOOST_TEST(!queue.deliver(reply::make_integer(6)));  // nobody asked
}

BOOST_AUTO_TEST_CASE(abandoned_requests_keep_their_place_once_written) {
  command_queue queue;
  auto gone = make({"GET", "a"});
  auto waiting = make({"GET", "b"});
  queue.push(gone);
  queue.push(waiting);
  queue.take_unwritten();
  gone->abandoned = true;
  BOOST_TEST(queue.deliver(reply::make_string("for a")));
  BOOST_TEST(gone->replies.empty());
  BOOST_TEST(queue.deliver(reply::make_string("for b")));
  BOOST_TEST(waiting->replies == std::vector<reply>{reply::make_string("for b")});
}

BOOST_AUTO_TEST_CASE(abandoned_requests_are_never_written) {
  command_queue queue;
  auto gone = make({"SET", "a", "1"});
  auto kept = make({"SET", "b", "1"});
  queue.push(gone);
  queue.push(kept);
  gone->abandoned = true;
  auto batch = queue.take_unwritten();
  BOOST_TEST(batch.size() == 1u);
  BOOST_TEST(batch.front() == kept);
  BOOST_TEST(queue.awaiting() == 1u);
}

BOOST_AUTO_TEST_CASE(fail_all_completes_written_and_unwritten_requests) {
  command_queue queue;
  auto written = make({"GET", "a"});
  auto unwritten = make({"GET", "b"});
  queue.push(written);
  queue.take_unwritten();
  queue.push(unwritten);
  queue.fail_all(errc::connection_lost);
  for (const auto& p : {written, unwritten}) {
    BOOST_TEST(p->done);
    BOOST_TEST(p->error == make_error_code(errc::connection_lost));
  }
  BOOST_TEST(queue.awaiting() == 0u);
  BOOST_TEST(!queue.has_unwritten());
  BOOST_TEST(!queue.deliver(reply{}));
}

BOOST_AUTO_TEST_CASE(completion_wakes_the_waiting_caller) {
  command_queue queue;
  auto p = make({"PING"});
  bool woke = false;
  p->signal.async_wait(
      [&](boost::system::error_code ec) { woke = ec == boost::asio::error::operation_aborted; });
  queue.push(p);
  queue.take_unwritten();
  queue.deliver(reply::make_status("PONG"));
  io.run_for(std::chrono::seconds(1));
  BOOST_TEST(woke);
}

BOOST_AUTO_TEST_SUITE_END()
