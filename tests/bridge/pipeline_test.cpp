// The pipeline's workers end to end over stubs and a memory store, in virtual time: one worker
// per conversation, strictly in order, no head-of-line blocking across conversations, the
// coalesce window, drain within the grace, and what stop() reports.
#include "bridge/pipeline.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/test/unit_test.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/stub_pipeline.hpp"

namespace asio = boost::asio;
using namespace bridge;
using bridge::webhook::meta::admission;
using namespace std::chrono_literals;

namespace {

bool always(const robofy::chat_request&) {
  return true;
}

// Starts pipeline::drain(grace); the result lands in `result` when it returns.
void start_drain(test::stub_pipeline& p, std::chrono::milliseconds grace,
                 std::optional<bool>& result) {
  asio::co_spawn(p.io, p.work->drain(grace), [&result](std::exception_ptr e, bool finished) {
    if (e) std::rethrow_exception(e);
    result = finished;
  });
  test::settle(p.io);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pipeline_workers)

// One conversation is answered by one worker at a time, strictly in order: lines that arrive
// while it is being answered wait, then go together in the next query.
BOOST_AUTO_TEST_CASE(one_conversation_is_answered_in_order_one_query_at_a_time) {
  test::stub_pipeline p;  // four workers
  p.chat->hold = always;
  BOOST_TEST((p.admit({test::text_message("w.1", "one")}) == admission::accepted));
  BOOST_TEST(p.chat->queries() == (std::vector<std::string>{"one"}));
  BOOST_TEST(p.work->conversations_in_flight() == 1u);
  BOOST_TEST((p.admit({test::text_message("w.2", "two")}) == admission::accepted));
  BOOST_TEST((p.admit({test::text_message("w.3", "three")}) == admission::accepted));
  BOOST_TEST(p.chat->calls().size() == 1u);  // idle workers do not take the held conversation
  BOOST_TEST(p.work->queued() == 3u);

  p.chat->release();
  test::settle(p.io);
  BOOST_TEST(p.chat->queries() == (std::vector<std::string>{"one", "two\nthree"}));
  p.chat->release();
  test::settle(p.io);
  BOOST_TEST(p.sender->bodies() ==
             (std::vector<std::string>{"answer to: one", "answer to: two\nthree"}));
  BOOST_TEST(p.store->begun == (std::vector<std::vector<std::string>>{{"w.1"}, {"w.2", "w.3"}}));
  BOOST_TEST(p.store->finished == p.store->begun);
  BOOST_TEST(p.work->queued() == 0u);
  BOOST_TEST(p.work->conversations_in_flight() == 0u);
  BOOST_TEST(p.work->answering().answers == 2u);
}

// A conversation whose answer is slow never delays another: while A waits for Robofy, B is
// answered; A is answered when Robofy is.
BOOST_AUTO_TEST_CASE(a_slow_conversation_does_not_delay_another) {
  test::stub_pipeline p;
  p.chat->hold = [](const robofy::chat_request& r) { return r.session_id == "9198"; };
  p.admit(
      {test::text_message("w.a", "from A", "9198"), test::text_message("w.b", "from B", "9199")});
  BOOST_TEST(p.chat->held() == 1u);
  BOOST_TEST_REQUIRE(p.sender->texts().size() == 1u);
  BOOST_TEST(p.sender->texts()[0].recipient == "9199");
  BOOST_TEST(p.work->conversations_in_flight() == 1u);
  p.chat->release("9198");
  test::settle(p.io);
  BOOST_TEST(p.sender->texts().size() == 2u);
  BOOST_TEST(p.sender->texts()[1].recipient == "9198");
}

// With a single worker, conversations wait their turn; each is still answered whole.
BOOST_AUTO_TEST_CASE(conversations_queue_for_the_workers_there_are) {
  config::settings cfg = test::stub_config();
  cfg.queue.workers = 1;
  test::stub_pipeline p(cfg);
  p.chat->hold = always;
  p.admit({test::text_message("w.a", "A", "9198"), test::text_message("w.b", "B", "9199")});
  BOOST_TEST(p.chat->queries() == (std::vector<std::string>{"A"}));
  p.chat->release();
  test::settle(p.io);
  BOOST_TEST(p.chat->queries() == (std::vector<std::string>{"A", "B"}));
  p.chat->release();
  test::settle(p.io);
  BOOST_TEST(p.sender->texts().size() == 2u);
}

// The coalesce window: a worker waits that long after taking a conversation, and lines that
// arrive meanwhile are asked in the same query.
BOOST_AUTO_TEST_CASE(the_coalesce_window_joins_lines_typed_within_it) {
  config::settings cfg = test::stub_config();
  cfg.queue.coalesce_window = 2s;
  test::stub_pipeline p(cfg);
  const auto start = p.clock->now();
  p.admit({test::text_message("w.1", "Hi")});
  BOOST_TEST(p.chat->calls().empty());
  p.clock->advance(1s);
  p.admit({test::text_message("w.2", "is the shop open")});
  p.clock->advance(1s - 1ns);
  BOOST_TEST(p.chat->calls().empty());
  p.clock->advance(1ns);
  BOOST_TEST_REQUIRE(p.chat->calls().size() == 1u);
  BOOST_TEST(p.chat->calls()[0].request.query == "Hi\nis the shop open");
  BOOST_TEST((p.chat->calls()[0].at == start + 2s));
  BOOST_TEST(p.sender->texts().size() == 1u);
  BOOST_TEST(p.store->begun == (std::vector<std::vector<std::string>>{{"w.1", "w.2"}}));
}

// A backlog over the joined-query limit is asked in several queries, in order, each recorded
// in the store before it is sent.
BOOST_AUTO_TEST_CASE(a_long_backlog_is_asked_in_several_queries) {
  test::stub_pipeline p;
  p.chat->hold = always;
  p.admit({test::text_message("w.0", "first")});
  const std::string line(40 * 1024, 'x');
  p.admit({test::text_message("w.1", line), test::text_message("w.2", line),
           test::text_message("w.3", "short")});
  p.chat->hold = {};
  p.chat->respond = [](const robofy::chat_request&) { return test::robofy_answer("noted"); };
  p.chat->release();
  test::settle(p.io);
  BOOST_TEST(p.store->begun ==
             (std::vector<std::vector<std::string>>{{"w.0"}, {"w.1"}, {"w.2", "w.3"}}));
  BOOST_TEST(p.chat->calls().size() == 3u);
  BOOST_TEST(p.sender->texts().size() == 3u);
}

// drain() returns true once every accepted message is answered; meanwhile new deliveries get
// 503 (draining).
BOOST_AUTO_TEST_CASE(drain_is_true_when_everything_is_answered) {
  test::stub_pipeline p;
  p.chat->hold = always;
  p.admit({test::text_message("w.1", "one"), test::text_message("w.2", "two", "9199")});
  std::optional<bool> drained;
  start_drain(p, 5000ms, drained);
  BOOST_TEST(!drained.has_value());
  BOOST_TEST((p.admit({test::text_message("w.3", "late")}) == admission::draining));
  p.chat->release("9198");
  test::settle(p.io);
  BOOST_TEST(!drained.has_value());  // one left
  p.chat->release();
  test::settle(p.io);
  BOOST_TEST_REQUIRE(drained.has_value());
  BOOST_TEST(*drained);
  BOOST_TEST(p.sender->texts().size() == 2u);
}

// drain() with nothing queued is true at once.
BOOST_AUTO_TEST_CASE(drain_with_nothing_queued_is_true_at_once) {
  test::stub_pipeline p;
  std::optional<bool> drained;
  start_drain(p, 5000ms, drained);
  BOOST_TEST_REQUIRE(drained.has_value());
  BOOST_TEST(*drained);
}

// drain() gives up after the grace (on the pipeline's clock) and says so.
BOOST_AUTO_TEST_CASE(drain_is_false_after_the_grace) {
  test::stub_pipeline p;
  p.chat->hold = always;
  p.admit({test::text_message("w.1", "one")});
  std::optional<bool> drained;
  start_drain(p, 5000ms, drained);
  p.clock->advance(5s - 1ns);
  BOOST_TEST(!drained.has_value());
  p.clock->advance(1ns);
  BOOST_TEST_REQUIRE(drained.has_value());
  BOOST_TEST(!*drained);
  BOOST_TEST(p.work->queued() == 1u);
}

// stop() reports every message left, being answered or waiting, and the workers end: a held
// Robofy call is cancelled and nothing is sent.
BOOST_AUTO_TEST_CASE(stop_reports_what_was_left) {
  config::settings cfg = test::stub_config();
  cfg.queue.workers = 1;
  test::stub_pipeline p(cfg);
  p.chat->hold = always;
  p.admit({test::text_message("w.a", "A", "9198"), test::text_message("w.b1", "B1", "9199"),
           test::text_message("w.b2", "B2", "9199")});
  BOOST_TEST(p.chat->held() == 1u);
  BOOST_TEST(p.stop() == 3u);
  test::settle(p.io);
  BOOST_TEST(p.chat->held() == 0u);
  BOOST_TEST(p.sender->calls().empty());
  BOOST_TEST(p.chat->calls().size() == 1u);
}

// A store that fences off begin_send (the claim is no longer ours) gets nothing sent. The store is
// asked after Robofy answered, right before the send, so a claim lost while Robofy was thinking
// sends no stale reply.
BOOST_AUTO_TEST_CASE(nothing_is_sent_without_the_stores_go_ahead) {
  test::stub_pipeline p;
  p.store->begin_send_error = make_error_code(boost::system::errc::operation_not_permitted);
  p.admit({test::text_message("w.1", "one")});
  BOOST_TEST(p.store->begun.size() == 1u);
  BOOST_TEST(p.chat->calls().size() == 1u);
  BOOST_TEST(p.sender->calls().empty());
  BOOST_TEST(p.store->finished.empty());
}

// A reload applies to conversations taken from then on: the new capacity at once, the new reply
// texts to the next answer.
BOOST_AUTO_TEST_CASE(a_reload_applies_to_the_next_conversation) {
  test::stub_pipeline p;
  p.chat->script.push_back(test::robofy_error(400));
  p.chat->script.push_back(test::robofy_error(400));
  p.admit({test::text_message("w.1", "one")});
  config::settings cfg = test::stub_config();
  cfg.replies.fallback_text = "Back soon.";
  cfg.queue.capacity = 1;
  p.work->update(test::tuned(cfg));
  BOOST_TEST(p.work->capacity() == 1u);
  p.admit({test::text_message("w.2", "two")});
  BOOST_TEST(p.sender->bodies() ==
             (std::vector<std::string>{test::stub_config().replies.fallback_text, "Back soon."}));
}

BOOST_AUTO_TEST_SUITE_END()
