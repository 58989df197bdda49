// The local store driven by io.poll(): admission verdicts, capacity counted across claims,
// claims that wait and take a conversation whole, take_more, release, close, and a journal that
// refuses a write. Then its operator state against a manual clock: pauses (echoes extend,
// operators set, they end on their own), dead letters (paging, reasons, bounds), replays inside
// and outside the 24-hour window, and both surviving a restart on the same journal.
#include "bridge/store/local_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bridge/store/errc.hpp"
#include "bridge/store/message_codec.hpp"
#include "tests/support/io_steps.hpp"
#include "tests/support/manual_clock.hpp"

namespace asio = boost::asio;
using namespace bridge::store;
using bridge::test::run_until;
using bridge::test::settle;
using namespace std::chrono_literals;

namespace {

bridge::webhook::meta::inbound_message text(const std::string& id,
                                            const std::string& customer = "9198") {
  bridge::webhook::meta::inbound_message m;
  m.id = id;
  m.phone_number_id = "106";
  m.customer_id = customer;
  m.kind = bridge::webhook::meta::message_kind::text;
  m.type = "text";
  m.disposition = bridge::webhook::meta::disposition::answer;
  m.text = "text of " + id;
  return m;
}

admission_entry entry(const std::string& id, const std::string& customer = "9198",
                      bool answer = true) {
  return admission_entry{pending_message{text(id, customer), {}, false}, answer};
}

std::vector<std::string> ids_of(const claim& c) {
  std::vector<std::string> ids;
  for (const auto& p : c.messages)
    ids.push_back(p.message.id);
  return ids;
}

// Runs an awaitable of the store to its end (the journal completes on its writer thread).
template <class T>
T complete(asio::io_context& io, asio::awaitable<T> op) {
  std::optional<T> result;
  asio::co_spawn(io, std::move(op), [&](std::exception_ptr e, T value) {
    if (e) std::rethrow_exception(e);
    result = std::move(value);
  });
  BOOST_TEST_REQUIRE(run_until(io, [&] { return result.has_value(); }));
  return std::move(*result);
}

void complete(asio::io_context& io, asio::awaitable<void> op) {
  bool done = false;
  asio::co_spawn(io, std::move(op), [&](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
    done = true;
  });
  BOOST_TEST_REQUIRE(run_until(io, [&] { return done; }));
}

// A claim_next() started now, whose result lands in `out` when it has one.
void start_claim(asio::io_context& io, local_store& s, std::optional<std::optional<claim>>& out) {
  asio::co_spawn(io, s.claim_next(), [&out](std::exception_ptr e, std::optional<claim> c) {
    if (e) std::rethrow_exception(e);
    out = std::move(c);
  });
  settle(io);
}

struct scratch_dir {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("local-store-test-" + std::to_string(std::random_device{}())))
                         .string();
  ~scratch_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// A text `customer` wrote at `sent` (Meta's timestamp).
bridge::webhook::meta::inbound_message text_at(const std::string& id, const std::string& customer,
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
  const admission_result result = complete(io, store.admit(entries));
  BOOST_TEST(!result.error);
  return result.verdicts;
}

// The store's admission of `entries`, held here while it runs.
admission_result admit_entries(asio::io_context& io, local_store& store,
                               std::vector<admission_entry> entries) {
  return complete(io, store.admit(entries));
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

// A memory store on a clock the test moves.
struct store_fixture {
  asio::io_context io;
  std::shared_ptr<bridge::test::manual_clock> clock =
      std::make_shared<bridge::test::manual_clock>(io);
  local_store store{io.get_executor(), 100, nullptr, {}, clock};
};

}  // namespace

BOOST_AUTO_TEST_SUITE(local_store_suite)

// Each entry gets its verdict in order: stored, remembered, duplicate (also within one call),
// and once the capacity is reached no_room for it and every entry after it.
BOOST_AUTO_TEST_CASE(admit_gives_each_entry_its_verdict) {
  asio::io_context io;
  local_store s(io.get_executor(), 2);
  const auto result =
      admit_entries(io, s,
                    {entry("a"), entry("r", "9198", false), entry("a"), entry("b", "9199"),
                     entry("c", "9200"), entry("r2", "9198", false)});
  BOOST_TEST(!result.error);
  const std::vector<verdict> expected = {verdict::stored, verdict::remembered, verdict::duplicate,
                                         verdict::stored, verdict::no_room,    verdict::no_room};
  BOOST_TEST_REQUIRE(result.verdicts.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i)
    BOOST_TEST((result.verdicts[i] == expected[i]), "entry " << i);
  BOOST_TEST(s.unfinished() == 2u);
  // What was refused is not remembered: it is new next time; what was taken is a duplicate.
  s.set_capacity(10);
  const auto again = admit_entries(
      io, s, {entry("a"), entry("r"), entry("c", "9200"), entry("r2", "9198", false)});
  BOOST_TEST((again.verdicts == std::vector<verdict>{verdict::duplicate, verdict::duplicate,
                                                     verdict::stored, verdict::remembered}));
}

// The store moves out only what it stores: an entry remembered, a duplicate and an entry refused
// for room are left as they were, so admission can still name them in its log lines.
BOOST_AUTO_TEST_CASE(admit_leaves_every_entry_it_does_not_store_as_it_was) {
  asio::io_context io;
  local_store s(io.get_executor(), 1);
  std::vector<admission_entry> entries = {entry("a"), entry("r", "9198", false), entry("a"),
                                          entry("b", "9199")};
  const admission_result result = complete(io, s.admit(entries));
  BOOST_TEST_REQUIRE(!result.error);
  BOOST_TEST((result.verdicts == std::vector<verdict>{verdict::stored, verdict::remembered,
                                                      verdict::duplicate, verdict::no_room}));
  for (const std::size_t i : {1u, 2u, 3u}) {
    const auto& message = entries[i].message.message;
    const auto expected = text(i == 3 ? "b" : i == 1 ? "r" : "a", i == 3 ? "9199" : "9198");
    BOOST_TEST(message.id == expected.id, "entry " << i);
    BOOST_TEST(message.customer_id == expected.customer_id, "entry " << i);
    BOOST_TEST(message.text == expected.text, "entry " << i);
  }
  // The stored one is in its mailbox, whole.
  const auto claimed = complete(io, s.claim_next());
  BOOST_TEST_REQUIRE(claimed.has_value());
  BOOST_TEST_REQUIRE(claimed->messages.size() == 1u);
  BOOST_TEST(claimed->messages[0].message.text == "text of a");
  BOOST_TEST(claimed->conversation == conversation_key(text("a")));
}

// claim_next waits for a conversation, then takes every message it has waiting, in order.
BOOST_AUTO_TEST_CASE(claim_next_waits_then_takes_the_whole_conversation) {
  asio::io_context io;
  local_store s(io.get_executor(), 10);
  std::optional<std::optional<claim>> claimed;
  start_claim(io, s, claimed);
  BOOST_TEST(!claimed.has_value());
  admit_entries(io, s, {entry("a1"), entry("b1", "9199"), entry("a2"), entry("a3")});
  settle(io);
  BOOST_TEST_REQUIRE(claimed.has_value());
  BOOST_TEST_REQUIRE(claimed->has_value());
  BOOST_TEST((ids_of(**claimed) == std::vector<std::string>{"a1", "a2", "a3"}));
  BOOST_TEST((**claimed).conversation == conversation_key(text("a1")));
  const auto next = complete(io, s.claim_next());
  BOOST_TEST_REQUIRE(next.has_value());
  BOOST_TEST((ids_of(*next) == std::vector<std::string>{"b1"}));
}

// take_more adds what the held conversation received since the claim, in order, and nothing of
// other conversations.
BOOST_AUTO_TEST_CASE(take_more_adds_what_arrived_since_the_claim) {
  asio::io_context io;
  local_store s(io.get_executor(), 10);
  admit_entries(io, s, {entry("a1")});
  auto held = complete(io, s.claim_next());
  BOOST_TEST_REQUIRE(held.has_value());
  admit_entries(io, s, {entry("a2"), entry("b1", "9199"), entry("a3")});
  BOOST_TEST(!complete(io, s.take_more(*held)));
  BOOST_TEST((ids_of(*held) == std::vector<std::string>{"a1", "a2", "a3"}));
  BOOST_TEST(!complete(io, s.take_more(*held)));  // nothing new: unchanged
  BOOST_TEST(held->messages.size() == 3u);
  // All three are released together.
  complete(io, s.release(std::move(*held)));
  BOOST_TEST(s.unfinished() == 1u);  // b1
}

// A held conversation is not claimed again; what arrives for it meanwhile becomes claimable on
// release (by whichever worker waits), and the claim's capacity is freed. The same when the last
// batch is finished and released in one step (finish_and_release).
BOOST_AUTO_TEST_CASE(release_makes_messages_that_arrived_meanwhile_claimable) {
  for (const bool finish_too : {false, true}) {
    BOOST_TEST_CONTEXT("finish_and_release: " << finish_too) {
      asio::io_context io;
      local_store s(io.get_executor(), 10);
      admit_entries(io, s, {entry("a1")});
      auto held = complete(io, s.claim_next());
      BOOST_TEST_REQUIRE(held.has_value());
      admit_entries(io, s, {entry("a2")});
      BOOST_TEST(s.unfinished() == 2u);
      std::optional<std::optional<claim>> second;
      start_claim(io, s, second);
      BOOST_TEST(!second.has_value());  // a2's conversation is held
      const std::vector<std::string> one{"a1"};
      complete(io, finish_too ? s.finish_and_release(*held, one) : s.release(std::move(*held)));
      settle(io);
      BOOST_TEST(s.unfinished() == 1u);
      BOOST_TEST_REQUIRE(second.has_value());
      BOOST_TEST_REQUIRE(second->has_value());
      BOOST_TEST((ids_of(**second) == std::vector<std::string>{"a2"}));
    }
  }
}

// The capacity counts every message not finished, claimed ones included, until released.
BOOST_AUTO_TEST_CASE(capacity_counts_claimed_messages_until_released) {
  asio::io_context io;
  local_store s(io.get_executor(), 2);
  admit_entries(io, s, {entry("a1"), entry("b1", "9199")});
  auto held = complete(io, s.claim_next());
  BOOST_TEST_REQUIRE(held.has_value());
  BOOST_TEST(s.unfinished() == 2u);
  auto refused = admit_entries(io, s, {entry("c1", "9200")});
  BOOST_TEST((refused.verdicts == std::vector<verdict>{verdict::no_room}));
  complete(io, s.release(std::move(*held)));
  BOOST_TEST(s.unfinished() == 1u);
  auto taken = admit_entries(io, s, {entry("c1", "9200")});
  BOOST_TEST((taken.verdicts == std::vector<verdict>{verdict::stored}));
  BOOST_TEST(s.capacity() == 2u);
}

// close() says what was being answered and what was waiting, wakes waiting claims with nothing,
// and refuses new admissions; a memory store keeps nothing.
BOOST_AUTO_TEST_CASE(close_reports_leftovers_and_ends_waiting_claims) {
  asio::io_context io;
  local_store s(io.get_executor(), 10);
  admit_entries(io, s, {entry("a1"), entry("a2"), entry("b1", "9199")});
  auto held_a = complete(io, s.claim_next());
  auto held_b = complete(io, s.claim_next());
  BOOST_TEST_REQUIRE(held_a.has_value());
  BOOST_TEST_REQUIRE(held_b.has_value());
  admit_entries(io, s, {entry("b2", "9199")});  // waits: its conversation is held
  std::optional<std::optional<claim>> idle;
  start_claim(io, s, idle);
  BOOST_TEST(!idle.has_value());  // nothing claimable

  const leftovers left = s.close();
  settle(io);
  BOOST_TEST(!left.kept);
  std::vector<std::string> answering = left.answering;
  std::sort(answering.begin(), answering.end());
  BOOST_TEST((answering == std::vector<std::string>{"a1", "a2", "b1"}));
  BOOST_TEST((left.waiting == std::vector<std::string>{"b2"}));
  BOOST_TEST_REQUIRE(idle.has_value());
  BOOST_TEST(!idle->has_value());  // the waiting claim ends with nothing
  BOOST_TEST(!complete(io, s.claim_next()).has_value());
  const auto refused = admit_entries(io, s, {entry("c1", "9200")});
  BOOST_TEST((refused.verdicts == std::vector<verdict>{verdict::no_room}));
}

// With a journal, a write the disk refuses fails the whole admission: nothing stored, nothing
// remembered, the room given back; the same delivery is stored once the disk takes writes.
// Closing keeps what is left in the journal.
BOOST_AUTO_TEST_CASE(a_refused_journal_write_stores_nothing) {
  const auto saved_level = spdlog::get_level();
  spdlog::set_level(spdlog::level::off);  // the spool logs the refused write
  scratch_dir dir;
  asio::io_context io;
  auto disk_full = std::make_shared<std::atomic<bool>>(true);
  bridge::queue::spool_options options;
  options.inject_write_error = [disk_full] { return disk_full->load() ? ENOSPC : 0; };
  bridge::queue::spool_recovery recovered;
  auto journal = bridge::queue::spool::open(io.get_executor(), dir.path, recovered, options);
  local_store s(io.get_executor(), 10, std::move(journal), recovered);
  const auto failed = admit_entries(io, s, {entry("a1"), entry("r", "9198", false)});
  BOOST_TEST(failed.error == boost::system::error_code(ENOSPC, boost::system::system_category()));
  BOOST_TEST(s.unfinished() == 0u);
  disk_full->store(false);
  const auto stored = admit_entries(io, s, {entry("a1"), entry("r", "9198", false)});
  BOOST_TEST(!stored.error);
  BOOST_TEST((stored.verdicts == std::vector<verdict>{verdict::stored, verdict::remembered}));
  BOOST_TEST(s.unfinished() == 1u);
  BOOST_TEST(s.journal_stats()->pending == 1u);
  const leftovers left = s.close();
  BOOST_TEST(left.kept);
  BOOST_TEST((left.waiting == std::vector<std::string>{"a1"}));
  spdlog::set_level(saved_level);
}

// Ids only remembered (no answer, so no accepted record) reach the journal when it is compacted,
// as keys (seen_key records) under the secret the journal keeps: after a restart they are still
// duplicates.
BOOST_AUTO_TEST_CASE(remembered_ids_survive_compaction_and_a_restart_as_keys) {
  scratch_dir dir;
  asio::io_context io;
  bridge::queue::spool_options small;
  small.compact_after_bytes = 2048;
  {
    bridge::queue::spool_recovery recovered;
    auto journal = bridge::queue::spool::open(io.get_executor(), dir.path, recovered, small);
    local_store s(io.get_executor(), 1000, std::move(journal), recovered);
    for (int i = 0; i < 50; ++i) {
      const std::string n = std::to_string(i);
      const auto r =
          admit_entries(io, s, {entry("remembered." + n, "9198", false), entry("a" + n)});
      BOOST_TEST_REQUIRE(!r.error);
    }
    BOOST_TEST_REQUIRE(s.journal_stats()->compactions > 0u);
    (void)s.close();
  }
  {
    std::ifstream in(dir.path + "/journal", std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    // Only their keys were written (an id long enough that random key bytes cannot spell it).
    BOOST_TEST(bytes.find("remembered.") == std::string::npos);
  }
  bridge::queue::spool_recovery recovered;
  auto journal = bridge::queue::spool::open(io.get_executor(), dir.path, recovered, small);
  BOOST_TEST(!recovered.seen_keys.empty());
  local_store s(io.get_executor(), 1000, std::move(journal), recovered);
  const auto again =
      admit_entries(io, s,
                    {entry("remembered.0", "9198", false), entry("remembered.49", "9198", false),
                     entry("a0"), entry("new")});
  BOOST_TEST((again.verdicts == std::vector<verdict>{verdict::duplicate, verdict::duplicate,
                                                     verdict::duplicate, verdict::stored}));
  (void)s.close();
}

// A journal written by the previous version remembers ids as text (seen and done records) and
// holds no dedupe secret: it is still read, its ids are still duplicates, and so after the next
// restart too.
BOOST_AUTO_TEST_CASE(a_journal_of_the_previous_version_still_dedupes) {
  using bridge::queue::journal_record;
  using bridge::queue::record_kind;
  scratch_dir dir;
  std::filesystem::create_directories(dir.path);
  {
    std::string bytes;
    encode_record(journal_record{record_kind::seen, "wamid.old-seen", {}, {}}, bytes);
    encode_record(journal_record{record_kind::accepted, "wamid.old-done", "106/9198", "x"}, bytes);
    encode_record(journal_record{record_kind::done, "wamid.old-done", {}, {}}, bytes);
    std::ofstream(dir.path + "/journal", std::ios::binary) << bytes;
  }
  asio::io_context io;
  for (int restart = 0; restart < 2; ++restart) {
    bridge::queue::spool_recovery recovered;
    auto journal = bridge::queue::spool::open(io.get_executor(), dir.path, recovered);
    BOOST_TEST(recovered.damaged_bytes == 0u);
    local_store s(io.get_executor(), 10, std::move(journal), recovered);
    const auto r = admit_entries(io, s,
                                 {entry("wamid.old-seen"), entry("wamid.old-done"),
                                  entry("wamid.new" + std::to_string(restart))});
    BOOST_TEST((r.verdicts ==
                std::vector<verdict>{verdict::duplicate, verdict::duplicate, verdict::stored}));
    (void)s.close();
  }
}

// --- operator state: pauses, dead letters, replays -----------------------------------------
BOOST_FIXTURE_TEST_CASE(a_paused_conversation_admits_as_paused_and_refuses_queued_sends,
                        store_fixture) {
  const auto t = clock->wall_now();
  BOOST_TEST((admit(io, store, {text_at("wamid.1", "911", t)}) == std::vector{verdict::stored}));
  const auto held = complete(io, store.claim_next());
  BOOST_TEST_REQUIRE(held.has_value());
  BOOST_TEST(held->conversation == "106/911");

  BOOST_TEST(!complete(io, store.pause(pause_record{"106/911", t, t + 1h, "operator"})));
  BOOST_TEST(complete(io, store.is_paused("106/911")));
  BOOST_TEST(!complete(io, store.is_paused("106/922")));
  // New messages of the paused conversation are remembered, not queued; others go on.
  BOOST_TEST((admit(io, store, {text_at("wamid.2", "911", t), text_at("wamid.3", "922", t)}) ==
              std::vector{verdict::paused, verdict::stored}));
  BOOST_TEST((admit(io, store, {text_at("wamid.2", "911", t)}) == std::vector{verdict::duplicate}));
  BOOST_TEST(store.unfinished() == 2u);  // wamid.1 (held) and wamid.3
  // The message taken before the pause is not answered late.
  const std::vector<std::string> first{"wamid.1"};
  BOOST_TEST((complete(io, store.begin_send(*held, first)) == errc::paused));
}

// A claim says whether its conversation is handed to a person, and take_more says it again.
BOOST_FIXTURE_TEST_CASE(a_claim_and_take_more_say_whether_the_conversation_is_paused,
                        store_fixture) {
  const auto t = clock->wall_now();
  BOOST_TEST((admit(io, store, {text_at("wamid.1", "911", t)}) == std::vector{verdict::stored}));
  BOOST_TEST(!complete(io, store.pause(pause_record{"106/911", t, t + 1h, "operator"})));
  auto held = complete(io, store.claim_next());
  BOOST_TEST_REQUIRE(held.has_value());
  BOOST_TEST(held->paused);
  BOOST_TEST(complete(io, store.resume("106/911")));
  BOOST_TEST(!complete(io, store.take_more(*held)));
  BOOST_TEST(!held->paused);

  BOOST_TEST((admit(io, store, {text_at("wamid.2", "922", t)}) == std::vector{verdict::stored}));
  auto other = complete(io, store.claim_next());
  BOOST_TEST_REQUIRE(other.has_value());
  BOOST_TEST(!other->paused);
}

BOOST_FIXTURE_TEST_CASE(an_echo_extends_a_pause_and_never_shortens_it_an_operator_sets_it,
                        store_fixture) {
  const auto t = clock->wall_now();
  BOOST_TEST(!complete(io, store.pause(pause_record{"106/911", t, t + 12h, "echo"})));
  BOOST_TEST(
      !complete(io, store.pause(pause_record{"106/911", t, t + 1h, "echo"})));  // never shorter
  auto paused = complete(io, store.paused());
  BOOST_TEST_REQUIRE(paused.size() == 1u);
  BOOST_TEST((paused[0].until == t + 12h));
  BOOST_TEST(paused[0].why == "echo");

  clock->advance(10min);
  const auto later = clock->wall_now();
  BOOST_TEST(!complete(io, store.pause(pause_record{"106/911", later, later + 12h, "echo"})));
  paused = complete(io, store.paused());
  BOOST_TEST_REQUIRE(paused.size() == 1u);
  BOOST_TEST((paused[0].until == later + 12h));
  BOOST_TEST((paused[0].since == t));  // the pause that began first goes on

  // An operator's pause sets the end, shorter or not.
  BOOST_TEST(!complete(io, store.pause(pause_record{"106/911", later, later + 30min, "operator"})));
  paused = complete(io, store.paused());
  BOOST_TEST_REQUIRE(paused.size() == 1u);
  BOOST_TEST((paused[0].until == later + 30min));
  BOOST_TEST(paused[0].why == "operator");

  BOOST_TEST(complete(io, store.resume("106/911")));
  BOOST_TEST(!complete(io, store.resume("106/911")));
  BOOST_TEST(complete(io, store.paused()).empty());
}

BOOST_FIXTURE_TEST_CASE(a_pause_ends_on_its_own_when_its_time_is_up, store_fixture) {
  const auto t = clock->wall_now();
  BOOST_TEST(!complete(io, store.pause(pause_record{"106/911", t, t + 1s, "operator"})));
  BOOST_TEST((admit(io, store, {text_at("wamid.1", "911", t)}) == std::vector{verdict::paused}));
  clock->advance(1001ms);
  BOOST_TEST(!complete(io, store.is_paused("106/911")));
  BOOST_TEST((admit(io, store, {text_at("wamid.2", "911", t)}) == std::vector{verdict::stored}));
  BOOST_TEST(complete(io, store.paused()).empty());
  BOOST_TEST(!complete(io, store.resume("106/911")));  // nothing left to resume
}

BOOST_FIXTURE_TEST_CASE(dead_letters_are_listed_newest_first_in_pages_and_by_reason,
                        store_fixture) {
  for (int i = 0; i < 5; ++i) {
    const auto m =
        text_at("wamid.d" + std::to_string(i), "91" + std::to_string(i), clock->wall_now());
    BOOST_TEST(!complete(
        io, store.add_dead_letter(letter_for(m, i % 2 == 0 ? "robofy_unavailable" : "graph_refused",
                                             clock->wall_now()))));
    clock->advance(1s);
  }
  BOOST_TEST((ids_of(complete(io, store.dead_letters(2, "", ""))) == ids{"wamid.d4", "wamid.d3"}));
  BOOST_TEST(
      (ids_of(complete(io, store.dead_letters(2, "wamid.d3", ""))) == ids{"wamid.d2", "wamid.d1"}));
  BOOST_TEST((ids_of(complete(io, store.dead_letters(2, "wamid.d1", ""))) == ids{"wamid.d0"}));
  BOOST_TEST((ids_of(complete(io, store.dead_letters(10, "", "graph_refused"))) ==
              ids{"wamid.d3", "wamid.d1"}));
  BOOST_TEST((ids_of(complete(io, store.dead_letters(1, "wamid.d3", "robofy_unavailable"))) ==
              ids{"wamid.d2"}));
  BOOST_TEST(complete(io, store.dead_letters(10, "", "no_such_reason")).empty());
  BOOST_TEST(complete(io, store.dead_letters(10, "wamid.unknown", "")).empty());

  const auto found = complete(io, store.find_dead_letter("wamid.d2"));
  BOOST_TEST_REQUIRE(found.has_value());
  BOOST_TEST(found->reason == "robofy_unavailable");
  BOOST_TEST(found->conversation == "106/912");
  BOOST_TEST(complete(io, store.delete_dead_letter("wamid.d2")));
  BOOST_TEST(!complete(io, store.delete_dead_letter("wamid.d2")));
  BOOST_TEST(!complete(io, store.find_dead_letter("wamid.d2")).has_value());
  BOOST_TEST((ids_of(complete(io, store.dead_letters(10, "", ""))) ==
              ids{"wamid.d4", "wamid.d3", "wamid.d1", "wamid.d0"}));
}

BOOST_FIXTURE_TEST_CASE(dead_letters_are_bounded_by_count_and_by_age, store_fixture) {
  store.set_dead_letter_limits(3, std::chrono::hours(24 * 7));
  for (int i = 0; i < 5; ++i) {
    const auto m = text_at("wamid.d" + std::to_string(i), "911", clock->wall_now());
    BOOST_TEST(!complete(
        io, store.add_dead_letter(letter_for(m, "robofy_unavailable", clock->wall_now()))));
    clock->advance(1s);
  }
  // The oldest went first.
  BOOST_TEST((ids_of(complete(io, store.dead_letters(10, "", ""))) ==
              ids{"wamid.d4", "wamid.d3", "wamid.d2"}));
  BOOST_TEST(store.dead_letters_dropped() == 2u);
  BOOST_TEST(!complete(io, store.find_dead_letter("wamid.d0")).has_value());

  store.set_dead_letter_limits(100, 1h);
  clock->advance(2h);
  const auto fresh = text_at("wamid.fresh", "911", clock->wall_now());
  BOOST_TEST(
      !complete(io, store.add_dead_letter(letter_for(fresh, "robofy_refused", clock->wall_now()))));
  BOOST_TEST((ids_of(complete(io, store.dead_letters(10, "", ""))) == ids{"wamid.fresh"}));
  BOOST_TEST(store.dead_letters_dropped() == 5u);
}

BOOST_FIXTURE_TEST_CASE(a_replay_queues_the_message_once_within_the_service_window, store_fixture) {
  const auto t = clock->wall_now();
  const auto m = text_at("wamid.r", "911", t - 1h);
  BOOST_TEST((admit(io, store, {m}) == std::vector{verdict::stored}));
  auto held = complete(io, store.claim_next());
  BOOST_TEST_REQUIRE(held.has_value());
  const std::vector<std::string> one{"wamid.r"};
  BOOST_TEST(!complete(io, store.finish(*held, one)));
  complete(io, store.release(std::move(*held)));
  BOOST_TEST(!complete(io, store.add_dead_letter(letter_for(m, "robofy_unavailable", t))));
  BOOST_TEST(store.unfinished() == 0u);

  BOOST_TEST((complete(io, store.replay("wamid.r", t - 24h)) == replay_result::queued));
  BOOST_TEST((complete(io, store.replay("wamid.r", t - 24h)) == replay_result::not_found));
  BOOST_TEST(!complete(io, store.find_dead_letter("wamid.r")).has_value());
  const auto again = complete(io, store.claim_next());
  BOOST_TEST_REQUIRE(again.has_value());
  BOOST_TEST_REQUIRE(again->messages.size() == 1u);
  BOOST_TEST(again->messages[0].message.id == "wamid.r");
  BOOST_TEST(again->messages[0].message.text == "question wamid.r");
  BOOST_TEST((complete(io, store.replay("wamid.never", t - 24h)) == replay_result::not_found));
}

BOOST_FIXTURE_TEST_CASE(a_replay_is_refused_when_the_customers_last_message_is_older_than_a_day,
                        store_fixture) {
  const auto t = clock->wall_now();
  // Delivered now (Meta retried it for a while), written 30 hours ago.
  const auto old = text_at("wamid.old", "911", t - 30h);
  BOOST_TEST((admit(io, store, {old}) == std::vector{verdict::stored}));
  BOOST_TEST(!complete(io, store.add_dead_letter(letter_for(old, "robofy_unavailable", t))));
  BOOST_TEST((complete(io, store.replay("wamid.old", t - 24h)) == replay_result::window_closed));
  BOOST_TEST(complete(io, store.find_dead_letter("wamid.old")).has_value());  // still kept

  // A newer message from the same customer opens the window again.
  BOOST_TEST(
      (admit(io, store, {text_at("wamid.new", "911", t - 1h)}) == std::vector{verdict::stored}));
  BOOST_TEST((complete(io, store.replay("wamid.old", t - 24h)) == replay_result::queued));
}

// The time of each customer's last message is kept for the service window only: once a day old
// it is swept (when the map has grown enough to pay for a sweep), so the memory follows the
// conversations of the last day, not every conversation the process ever saw.
BOOST_FIXTURE_TEST_CASE(customers_last_message_times_are_swept_once_a_day_old, store_fixture) {
  const auto remember = [&](const std::string& id, const std::string& customer) {
    std::vector<admission_entry> one;
    one.push_back(admission_entry{
        pending_message{text_at(id, customer, clock->wall_now()), {}, false}, false});
    return complete(io, store.admit(one)).verdicts;
  };
  for (int i = 0; i < 1000; ++i) {
    BOOST_TEST_REQUIRE((remember("wamid.a" + std::to_string(i), "91" + std::to_string(i)) ==
                        std::vector{verdict::remembered}));
  }
  BOOST_TEST(store.remembered_conversations() == 1000u);
  clock->advance(25h);
  for (int i = 0; i < 100; ++i) {
    BOOST_TEST_REQUIRE((remember("wamid.b" + std::to_string(i), "92" + std::to_string(i)) ==
                        std::vector{verdict::remembered}));
  }
  BOOST_TEST(store.remembered_conversations() == 100u);  // the day-old thousand are gone
}

BOOST_AUTO_TEST_CASE(pauses_and_dead_letters_survive_a_restart_on_the_same_journal) {
  scratch_dir dir;
  asio::io_context io;
  auto clock = std::make_shared<bridge::test::manual_clock>(io);
  const auto t = clock->wall_now();
  {
    bridge::queue::spool_recovery none;
    auto journal = bridge::queue::spool::open(io.get_executor(), dir.path, none);
    local_store store(io.get_executor(), 100, std::move(journal), none, clock);
    BOOST_TEST(!complete(io, store.pause(pause_record{"106/911", t, t + 1h, "operator"})));
    BOOST_TEST(!complete(io, store.pause(pause_record{"106/922", t, t + 12h, "echo"})));
    BOOST_TEST(!complete(io, store.pause(pause_record{"106/933", t, t + 12h, "echo"})));
    BOOST_TEST(complete(io, store.resume("106/933")));
    for (const char* id : {"wamid.k1", "wamid.k2", "wamid.k3"}) {
      BOOST_TEST(!complete(io, store.add_dead_letter(letter_for(
                                   text_at(id, "911", t), "graph_refused", clock->wall_now()))));
      clock->advance(1s);
    }
    BOOST_TEST(complete(io, store.delete_dead_letter("wamid.k2")));
  }  // closed as kill -9 would leave it: what was queued for the disk is in the file
  bridge::queue::spool_recovery recovered;
  auto journal = bridge::queue::spool::open(io.get_executor(), dir.path, recovered);
  local_store store(io.get_executor(), 100, std::move(journal), recovered, clock);
  const auto paused = complete(io, store.paused());
  BOOST_TEST_REQUIRE(paused.size() == 2u);
  BOOST_TEST(paused[0].conversation == "106/911");
  BOOST_TEST(paused[0].why == "operator");
  BOOST_TEST((paused[0].until == t + 1h));
  BOOST_TEST(paused[1].conversation == "106/922");
  BOOST_TEST(complete(io, store.is_paused("106/922")));
  BOOST_TEST(!complete(io, store.is_paused("106/933")));
  BOOST_TEST((ids_of(complete(io, store.dead_letters(10, "", ""))) == ids{"wamid.k3", "wamid.k1"}));
  const auto kept = complete(io, store.find_dead_letter("wamid.k1"));
  BOOST_TEST_REQUIRE(kept.has_value());
  BOOST_TEST(kept->reason == "graph_refused");
  // The stored message came back whole: a replay after the restart queues it.
  BOOST_TEST((complete(io, store.replay("wamid.k1", t - 24h)) == replay_result::queued));
  const auto held = complete(io, store.claim_next());
  BOOST_TEST_REQUIRE(held.has_value());
  BOOST_TEST(held->messages.at(0).message.text == "question wamid.k1");
}

BOOST_AUTO_TEST_SUITE_END()
