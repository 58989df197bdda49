// The local store driven by io.poll(): admission verdicts, capacity counted across claims,
// claims that wait and take a conversation whole, take_more, release, close, and a journal that
// refuses a write.
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

#include "tests/support/io_steps.hpp"

namespace asio = boost::asio;
using namespace bridge::store;
using bridge::test::run_until;
using bridge::test::settle;

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

}  // namespace

BOOST_AUTO_TEST_SUITE(local_store_suite)

// Each entry gets its verdict in order: stored, remembered, duplicate (also within one call),
// and once the capacity is reached no_room for it and every entry after it.
BOOST_AUTO_TEST_CASE(admit_gives_each_entry_its_verdict) {
  asio::io_context io;
  local_store s(io.get_executor(), 2);
  const auto result =
      complete(io, s.admit({entry("a"), entry("r", "9198", false), entry("a"), entry("b", "9199"),
                            entry("c", "9200"), entry("r2", "9198", false)}));
  BOOST_TEST(!result.error);
  const std::vector<verdict> expected = {verdict::stored, verdict::remembered, verdict::duplicate,
                                         verdict::stored, verdict::no_room,    verdict::no_room};
  BOOST_TEST_REQUIRE(result.verdicts.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i)
    BOOST_TEST((result.verdicts[i] == expected[i]), "entry " << i);
  BOOST_TEST(s.unfinished() == 2u);
  // What was refused is not remembered: it is new next time; what was taken is a duplicate.
  s.set_capacity(10);
  const auto again = complete(
      io, s.admit({entry("a"), entry("r"), entry("c", "9200"), entry("r2", "9198", false)}));
  BOOST_TEST((again.verdicts == std::vector<verdict>{verdict::duplicate, verdict::duplicate,
                                                     verdict::stored, verdict::remembered}));
}

// claim_next waits for a conversation, then takes every message it has waiting, in order.
BOOST_AUTO_TEST_CASE(claim_next_waits_then_takes_the_whole_conversation) {
  asio::io_context io;
  local_store s(io.get_executor(), 10);
  std::optional<std::optional<claim>> claimed;
  start_claim(io, s, claimed);
  BOOST_TEST(!claimed.has_value());
  complete(io, s.admit({entry("a1"), entry("b1", "9199"), entry("a2"), entry("a3")}));
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
  complete(io, s.admit({entry("a1")}));
  auto held = complete(io, s.claim_next());
  BOOST_TEST_REQUIRE(held.has_value());
  complete(io, s.admit({entry("a2"), entry("b1", "9199"), entry("a3")}));
  BOOST_TEST(!complete(io, s.take_more(*held)));
  BOOST_TEST((ids_of(*held) == std::vector<std::string>{"a1", "a2", "a3"}));
  BOOST_TEST(!complete(io, s.take_more(*held)));  // nothing new: unchanged
  BOOST_TEST(held->messages.size() == 3u);
  // All three are released together.
  complete(io, s.release(std::move(*held)));
  BOOST_TEST(s.unfinished() == 1u);  // b1
}

// A held conversation is not claimed again; what arrives for it meanwhile becomes claimable on
// release (by whichever worker waits).
BOOST_AUTO_TEST_CASE(release_makes_messages_that_arrived_meanwhile_claimable) {
  asio::io_context io;
  local_store s(io.get_executor(), 10);
  complete(io, s.admit({entry("a1")}));
  auto held = complete(io, s.claim_next());
  BOOST_TEST_REQUIRE(held.has_value());
  complete(io, s.admit({entry("a2")}));
  std::optional<std::optional<claim>> second;
  start_claim(io, s, second);
  BOOST_TEST(!second.has_value());  // a2's conversation is held
  complete(io, s.release(std::move(*held)));
  settle(io);
  BOOST_TEST_REQUIRE(second.has_value());
  BOOST_TEST_REQUIRE(second->has_value());
  BOOST_TEST((ids_of(**second) == std::vector<std::string>{"a2"}));
}

// The capacity counts every message not finished, claimed ones included, until released.
BOOST_AUTO_TEST_CASE(capacity_counts_claimed_messages_until_released) {
  asio::io_context io;
  local_store s(io.get_executor(), 2);
  complete(io, s.admit({entry("a1"), entry("b1", "9199")}));
  auto held = complete(io, s.claim_next());
  BOOST_TEST_REQUIRE(held.has_value());
  BOOST_TEST(s.unfinished() == 2u);
  auto refused = complete(io, s.admit({entry("c1", "9200")}));
  BOOST_TEST((refused.verdicts == std::vector<verdict>{verdict::no_room}));
  complete(io, s.release(std::move(*held)));
  BOOST_TEST(s.unfinished() == 1u);
  auto taken = complete(io, s.admit({entry("c1", "9200")}));
  BOOST_TEST((taken.verdicts == std::vector<verdict>{verdict::stored}));
  BOOST_TEST(s.capacity() == 2u);
}

// close() says what was being answered and what was waiting, wakes waiting claims with nothing,
// and refuses new admissions; a memory store keeps nothing.
BOOST_AUTO_TEST_CASE(close_reports_leftovers_and_ends_waiting_claims) {
  asio::io_context io;
  local_store s(io.get_executor(), 10);
  complete(io, s.admit({entry("a1"), entry("a2"), entry("b1", "9199")}));
  auto held_a = complete(io, s.claim_next());
  auto held_b = complete(io, s.claim_next());
  BOOST_TEST_REQUIRE(held_a.has_value());
  BOOST_TEST_REQUIRE(held_b.has_value());
  complete(io, s.admit({entry("b2", "9199")}));  // waits: its conversation is held
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
  const auto refused = complete(io, s.admit({entry("c1", "9200")}));
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
  const auto failed = complete(io, s.admit({entry("a1"), entry("r", "9198", false)}));
  BOOST_TEST(failed.error == boost::system::error_code(ENOSPC, boost::system::system_category()));
  BOOST_TEST(s.unfinished() == 0u);
  disk_full->store(false);
  const auto stored = complete(io, s.admit({entry("a1"), entry("r", "9198", false)}));
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
      const auto r = complete(io, s.admit({entry("r" + n, "9198", false), entry("a" + n)}));
      BOOST_TEST_REQUIRE(!r.error);
    }
    BOOST_TEST_REQUIRE(s.journal_stats()->compactions > 0u);
    (void)s.close();
  }
  {
    std::ifstream in(dir.path + "/journal", std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    BOOST_TEST(bytes.find("r0") == std::string::npos);  // only its key was written
  }
  bridge::queue::spool_recovery recovered;
  auto journal = bridge::queue::spool::open(io.get_executor(), dir.path, recovered, small);
  BOOST_TEST(!recovered.seen_keys.empty());
  local_store s(io.get_executor(), 1000, std::move(journal), recovered);
  const auto again = complete(io, s.admit({entry("r0", "9198", false), entry("r49", "9198", false),
                                           entry("a0"), entry("new")}));
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
    const auto r = complete(io, s.admit({entry("wamid.old-seen"), entry("wamid.old-done"),
                                         entry("wamid.new" + std::to_string(restart))}));
    BOOST_TEST((r.verdicts ==
                std::vector<verdict>{verdict::duplicate, verdict::duplicate, verdict::stored}));
    (void)s.close();
  }
}

BOOST_AUTO_TEST_SUITE_END()
