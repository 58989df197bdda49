// answer_messages against the Robofy and Graph stubs with a manual clock: the query, the answer
// formatted and split, Robofy's retries, backoff and circuit breaker, Graph's throttling, pair
// limit and permanent errors, pacing per number, and the typing indicator, all in virtual time.
#include "bridge/conversation_worker.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>
#include <list>
#include <optional>
#include <string>
#include <vector>

#include "bridge/store/local_store.hpp"
#include "tests/support/io_steps.hpp"
#include "tests/support/manual_clock.hpp"
#include "tests/support/stub_services.hpp"
#include "webhook/format/text_split.hpp"
#include "webhook/util/utf8.hpp"

namespace asio = boost::asio;
using namespace bridge;
using namespace std::chrono_literals;
using test::graph_accepted;
using test::graph_error;
using test::robofy_answer;
using test::robofy_error;

namespace {

// answer_messages with its context over stubs, on an io_context the test drives.
struct worker_rig {
  explicit worker_rig(const std::function<void(runtime_settings&)>& tune = {},
                      const std::function<void(config::settings&)>& adjust = {})
      : settings(make_settings(tune, adjust)),
        robofy_breaker(settings->robofy_breaker),
        graph_breaker(settings->graph_breaker) {}

  static std::shared_ptr<const runtime_settings> make_settings(
      const std::function<void(runtime_settings&)>& tune,
      const std::function<void(config::settings&)>& adjust) {
    config::settings cfg = test::stub_config();
    if (adjust) adjust(cfg);
    return test::tuned(std::move(cfg), [&](runtime_settings& s) {
      s.retry_base_delay = 100ms;
      s.retry_max_delay = 1s;
      s.typing_refresh = 20s;
      s.pair_limit_base = 1s;
      if (tune) tune(s);
    });
  }

  // Starts answering `messages` (kept here while it runs) and runs what is ready.
  void answer(std::vector<webhook::meta::inbound_message> messages) {
    std::vector<store::pending_message>& batch = batches.emplace_back();
    for (auto& m : messages)
      batch.push_back(store::pending_message{std::move(m), clock.now(), false});
    asio::co_spawn(io,
                   answer_messages(batch, settings,
                                   worker_context{chat, sender, clock, robofy_breaker,
                                                  graph_breaker, store, counters, random}),
                   [this](std::exception_ptr e, answer_outcome outcome) {
                     if (e) std::rethrow_exception(e);
                     outcomes.push_back(std::move(outcome));
                     ++finished;
                   });
    test::settle(io);
  }

  test::quiet_logs quiet;
  boost::asio::io_context io;
  test::manual_clock clock{io};
  test::stub_chat chat{clock};
  test::stub_sender sender{clock};
  std::shared_ptr<const runtime_settings> settings;
  circuit_breaker robofy_breaker;
  circuit_breaker graph_breaker;
  // Memory only; it paces sends per number on the manual clock and remembers outbound wamids.
  store::local_store store{io.get_executor(), 100, nullptr, queue::spool_recovery{},
                           std::shared_ptr<webhook::io::clock>(&clock, [](auto*) {})};
  worker_counters counters;
  std::mt19937_64 random{20251124};
  std::list<std::vector<store::pending_message>> batches;
  std::vector<answer_outcome> outcomes;
  int finished = 0;

  // Whether the store remembers which conversation outbound message `id` answered.
  bool knows_reply(const std::string& id) {
    std::optional<std::optional<store::reply_origin>> found;
    asio::co_spawn(io, store.find_reply(id),
                   [&](std::exception_ptr e, std::optional<store::reply_origin> origin) {
                     if (e) std::rethrow_exception(e);
                     found = std::move(origin);
                   });
    test::settle(io);
    return found && found->has_value();
  }
};

// A paragraph without Markdown: `word` repeated to about `bytes` bytes, ending with a full stop.
std::string paragraph(const std::string& word, std::size_t bytes = 3000) {
  std::string text = word;
  while (text.size() + word.size() + 1 < bytes)
    text += ' ' + word;
  return text + '.';
}

}  // namespace

BOOST_AUTO_TEST_SUITE(conversation_worker)

// One question: Robofy is asked with the route's agent and the customer's session, and its
// Markdown answer goes to the customer as WhatsApp markup, to the right number with its token.
BOOST_AUTO_TEST_CASE(a_question_is_answered_with_robofys_answer_formatted) {
  worker_rig rig;
  rig.chat.script.push_back(robofy_answer("**Yes**, we open at _9_."));
  rig.answer({test::text_message("w.1", "Are you open?")});
  BOOST_TEST(rig.finished == 1);
  BOOST_TEST_REQUIRE(rig.chat.calls().size() == 1u);
  const test::chat_call& ask = rig.chat.calls()[0];
  BOOST_TEST(ask.request.query == "Are you open?");
  BOOST_TEST(ask.request.pid == "pid-1");
  BOOST_TEST(ask.request.chatbot_id == "bot-1");
  BOOST_TEST(ask.request.session_id == "9198");
  BOOST_TEST(ask.target.api_key == "robofy-key");
  BOOST_TEST_REQUIRE(rig.sender.texts().size() == 1u);
  const test::graph_call send = rig.sender.texts()[0];
  BOOST_TEST(send.body == "*Yes*, we open at _9_.");
  BOOST_TEST(send.recipient == "9198");
  BOOST_TEST(!send.recipient_is_username);
  BOOST_TEST(send.target.phone_number_id == "106");
  BOOST_TEST(send.target.access_token == "graph-token");
  BOOST_TEST(rig.sender.reads().empty());  // typing indicator off
  BOOST_TEST(rig.counters.answers == 1u);
  BOOST_TEST(rig.counters.parts_sent == 1u);
  BOOST_TEST(rig.counters.robofy_calls == 1u);
  BOOST_TEST(rig.knows_reply("wamid.out.1"));
}

// Several waiting lines are one query, in order, newline-separated; a voice note among them adds
// nothing to it, and the reply goes to the first message's customer.
BOOST_AUTO_TEST_CASE(waiting_messages_are_joined_into_one_query_in_order) {
  worker_rig rig;
  rig.answer({test::text_message("w.1", "Hi"), test::voice_message("w.2"),
              test::text_message("w.3", "do you deliver"), test::text_message("w.4", "to Pune?")});
  BOOST_TEST(rig.chat.queries() == (std::vector<std::string>{"Hi\ndo you deliver\nto Pune?"}));
  BOOST_TEST(rig.sender.texts().size() == 1u);
  BOOST_TEST(rig.finished == 1);
}

// A bridge stopping past shutdown.grace cuts Robofy's call off: that is no Robofy failure, so no
// fallback text is counted or sent; the worker ends as a cancelled operation does.
BOOST_AUTO_TEST_CASE(a_call_cut_off_by_the_shutdown_sends_no_fallback) {
  worker_rig rig({}, [](config::settings& c) { c.robofy.max_attempts = 1; });
  asio::cancellation_signal stop;
  rig.chat.respond = [&](const robofy::chat_request&) {
    stop.emit(asio::cancellation_type::terminal);  // the pipeline stops while Robofy is asked
    return robofy_error(503);                      // as the HTTP client reports a cut-off call
  };
  std::vector<store::pending_message> batch{
      store::pending_message{test::text_message("w.1", "hello"), rig.clock.now(), false}};
  std::optional<std::exception_ptr> ended;
  const auto worker = [&]() -> asio::awaitable<answer_outcome> {
    // A real worker has waited for something before (the stubs answer without waiting); co_spawn
    // finishes a coroutine that never waited with a post, which a cancellation makes throw.
    co_await asio::post(rig.io, asio::use_awaitable);
    co_return co_await answer_messages(
        batch, rig.settings,
        worker_context{rig.chat, rig.sender, rig.clock, rig.robofy_breaker, rig.graph_breaker,
                       rig.store, rig.counters, rig.random});
  };
  asio::co_spawn(rig.io, worker(),
                 asio::bind_cancellation_slot(
                     stop.slot(), [&](std::exception_ptr e, answer_outcome) { ended = e; }));
  test::settle(rig.io);
  BOOST_TEST_REQUIRE(ended.has_value());
  BOOST_TEST_REQUIRE(static_cast<bool>(*ended));
  try {
    std::rethrow_exception(*ended);
  } catch (const boost::system::system_error& e) {
    BOOST_TEST(e.code() == asio::error::operation_aborted);
  }
  BOOST_TEST(rig.chat.calls().size() == 1u);
  BOOST_TEST(rig.counters.fallbacks == 0u);
  BOOST_TEST(rig.sender.texts().empty());
}

// A customer known only by username is answered through "recipient", not "to".
BOOST_AUTO_TEST_CASE(a_username_customer_is_answered_by_recipient) {
  worker_rig rig;
  auto m = test::text_message("w.1", "hello", "IN.1349");
  m.customer_is_username = true;
  rig.answer({m});
  BOOST_TEST_REQUIRE(rig.sender.texts().size() == 1u);
  BOOST_TEST(rig.sender.texts()[0].recipient == "IN.1349");
  BOOST_TEST(rig.sender.texts()[0].recipient_is_username);
  BOOST_TEST(rig.chat.calls()[0].request.session_id == "IN.1349");
}

// Robofy's 5xx is retried after a backoff of at most base × 2^(n-1): nothing happens before the
// backoff is over, the next call comes when it is; after max_attempts calls the customer gets
// the fallback text, once.
BOOST_AUTO_TEST_CASE(robofy_5xx_is_retried_with_backoff_then_the_fallback) {
  worker_rig rig;
  for (int i = 0; i < 4; ++i)
    rig.chat.script.push_back(robofy_error(503));
  rig.answer({test::text_message("w.1", "hello")});
  BOOST_TEST(rig.chat.calls().size() == 1u);
  for (std::size_t call = 2; call <= 4; ++call) {
    const auto ceiling = 100ms * (1 << (call - 2));
    const auto next = rig.clock.next_deadline();
    BOOST_TEST_REQUIRE(next.has_value());
    const auto backoff = *next - rig.clock.now();
    BOOST_TEST((backoff >= 0ms && backoff < ceiling), "before call " << call);
    if (backoff > 0ms) {
      rig.clock.advance(backoff - 1ns);
      BOOST_TEST(rig.chat.calls().size() == call - 1, "nothing before the backoff is over");
    }
    rig.clock.advance_to_next();
    BOOST_TEST(rig.chat.calls().size() == call);
    BOOST_TEST((rig.chat.calls().back().at == *next));
  }
  BOOST_TEST(rig.finished == 1);
  BOOST_TEST(rig.clock.sleepers() == 0u);
  BOOST_TEST(rig.sender.bodies() ==
             (std::vector<std::string>{test::stub_config().replies.fallback_text}));
  BOOST_TEST(rig.counters.fallbacks == 1u);
  BOOST_TEST(rig.counters.answers == 0u);
  BOOST_TEST(rig.counters.robofy_outcomes.at("retry") == 4u);
}

// A 429 is retried too, and an answer after a failure is sent as usual.
BOOST_AUTO_TEST_CASE(robofy_recovers_within_its_attempts) {
  worker_rig rig;
  rig.chat.script = {robofy_error(429), robofy_error(500), robofy_answer("fine")};
  rig.answer({test::text_message("w.1", "hello")});
  while (rig.clock.advance_to_next()) {
  }
  BOOST_TEST(rig.chat.calls().size() == 3u);
  BOOST_TEST(rig.sender.bodies() == (std::vector<std::string>{"fine"}));
  BOOST_TEST(rig.counters.answers == 1u);
  BOOST_TEST(rig.finished == 1);
}

// A 4xx is not retried: one call, then the fallback at once.
BOOST_AUTO_TEST_CASE(robofy_4xx_gets_the_fallback_without_a_retry) {
  worker_rig rig;
  rig.chat.script.push_back(robofy_error(400));
  rig.answer({test::text_message("w.1", "hello")});
  BOOST_TEST(rig.finished == 1);
  BOOST_TEST(rig.chat.calls().size() == 1u);
  BOOST_TEST(rig.clock.sleepers() == 0u);
  BOOST_TEST(rig.sender.bodies() ==
             (std::vector<std::string>{test::stub_config().replies.fallback_text}));
  BOOST_TEST(rig.counters.robofy_outcomes.at("permanent") == 1u);
}

// After failure_threshold failures in a row the breaker opens: the next conversation gets the
// fallback without a call; after the pause one probe goes out and its success closes it.
BOOST_AUTO_TEST_CASE(the_circuit_breaker_opens_after_failures_and_probes_after_the_pause) {
  worker_rig rig(
      [](runtime_settings& s) {
        s.robofy_breaker.failure_threshold = 2;
        s.robofy_breaker.open_time = 5s;
      },
      [](config::settings& c) { c.robofy.max_attempts = 2; });
  rig.chat.script = {robofy_error(502), robofy_error(502)};
  rig.answer({test::text_message("w.1", "first")});
  rig.clock.advance_to_next();
  BOOST_TEST(rig.finished == 1);
  BOOST_TEST(rig.chat.calls().size() == 2u);
  BOOST_TEST((rig.robofy_breaker.current() == circuit_breaker::state::open));

  rig.answer({test::text_message("w.2", "second", "9199")});
  BOOST_TEST(rig.finished == 2);
  BOOST_TEST(rig.chat.calls().size() == 2u);  // not asked
  BOOST_TEST(rig.counters.robofy_outcomes.at("circuit_open") == 1u);
  BOOST_TEST(rig.counters.fallbacks == 2u);
  BOOST_TEST(rig.sender.texts().size() == 2u);

  rig.clock.advance(5s);
  rig.answer({test::text_message("w.3", "third", "9200")});
  BOOST_TEST(rig.chat.calls().size() == 3u);  // the probe
  BOOST_TEST((rig.robofy_breaker.current() == circuit_breaker::state::closed));
  BOOST_TEST(rig.sender.bodies().back() == "answer to: third");
}

// An answer with nothing left to show once rendered for WhatsApp (a rule, an HTML comment, a
// lone &nbsp;) is no answer: the customer gets the fallback text rather than silence.
BOOST_AUTO_TEST_CASE(an_answer_that_renders_to_nothing_gets_the_fallback) {
  for (const char* answer : {"---", "<!-- thinking -->", "&nbsp;", "<br>"}) {
    worker_rig rig;
    rig.chat.script.push_back(robofy_answer(answer));
    rig.answer({test::text_message("w.1", "hello")});
    BOOST_TEST(rig.finished == 1);
    BOOST_TEST(rig.sender.bodies() ==
                   (std::vector<std::string>{test::stub_config().replies.fallback_text}),
               answer);
    BOOST_TEST(rig.counters.fallbacks == 1u, answer);
    BOOST_TEST(rig.counters.answers == 0u, answer);
  }
}

// Only messages the bridge cannot read: the unsupported text, without asking Robofy; with the
// typing indicator on, the last one is marked read without "typing…".
BOOST_AUTO_TEST_CASE(an_unsupported_only_batch_gets_the_unsupported_text) {
  worker_rig rig({}, [](config::settings& c) { c.replies.typing_indicator = true; });
  rig.answer({test::voice_message("w.1"), test::voice_message("w.2")});
  BOOST_TEST(rig.finished == 1);
  BOOST_TEST(rig.chat.calls().empty());
  BOOST_TEST(rig.sender.bodies() ==
             (std::vector<std::string>{test::stub_config().replies.unsupported_text}));
  BOOST_TEST_REQUIRE(rig.sender.reads().size() == 1u);
  BOOST_TEST(rig.sender.reads()[0].message_id == "w.2");
  BOOST_TEST(!rig.sender.reads()[0].typing);
  BOOST_TEST(rig.counters.unsupported == 1u);
}

// Graph throttling (130429) is retried after a backoff; the part is sent once Meta takes it.
BOOST_AUTO_TEST_CASE(graph_throttling_is_retried) {
  worker_rig rig;
  rig.sender.script = {graph_error(400, 130429), graph_error(400, 130429),
                       graph_accepted("wamid.out.x")};
  rig.answer({test::text_message("w.1", "hello")});
  BOOST_TEST(rig.sender.texts().size() == 1u);
  rig.clock.advance_to_next();
  BOOST_TEST(rig.sender.texts().size() == 2u);
  rig.clock.advance_to_next();
  BOOST_TEST(rig.sender.texts().size() == 3u);
  BOOST_TEST(rig.finished == 1);
  BOOST_TEST(rig.counters.parts_sent == 1u);
  BOOST_TEST(rig.counters.send_failures == 0u);
  BOOST_TEST(rig.counters.graph_calls == 3u);
  BOOST_TEST((rig.counters.graph_outcomes.at({"retry", "130429"}) == 2u));
  BOOST_TEST(rig.knows_reply("wamid.out.x"));
}

// A permanent error (131047: outside the 24-hour window) is not retried: one call, counted as a
// failed reply.
BOOST_AUTO_TEST_CASE(a_permanent_graph_error_is_not_retried) {
  worker_rig rig;
  rig.sender.script = {graph_error(400, 131047)};
  rig.answer({test::text_message("w.1", "hello")});
  BOOST_TEST(rig.finished == 1);
  BOOST_TEST(rig.sender.texts().size() == 1u);
  BOOST_TEST(rig.clock.sleepers() == 0u);
  BOOST_TEST(rig.counters.send_failures == 1u);
  BOOST_TEST(rig.counters.parts_sent == 0u);
  BOOST_TEST((rig.graph_breaker.current() == circuit_breaker::state::closed));
}

// Meta's pair rate limit (131056) is waited out base × 4^n at a time, counted, and does not count
// against the Graph API's breaker.
BOOST_AUTO_TEST_CASE(the_pair_rate_limit_waits_four_to_the_n_times_the_base) {
  worker_rig rig([](runtime_settings& s) { s.graph_breaker.failure_threshold = 1; });
  rig.sender.script = {graph_error(400, 131056), graph_error(400, 131056),
                       graph_error(400, 131056)};
  rig.answer({test::text_message("w.1", "hello")});
  rig.clock.advance(1s - 1ns);
  BOOST_TEST(rig.sender.texts().size() == 1u);
  rig.clock.advance(1ns);
  BOOST_TEST(rig.sender.texts().size() == 2u);
  rig.clock.advance(4s);
  BOOST_TEST(rig.sender.texts().size() == 3u);
  rig.clock.advance(16s);
  const auto texts = rig.sender.texts();
  BOOST_TEST_REQUIRE(texts.size() == 4u);
  BOOST_TEST((texts[1].at - texts[0].at == 1s));
  BOOST_TEST((texts[2].at - texts[1].at == 4s));
  BOOST_TEST((texts[3].at - texts[2].at == 16s));
  BOOST_TEST(rig.counters.pair_limited == 3u);
  BOOST_TEST(rig.counters.parts_sent == 1u);
  BOOST_TEST((rig.graph_breaker.current() == circuit_breaker::state::closed));
  BOOST_TEST(rig.finished == 1);
}

// More parts than one number's burst are spaced 1/rate apart (rate 8: a burst of 2, then one
// every 125 ms), and every part goes in order, each after the previous was accepted.
BOOST_AUTO_TEST_CASE(sends_beyond_the_burst_are_paced_at_the_numbers_rate) {
  worker_rig rig({}, [](config::settings& c) { c.routes[0].messages_per_second = 8; });
  const std::string long_answer = paragraph("alpha") + "\n\n" + paragraph("bravo") + "\n\n" +
                                  paragraph("charlie") + "\n\n" + paragraph("delta");
  rig.chat.script.push_back(robofy_answer(long_answer));
  const auto start = rig.clock.now();
  rig.answer({test::text_message("w.1", "tell me everything")});
  rig.clock.advance(1s);
  const auto texts = rig.sender.texts();
  BOOST_TEST_REQUIRE(texts.size() == 4u);
  BOOST_TEST((texts[0].at == start));
  BOOST_TEST((texts[1].at == start));
  BOOST_TEST((texts[2].at == start + 125ms));
  BOOST_TEST((texts[3].at == start + 250ms));
  const char* words[] = {"alpha", "bravo", "charlie", "delta"};
  for (std::size_t i = 0; i < texts.size(); ++i)
    BOOST_TEST(texts[i].body.starts_with(words[i]), "part " << i);
  BOOST_TEST(rig.finished == 1);
}

// While Robofy thinks the customer sees the message read and "typing…": once at the start,
// again every typing_refresh, and never after the answer is in.
BOOST_AUTO_TEST_CASE(typing_is_shown_and_refreshed_until_the_answer) {
  worker_rig rig([](runtime_settings& s) { s.typing_refresh = 20s; },
                 [](config::settings& c) { c.replies.typing_indicator = true; });
  rig.chat.hold = [](const robofy::chat_request&) { return true; };
  rig.answer({test::text_message("w.1", "first"), test::text_message("w.2", "second")});
  BOOST_TEST(rig.chat.held() == 1u);
  BOOST_TEST_REQUIRE(rig.sender.reads().size() == 1u);
  BOOST_TEST(rig.sender.reads()[0].message_id == "w.2");  // the last message
  BOOST_TEST(rig.sender.reads()[0].typing);
  rig.clock.advance(20s - 1ns);
  BOOST_TEST(rig.sender.reads().size() == 1u);
  rig.clock.advance(1ns);
  BOOST_TEST(rig.sender.reads().size() == 2u);
  rig.clock.advance(20s);
  BOOST_TEST(rig.sender.reads().size() == 3u);
  BOOST_TEST(rig.sender.reads()[2].typing);

  rig.chat.release();
  test::settle(rig.io);
  BOOST_TEST(rig.finished == 1);
  BOOST_TEST(rig.sender.texts().size() == 1u);
  BOOST_TEST(rig.clock.sleepers() == 0u);  // the refresh loop ended with the answer
  rig.clock.advance(1h);
  BOOST_TEST(rig.sender.reads().size() == 3u);
  BOOST_TEST(rig.counters.read_marks == 3u);
  // The reads came before the answer.
  BOOST_TEST(!rig.sender.calls().back().read);
}

// An answer over replies.max_parts messages is cut: max_parts parts, in order, the last ending
// with the cut notice, each within WhatsApp's 4096 UTF-16 units.
BOOST_AUTO_TEST_CASE(a_long_answer_is_cut_to_max_parts_with_the_notice) {
  worker_rig rig({}, [](config::settings& c) { c.replies.max_parts = 2; });
  // Each paragraph needs a message of its own (emoji are two UTF-16 units each).
  const std::string answer = paragraph("one\xF0\x9F\x98\x80") + "\n\n" +
                             paragraph("two\xF0\x9F\x98\x80") + "\n\n" +
                             paragraph("three\xF0\x9F\x98\x80");
  rig.chat.script.push_back(robofy_answer(answer));
  rig.answer({test::text_message("w.1", "everything please")});
  const auto bodies = rig.sender.bodies();
  BOOST_TEST_REQUIRE(bodies.size() == 2u);
  BOOST_TEST(bodies[0].starts_with("one"));
  BOOST_TEST(bodies[1].starts_with("two"));
  BOOST_TEST(bodies[1].ends_with("\n\n" + test::stub_config().replies.cut_notice));
  for (const std::string& body : bodies)
    BOOST_TEST(webhook::util::utf16_length(body) <= webhook::format::max_text_units);
  BOOST_TEST(rig.counters.answers_cut == 1u);
  BOOST_TEST(rig.counters.parts_sent == 2u);
}

// When a part is given up, the parts after it are not sent: the customer never gets a reply
// with a hole in it.
BOOST_AUTO_TEST_CASE(a_part_given_up_stops_the_rest) {
  worker_rig rig;
  rig.chat.script.push_back(robofy_answer(paragraph("alpha") + "\n\n" + paragraph("bravo") +
                                          "\n\n" + paragraph("charlie")));
  rig.sender.script = {graph_accepted("wamid.out.a"), graph_error(400, 131047)};
  rig.answer({test::text_message("w.1", "tell me")});
  BOOST_TEST(rig.finished == 1);
  BOOST_TEST(rig.sender.texts().size() == 2u);
  BOOST_TEST(rig.counters.parts_sent == 1u);
  BOOST_TEST(rig.counters.send_failures == 1u);
}

// A number whose route was removed by a reload is not answered, and nothing is called.
BOOST_AUTO_TEST_CASE(a_number_without_a_route_any_more_is_not_answered) {
  worker_rig rig;
  rig.answer({test::text_message("w.1", "hello", "9198", "999")});
  BOOST_TEST(rig.finished == 1);
  BOOST_TEST(rig.chat.calls().empty());
  BOOST_TEST(rig.sender.calls().empty());
  BOOST_TEST(rig.counters.unrouted == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
