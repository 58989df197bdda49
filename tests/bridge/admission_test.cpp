// Admission: classify() as a pure function, then pipeline::admit over a store, with stubs for the
// upstreams and a manual clock: what is accepted, remembered, refused and counted, and a store
// that cannot take a delivery (a journal write that fails) turning into a 503.
#include "bridge/admission.hpp"

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <filesystem>
#include <random>
#include <string>

#include "bridge/store/local_store.hpp"
#include "queue/spool.hpp"
#include "tests/support/log_capture.hpp"
#include "tests/support/stub_pipeline.hpp"

using namespace bridge;
using bridge::webhook::meta::admission;
using namespace std::chrono_literals;

namespace {

const auto t0 = test::manual_clock::default_wall_start;

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

webhook::meta::inbound_message sent_at(webhook::meta::inbound_message m,
                                       std::chrono::system_clock::time_point when) {
  m.timestamp = unix_seconds(when);
  return m;
}

struct scratch_dir {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("admission-test-" + std::to_string(std::random_device{}())))
                         .string();
  ~scratch_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(classify_suite)

// A message exactly max_message_age old is still answered; one second more is stale.
BOOST_AUTO_TEST_CASE(max_message_age_is_inclusive) {
  const config::settings s = test::stub_config();
  const auto age = s.queue.max_message_age;
  BOOST_TEST(
      (classify(sent_at(test::text_message("a", "hi"), t0 - age), s, t0) == message_class::answer));
  BOOST_TEST((classify(sent_at(test::text_message("a", "hi"), t0 - age - 1s), s, t0) ==
              message_class::stale));
  // From the future (a skewed clock at Meta): answered.
  BOOST_TEST(
      (classify(sent_at(test::text_message("a", "hi"), t0 + 1h), s, t0) == message_class::answer));
}

// Timestamp 0 means Meta sent none (or a bad one): never stale.
BOOST_AUTO_TEST_CASE(a_message_without_a_timestamp_is_never_stale) {
  const config::settings s = test::stub_config();
  const auto m = test::text_message("a", "hi");
  BOOST_TEST(m.timestamp == 0);
  BOOST_TEST((classify(m, s, t0 + 24h * 365 * 10) == message_class::answer));
}

// A number is routed by its exact route or by "*"; without either it is unrouted.
BOOST_AUTO_TEST_CASE(routes_match_exactly_or_by_the_wildcard) {
  config::settings s = test::stub_config();  // a route for "106" only
  BOOST_TEST(
      (classify(test::text_message("a", "hi", "9198", "106"), s, t0) == message_class::answer));
  BOOST_TEST(
      (classify(test::text_message("a", "hi", "9198", "107"), s, t0) == message_class::unrouted));
  BOOST_TEST(
      (classify(test::text_message("a", "hi", "9198", "10"), s, t0) == message_class::unrouted));
  s.routes.push_back(config::route{"*", "pid-any", "bot-any", std::nullopt, 80});
  BOOST_TEST(
      (classify(test::text_message("a", "hi", "9198", "107"), s, t0) == message_class::answer));
  s.routes.clear();
  s.routes.push_back(config::route{"*", "pid-any", "bot-any", std::nullopt, 80});
  BOOST_TEST(
      (classify(test::text_message("a", "hi", "9198", "106"), s, t0) == message_class::answer));
}

// What is never answered is no_answer first; an oversized text is refused before its age or route
// matter; a text of exactly max_text_bytes is answered.
BOOST_AUTO_TEST_CASE(the_order_of_the_checks) {
  const config::settings s = test::stub_config();
  const auto old = t0 - 48h;
  BOOST_TEST((classify(sent_at(test::reaction_message("r", "9198", "999"), old), s, t0) ==
              message_class::no_answer));
  BOOST_TEST(
      (classify(sent_at(test::text_message("o", std::string(webhook::meta::max_text_bytes + 1, 'x'),
                                           "9198", "999"),
                        old),
                s, t0) == message_class::oversized));
  BOOST_TEST((classify(test::text_message("f", std::string(webhook::meta::max_text_bytes, 'x')), s,
                       t0) == message_class::answer));
  BOOST_TEST((classify(sent_at(test::text_message("s", "hi", "9198", "999"), old), s, t0) ==
              message_class::stale));
  // A voice note is answered (with the unsupported text): it is stored like a question.
  BOOST_TEST((classify(test::voice_message("v"), s, t0) == message_class::answer));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(admission_suite)

// Each kind of message is counted once, only answerable ones are stored, and every id is
// remembered: Meta's retry of the same delivery is all duplicates.
BOOST_AUTO_TEST_CASE(each_message_is_counted_stored_or_remembered) {
  test::stub_pipeline p;
  p.sender->hold = [](const test::graph_call&) { return true; };  // keep them unfinished
  const auto now = p.clock->wall_now();
  const std::vector<webhook::meta::inbound_message> delivery = {
      test::text_message("w.text", "hello"),
      test::text_message("w.text", "hello"),  // the same wamid twice in one POST
      test::reaction_message("w.reaction"),
      sent_at(test::text_message("w.stale", "yesterday's"), now - 25h),
      test::text_message("w.unrouted", "hi", "9198", "999"),
      test::text_message("w.oversized", std::string(webhook::meta::max_text_bytes + 1, 'x')),
      test::voice_message("w.voice", "9199"),
  };
  BOOST_TEST((p.admit(delivery) == admission::accepted));
  const admission_counters& c = p.work->admissions();
  BOOST_TEST(c.accepted == 2u);  // the text and the voice note
  BOOST_TEST(c.duplicates == 1u);
  BOOST_TEST(c.skipped == 1u);
  BOOST_TEST(c.stale == 1u);
  BOOST_TEST(c.unrouted == 1u);
  BOOST_TEST(c.oversized == 1u);
  BOOST_TEST(c.refused == 0u);
  BOOST_TEST(c.by_type.at(webhook::meta::message_kind::text) == 5u);
  BOOST_TEST(p.work->queued() == 2u);

  // Meta delivers it again: every id is known.
  BOOST_TEST((p.admit(delivery) == admission::accepted));
  BOOST_TEST(c.duplicates == 1u + delivery.size());
  BOOST_TEST(c.accepted == 2u);
  BOOST_TEST(p.work->queued() == 2u);
}

// At queue.capacity the message that does not fit and everything after it are refused (each
// counted), what came before stays accepted, and Meta's retry delivers only the rest.
BOOST_AUTO_TEST_CASE(a_full_queue_refuses_the_rest_of_the_delivery) {
  config::settings cfg = test::stub_config();
  cfg.queue.capacity = 2;
  test::stub_pipeline p(cfg);
  p.chat->hold = [](const robofy::chat_request&) { return true; };
  const std::vector<webhook::meta::inbound_message> delivery = {
      test::text_message("w.1", "one", "9198"), test::text_message("w.2", "two", "9199"),
      test::text_message("w.3", "three", "9200"),
      test::reaction_message("w.4"),  // after the refused one: refused too, not remembered
  };
  BOOST_TEST((p.admit(delivery) == admission::overloaded));
  const admission_counters& c = p.work->admissions();
  BOOST_TEST(c.accepted == 2u);
  BOOST_TEST(c.refused == 2u);
  BOOST_TEST(c.skipped == 0u);
  BOOST_TEST(p.work->queued() == 2u);

  // Still full: the first two are duplicates, the other two refused again.
  BOOST_TEST((p.admit(delivery) == admission::overloaded));
  BOOST_TEST(c.duplicates == 2u);
  BOOST_TEST(c.refused == 4u);

  // Once the first two are answered, the retry is accepted.
  p.chat->release();
  test::settle(p.io);
  BOOST_TEST(p.work->queued() == 0u);
  BOOST_TEST((p.admit(delivery) == admission::accepted));
  BOOST_TEST(c.accepted == 3u);
  BOOST_TEST(c.skipped == 1u);
  BOOST_TEST(c.duplicates == 4u);
}

// The store takes the messages it stores; admission still names every message in its lines: at
// info level the stored one too, at warn level the ones not answered and the one refused.
BOOST_AUTO_TEST_CASE(every_line_names_its_message_after_the_store_took_it) {
  for (const auto level : {spdlog::level::info, spdlog::level::warn}) {
    config::settings cfg = test::stub_config();
    cfg.queue.capacity = 1;
    test::stub_pipeline p(cfg);
    test::log_capture log(level);  // after the pipeline, whose quiet_logs turns logging off
    p.chat->hold = [](const robofy::chat_request&) { return true; };
    const std::vector<webhook::meta::inbound_message> delivery = {
        test::text_message("w.stored", "the question", "9198"),
        test::reaction_message("w.reaction"),
        test::text_message("w.oversized", std::string(webhook::meta::max_text_bytes + 1, 'x')),
        test::text_message("w.unrouted", "hi", "9198", "999"),
        test::text_message("w.refused", "no room", "9199"),
    };
    BOOST_TEST((p.admit(delivery) == admission::overloaded));
    const bool info = level == spdlog::level::info;
    BOOST_TEST(log.lines_with("message w.stored from").size() == (info ? 1u : 0u), log.text());
    BOOST_TEST(log.lines_with("message w.reaction of type reaction").size() == (info ? 1u : 0u),
               log.text());
    const std::string too_long = "message w.oversized refused: its text is " +
                                 std::to_string(webhook::meta::max_text_bytes / 1024) + " KiB";
    BOOST_TEST(log.lines_with(too_long).size() == 1u, log.text());
    BOOST_TEST(log.lines_with("message w.unrouted for business number 999").size() == 1u,
               log.text());
    BOOST_TEST(log.lines_with("refusing w.refused and the rest").size() == 1u, log.text());
    // What the store took is whole: the worker asks Robofy the question itself.
    test::settle(p.io);
    BOOST_TEST((p.chat->queries() == std::vector<std::string>{"the question"}));
  }
}

// While draining, every message of a delivery is refused (503) and counted; nothing is stored.
BOOST_AUTO_TEST_CASE(draining_refuses_every_message) {
  test::stub_pipeline p;
  p.work->begin_drain();
  BOOST_TEST((p.admit({test::text_message("w.1", "one"), test::reaction_message("w.2")}) ==
              admission::draining));
  BOOST_TEST(p.work->admissions().refused == 2u);
  BOOST_TEST(p.work->admissions().accepted == 0u);
  BOOST_TEST(p.work->queued() == 0u);
}

// A store that cannot take the delivery makes it unstored (503): every message counted as
// refused, none remembered, so Meta's retry is accepted once the store works again.
BOOST_AUTO_TEST_CASE(a_failing_store_makes_the_delivery_unstored) {
  test::stub_pipeline p;
  p.store->admit_error = make_error_code(boost::system::errc::io_error);
  const std::vector<webhook::meta::inbound_message> delivery = {test::text_message("w.1", "one"),
                                                                test::reaction_message("w.2")};
  BOOST_TEST((p.admit(delivery) == admission::unstored));
  BOOST_TEST(p.work->admissions().refused == 2u);
  BOOST_TEST(p.work->admissions().accepted == 0u);
  BOOST_TEST(p.work->queued() == 0u);
  test::settle(p.io);
  BOOST_TEST(p.chat->calls().empty());

  p.store->admit_error = {};
  BOOST_TEST((p.admit(delivery) == admission::accepted));
  BOOST_TEST(p.work->admissions().accepted == 1u);
  BOOST_TEST(p.work->admissions().skipped == 1u);
  BOOST_TEST(p.work->admissions().duplicates == 0u);
}

// The same with a real journal: a write the disk refuses (ENOSPC) is a 503, nothing is queued or
// remembered; once the disk takes writes again Meta's retry is accepted and answered.
BOOST_AUTO_TEST_CASE(a_journal_write_that_fails_makes_the_delivery_unstored) {
  scratch_dir dir;
  auto disk_full = std::make_shared<std::atomic<bool>>(true);
  test::stub_pipeline p(test::stub_config(), {}, [&](boost::asio::any_io_executor executor) {
    queue::spool_options options;
    options.inject_write_error = [disk_full] { return disk_full->load() ? ENOSPC : 0; };
    queue::spool_recovery recovered;
    auto journal = queue::spool::open(executor, dir.path, recovered, options);
    return std::make_shared<store::local_store>(executor, 100, std::move(journal), recovered);
  });
  const std::vector<webhook::meta::inbound_message> delivery = {
      test::text_message("w.1", "one"), test::reaction_message("w.r"),
      test::text_message("w.2", "two", "9199")};
  BOOST_TEST((p.admit(delivery) == admission::unstored));
  BOOST_TEST(p.work->admissions().refused == 3u);
  BOOST_TEST(p.work->queued() == 0u);
  test::settle(p.io);
  BOOST_TEST(p.chat->calls().empty());

  disk_full->store(false);
  BOOST_TEST((p.admit(delivery) == admission::accepted));
  BOOST_TEST(p.work->admissions().accepted == 2u);
  BOOST_TEST(p.work->admissions().skipped == 1u);  // the reaction is not taken for a duplicate
  BOOST_TEST(p.work->admissions().duplicates == 0u);
  // Answered: the workers wait for their started records on the writer thread.
  BOOST_TEST(test::run_until(p.io, [&] { return p.sender->texts().size() == 2u; }));
}

// Statuses and what the parser could not read are counted at admission.
BOOST_AUTO_TEST_CASE(statuses_and_unreadable_messages_are_counted) {
  test::stub_pipeline p;
  webhook::meta::delivery d;
  d.statuses.push_back(
      webhook::meta::status_update{"wamid.out", "delivered", "9198", "106", 0, ""});
  d.statuses.push_back(webhook::meta::status_update{"wamid.out", "strange", "9198", "106", 0, ""});
  d.skipped_messages = 2;
  d.oversized_ids = 1;
  d.value_errors = 1;
  BOOST_TEST((p.admit(std::move(d)) == admission::accepted));
  const admission_counters& c = p.work->admissions();
  BOOST_TEST(c.statuses == 2u);
  BOOST_TEST(c.by_status.at("delivered") == 1u);
  BOOST_TEST(c.by_status.at("other") == 1u);
  BOOST_TEST(c.unreadable == 3u);
  BOOST_TEST(c.value_errors == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
