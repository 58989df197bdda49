// The local store's operator state against a clock the test moves: pauses (echoes extend,
// operators set, they end on their own), dead letters (paging, reasons, bounds), replays inside and
// outside the 24-hour window, and both surviving a restart on the same journal.
#include "bridge/store/local_store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <optional>
#include <random>

#include "bridge/store/errc.hpp"
#include "bridge/store/message_codec.hpp"

namespace asio = boost::asio;
using namespace bridge::store;
using namespace std::chrono_literals;

namespace {

// Time the test sets; waits end at once (the store only reads the time).
class manual_clock final : public bridge::webhook::io::clock {
 public:
  time_point now() const override { return steady_; }
  std::chrono::system_clock::time_point wall_now() const override { return wall_; }
  asio::awaitable<void> sleep_until(time_point) override { co_return; }
  void advance(std::chrono::milliseconds by) {
    steady_ += by;
    wall_ += by;
  }

 private:
  time_point steady_ = time_point{} + 1h;
  // 2026-11-30 10:00:00 UTC, whole seconds like Meta's timestamps.
  std::chrono::system_clock::time_point wall_{std::chrono::seconds(1'796'032'800)};
};

struct scratch_dir {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("local-store-test-" + std::to_string(std::random_device{}())))
                         .string();
  ~scratch_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

// Runs `task` on io until it completes (bounded) and returns its result.
template <class T>
T run(asio::io_context& io, asio::awaitable<T> task) {
  std::optional<T> out;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    BOOST_TEST_REQUIRE(!e);
    out = std::move(value);
  });
  io.restart();
  for (int i = 0; i < 100 && !out; ++i)
    io.run_one_for(100ms);
  BOOST_TEST_REQUIRE(out.has_value());
  return std::move(*out);
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

bridge::webhook::meta::inbound_message text(const std::string& id, const std::string& customer,
                                            std::chrono::system_clock::time_point sent) {
  bridge::webhook::meta::inbound_message m;
  m.id = id;
  m.phone_number_id = "106";
  m.customer_id = customer;
  m.kind = bridge::webhook::meta::message_kind::text;
  m.type = "text";
  m.disposition = bridge::webhook::meta::disposition::answer;
  m.text = "question " + id;
  m.timestamp = unix_seconds(sent);
  return m;
}

std::vector<verdict> admit(asio::io_context& io, local_store& store,
                           std::vector<bridge::webhook::meta::inbound_message> messages) {
  std::vector<admission_entry> entries;
  for (auto& m : messages)
    entries.push_back({pending_message{std::move(m), std::chrono::steady_clock::now(), false}});
  const admission_result result = run(io, store.admit(std::move(entries)));
  BOOST_TEST(!result.error);
  return result.verdicts;
}

dead_letter letter_for(const bridge::webhook::meta::inbound_message& m, std::string reason,
                       std::chrono::system_clock::time_point at) {
  return dead_letter{
      m.id, conversation_key(m), "91********10", m.text, std::move(reason), "HTTP 503", at,
      2,    encode_message(m)};
}

std::vector<std::string> ids_of(const std::vector<dead_letter>& letters) {
  std::vector<std::string> ids;
  for (const auto& d : letters)
    ids.push_back(d.wamid);
  return ids;
}

using ids = std::vector<std::string>;
using pause_record = bridge::store::pause;

struct store_fixture {
  asio::io_context io;
  std::shared_ptr<manual_clock> clock = std::make_shared<manual_clock>();
  local_store store{io.get_executor(), 100, nullptr, {}, clock};
};

}  // namespace

BOOST_AUTO_TEST_SUITE(local_store_suite)

BOOST_FIXTURE_TEST_CASE(a_paused_conversation_admits_as_paused_and_refuses_queued_sends,
                        store_fixture) {
  const auto t = clock->wall_now();
  BOOST_TEST((admit(io, store, {text("wamid.1", "911", t)}) == std::vector{verdict::stored}));
  const auto held = run(io, store.claim_next());
  BOOST_TEST_REQUIRE(held.has_value());
  BOOST_TEST(held->conversation == "106/911");

  BOOST_TEST(!run(io, store.pause(pause_record{"106/911", t, t + 1h, "operator"})));
  BOOST_TEST(run(io, store.is_paused("106/911")));
  BOOST_TEST(!run(io, store.is_paused("106/922")));
  // New messages of the paused conversation are remembered, not queued; others go on.
  BOOST_TEST((admit(io, store, {text("wamid.2", "911", t), text("wamid.3", "922", t)}) ==
              std::vector{verdict::paused, verdict::stored}));
  BOOST_TEST((admit(io, store, {text("wamid.2", "911", t)}) == std::vector{verdict::duplicate}));
  BOOST_TEST(store.unfinished() == 2u);  // wamid.1 (held) and wamid.3
  // The message taken before the pause is not answered late.
  const std::vector<std::string> first{"wamid.1"};
  BOOST_TEST((run(io, store.begin_send(*held, first)) == errc::paused));
}

BOOST_FIXTURE_TEST_CASE(an_echo_extends_a_pause_and_never_shortens_it_an_operator_sets_it,
                        store_fixture) {
  const auto t = clock->wall_now();
  BOOST_TEST(!run(io, store.pause(pause_record{"106/911", t, t + 12h, "echo"})));
  BOOST_TEST(!run(io, store.pause(pause_record{"106/911", t, t + 1h, "echo"})));  // never shorter
  auto paused = run(io, store.paused());
  BOOST_TEST_REQUIRE(paused.size() == 1u);
  BOOST_TEST((paused[0].until == t + 12h));
  BOOST_TEST(paused[0].why == "echo");

  clock->advance(10min);
  const auto later = clock->wall_now();
  BOOST_TEST(!run(io, store.pause(pause_record{"106/911", later, later + 12h, "echo"})));
  paused = run(io, store.paused());
  BOOST_TEST_REQUIRE(paused.size() == 1u);
  BOOST_TEST((paused[0].until == later + 12h));
  BOOST_TEST((paused[0].since == t));  // the pause that began first goes on

  // An operator's pause sets the end, shorter or not.
  BOOST_TEST(!run(io, store.pause(pause_record{"106/911", later, later + 30min, "operator"})));
  paused = run(io, store.paused());
  BOOST_TEST_REQUIRE(paused.size() == 1u);
  BOOST_TEST((paused[0].until == later + 30min));
  BOOST_TEST(paused[0].why == "operator");

  BOOST_TEST(run(io, store.resume("106/911")));
  BOOST_TEST(!run(io, store.resume("106/911")));
  BOOST_TEST(run(io, store.paused()).empty());
}

BOOST_FIXTURE_TEST_CASE(a_pause_ends_on_its_own_when_its_time_is_up, store_fixture) {
  const auto t = clock->wall_now();
  BOOST_TEST(!run(io, store.pause(pause_record{"106/911", t, t + 1s, "operator"})));
  BOOST_TEST((admit(io, store, {text("wamid.1", "911", t)}) == std::vector{verdict::paused}));
  clock->advance(1001ms);
  BOOST_TEST(!run(io, store.is_paused("106/911")));
  BOOST_TEST((admit(io, store, {text("wamid.2", "911", t)}) == std::vector{verdict::stored}));
  BOOST_TEST(run(io, store.paused()).empty());
  BOOST_TEST(!run(io, store.resume("106/911")));  // nothing left to resume
}

BOOST_FIXTURE_TEST_CASE(dead_letters_are_listed_newest_first_in_pages_and_by_reason,
                        store_fixture) {
  for (int i = 0; i < 5; ++i) {
    const auto m = text("wamid.d" + std::to_string(i), "91" + std::to_string(i), clock->wall_now());
    BOOST_TEST(
        !run(io, store.add_dead_letter(letter_for(
                     m, i % 2 == 0 ? "robofy_unavailable" : "graph_refused", clock->wall_now()))));
    clock->advance(1s);
  }
  BOOST_TEST((ids_of(run(io, store.dead_letters(2, "", ""))) == ids{"wamid.d4", "wamid.d3"}));
  BOOST_TEST(
      (ids_of(run(io, store.dead_letters(2, "wamid.d3", ""))) == ids{"wamid.d2", "wamid.d1"}));
  BOOST_TEST((ids_of(run(io, store.dead_letters(2, "wamid.d1", ""))) == ids{"wamid.d0"}));
  BOOST_TEST((ids_of(run(io, store.dead_letters(10, "", "graph_refused"))) ==
              ids{"wamid.d3", "wamid.d1"}));
  BOOST_TEST((ids_of(run(io, store.dead_letters(1, "wamid.d3", "robofy_unavailable"))) ==
              ids{"wamid.d2"}));
  BOOST_TEST(run(io, store.dead_letters(10, "", "no_such_reason")).empty());
  BOOST_TEST(run(io, store.dead_letters(10, "wamid.unknown", "")).empty());

  const auto found = run(io, store.find_dead_letter("wamid.d2"));
  BOOST_TEST_REQUIRE(found.has_value());
  BOOST_TEST(found->reason == "robofy_unavailable");
  BOOST_TEST(found->conversation == "106/912");
  BOOST_TEST(run(io, store.delete_dead_letter("wamid.d2")));
  BOOST_TEST(!run(io, store.delete_dead_letter("wamid.d2")));
  BOOST_TEST(!run(io, store.find_dead_letter("wamid.d2")).has_value());
  BOOST_TEST((ids_of(run(io, store.dead_letters(10, "", ""))) ==
              ids{"wamid.d4", "wamid.d3", "wamid.d1", "wamid.d0"}));
}

BOOST_FIXTURE_TEST_CASE(dead_letters_are_bounded_by_count_and_by_age, store_fixture) {
  store.set_dead_letter_limits(3, std::chrono::hours(24 * 7));
  for (int i = 0; i < 5; ++i) {
    const auto m = text("wamid.d" + std::to_string(i), "911", clock->wall_now());
    BOOST_TEST(
        !run(io, store.add_dead_letter(letter_for(m, "robofy_unavailable", clock->wall_now()))));
    clock->advance(1s);
  }
  // The oldest went first.
  BOOST_TEST(
      (ids_of(run(io, store.dead_letters(10, "", ""))) == ids{"wamid.d4", "wamid.d3", "wamid.d2"}));
  BOOST_TEST(store.dead_letters_dropped() == 2u);
  BOOST_TEST(!run(io, store.find_dead_letter("wamid.d0")).has_value());

  store.set_dead_letter_limits(100, 1h);
  clock->advance(2h);
  const auto fresh = text("wamid.fresh", "911", clock->wall_now());
  BOOST_TEST(
      !run(io, store.add_dead_letter(letter_for(fresh, "robofy_refused", clock->wall_now()))));
  BOOST_TEST((ids_of(run(io, store.dead_letters(10, "", ""))) == ids{"wamid.fresh"}));
  BOOST_TEST(store.dead_letters_dropped() == 5u);
}

BOOST_FIXTURE_TEST_CASE(a_replay_queues_the_message_once_within_the_service_window, store_fixture) {
  const auto t = clock->wall_now();
  const auto m = text("wamid.r", "911", t - 1h);
  BOOST_TEST((admit(io, store, {m}) == std::vector{verdict::stored}));
  auto held = run(io, store.claim_next());
  BOOST_TEST_REQUIRE(held.has_value());
  const std::vector<std::string> one{"wamid.r"};
  BOOST_TEST(!run(io, store.finish(*held, one)));
  run(io, [&]() -> asio::awaitable<bool> {
    co_await store.release(std::move(*held));
    co_return true;
  }());
  BOOST_TEST(!run(io, store.add_dead_letter(letter_for(m, "robofy_unavailable", t))));
  BOOST_TEST(store.unfinished() == 0u);

  BOOST_TEST((run(io, store.replay("wamid.r", t - 24h)) == replay_result::queued));
  BOOST_TEST((run(io, store.replay("wamid.r", t - 24h)) == replay_result::not_found));
  BOOST_TEST(!run(io, store.find_dead_letter("wamid.r")).has_value());
  const auto again = run(io, store.claim_next());
  BOOST_TEST_REQUIRE(again.has_value());
  BOOST_TEST_REQUIRE(again->messages.size() == 1u);
  BOOST_TEST(again->messages[0].message.id == "wamid.r");
  BOOST_TEST(again->messages[0].message.text == "question wamid.r");
  BOOST_TEST((run(io, store.replay("wamid.never", t - 24h)) == replay_result::not_found));
}

BOOST_FIXTURE_TEST_CASE(a_replay_is_refused_when_the_customers_last_message_is_older_than_a_day,
                        store_fixture) {
  const auto t = clock->wall_now();
  // Delivered now (Meta retried it for a while), written 30 hours ago.
  const auto old = text("wamid.old", "911", t - 30h);
  BOOST_TEST((admit(io, store, {old}) == std::vector{verdict::stored}));
  BOOST_TEST(!run(io, store.add_dead_letter(letter_for(old, "robofy_unavailable", t))));
  BOOST_TEST((run(io, store.replay("wamid.old", t - 24h)) == replay_result::window_closed));
  BOOST_TEST(run(io, store.find_dead_letter("wamid.old")).has_value());  // still kept

  // A newer message from the same customer opens the window again.
  BOOST_TEST(
      (admit(io, store, {text("wamid.new", "911", t - 1h)}) == std::vector{verdict::stored}));
  BOOST_TEST((run(io, store.replay("wamid.old", t - 24h)) == replay_result::queued));
}

BOOST_AUTO_TEST_CASE(pauses_and_dead_letters_survive_a_restart_on_the_same_journal) {
  scratch_dir dir;
  asio::io_context io;
  auto clock = std::make_shared<manual_clock>();
  const auto t = clock->wall_now();
  {
    bridge::queue::spool_recovery none;
    auto journal = bridge::queue::spool::open(io.get_executor(), dir.path, none);
    local_store store(io.get_executor(), 100, std::move(journal), none, clock);
    BOOST_TEST(!run(io, store.pause(pause_record{"106/911", t, t + 1h, "operator"})));
    BOOST_TEST(!run(io, store.pause(pause_record{"106/922", t, t + 12h, "echo"})));
    BOOST_TEST(!run(io, store.pause(pause_record{"106/933", t, t + 12h, "echo"})));
    BOOST_TEST(run(io, store.resume("106/933")));
    for (const char* id : {"wamid.k1", "wamid.k2", "wamid.k3"}) {
      BOOST_TEST(!run(io, store.add_dead_letter(
                              letter_for(text(id, "911", t), "graph_refused", clock->wall_now()))));
      clock->advance(1s);
    }
    BOOST_TEST(run(io, store.delete_dead_letter("wamid.k2")));
  }  // closed as kill -9 would leave it: what was queued for the disk is in the file
  bridge::queue::spool_recovery recovered;
  auto journal = bridge::queue::spool::open(io.get_executor(), dir.path, recovered);
  local_store store(io.get_executor(), 100, std::move(journal), recovered, clock);
  const auto paused = run(io, store.paused());
  BOOST_TEST_REQUIRE(paused.size() == 2u);
  BOOST_TEST(paused[0].conversation == "106/911");
  BOOST_TEST(paused[0].why == "operator");
  BOOST_TEST((paused[0].until == t + 1h));
  BOOST_TEST(paused[1].conversation == "106/922");
  BOOST_TEST(run(io, store.is_paused("106/922")));
  BOOST_TEST(!run(io, store.is_paused("106/933")));
  BOOST_TEST((ids_of(run(io, store.dead_letters(10, "", ""))) == ids{"wamid.k3", "wamid.k1"}));
  const auto kept = run(io, store.find_dead_letter("wamid.k1"));
  BOOST_TEST_REQUIRE(kept.has_value());
  BOOST_TEST(kept->reason == "graph_refused");
  // The stored message came back whole: a replay after the restart queues it.
  BOOST_TEST((run(io, store.replay("wamid.k1", t - 24h)) == replay_result::queued));
  const auto held = run(io, store.claim_next());
  BOOST_TEST_REQUIRE(held.has_value());
  BOOST_TEST(held->messages.at(0).message.text == "question wamid.k1");
}

BOOST_AUTO_TEST_SUITE_END()
