// The spool on a real directory: replay in order, done and started marks, compaction, damaged
// journals, the directory lock, and group commit.
#include "queue/spool.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>

namespace asio = boost::asio;
using namespace bridge::queue;

namespace {

struct scratch_dir {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("spool-test-" + std::to_string(std::random_device{}())))
                         .string();
  ~scratch_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

journal_record accepted(const std::string& id, const std::string& conversation = "c") {
  return journal_record{record_kind::accepted, id, conversation, "payload of " + id};
}

// Runs append_accepted to completion.
boost::system::error_code append(asio::io_context& io, spool& s, std::vector<journal_record> r) {
  std::optional<boost::system::error_code> result;
  asio::co_spawn(io, s.append_accepted(std::move(r)),
                 [&](std::exception_ptr, boost::system::error_code ec) { result = ec; });
  io.run_for(std::chrono::seconds(10));
  io.restart();
  BOOST_REQUIRE(result.has_value());
  return *result;
}

std::vector<std::string> pending_ids(const spool_recovery& r) {
  std::vector<std::string> ids;
  for (const auto& m : r.pending)
    ids.push_back(m.id);
  return ids;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(spool_suite)

BOOST_AUTO_TEST_CASE(accepted_messages_are_replayed_in_order_after_reopening) {
  scratch_dir dir;
  asio::io_context io;
  {
    spool_recovery none;
    auto s = spool::open(io.get_executor(), dir.path, none);
    BOOST_TEST(none.pending.empty());
    BOOST_TEST(!append(io, *s, {accepted("a", "c1"), accepted("b", "c2")}));
    BOOST_TEST(!append(io, *s, {accepted("c", "c1")}));
    BOOST_TEST(s->stats().pending == 3u);
  }
  spool_recovery recovered;
  auto s = spool::open(io.get_executor(), dir.path, recovered);
  BOOST_TEST(pending_ids(recovered) == (std::vector<std::string>{"a", "b", "c"}));
  BOOST_TEST(recovered.pending[0].conversation == "c1");
  BOOST_TEST(recovered.pending[0].payload == "payload of a");
  BOOST_TEST(!recovered.pending[0].in_doubt);
  BOOST_TEST(recovered.damaged_bytes == 0u);
}

BOOST_AUTO_TEST_CASE(done_messages_are_not_replayed_but_remembered) {
  scratch_dir dir;
  asio::io_context io;
  {
    spool_recovery none;
    auto s = spool::open(io.get_executor(), dir.path, none);
    append(io, *s, {accepted("a"), accepted("b"), accepted("c")});
    s->mark_started({"a", "b"});
    s->mark_done({"a"});
  }
  spool_recovery recovered;
  auto s = spool::open(io.get_executor(), dir.path, recovered);
  BOOST_TEST(pending_ids(recovered) == (std::vector<std::string>{"b", "c"}));
  BOOST_TEST(recovered.pending[0].in_doubt);   // b was started, not done
  BOOST_TEST(!recovered.pending[1].in_doubt);  // c never started
  BOOST_TEST(recovered.seen == std::vector<std::string>{"a"});
}

BOOST_AUTO_TEST_CASE(a_torn_tail_is_skipped_and_the_intact_records_replayed) {
  scratch_dir dir;
  asio::io_context io;
  {
    spool_recovery none;
    auto s = spool::open(io.get_executor(), dir.path, none);
    append(io, *s, {accepted("a"), accepted("b")});
  }
  // A crash in the middle of writing the next record.
  std::string partial;
  encode_record(accepted("c"), partial);
  {
    std::ofstream out(dir.path + "/journal", std::ios::app | std::ios::binary);
    out << partial.substr(0, partial.size() / 2);
  }
  spool_recovery recovered;
  auto s = spool::open(io.get_executor(), dir.path, recovered);
  BOOST_TEST(pending_ids(recovered) == (std::vector<std::string>{"a", "b"}));
  BOOST_TEST(recovered.damaged_bytes == partial.size() / 2);
  // The journal was rewritten without the damage: appending and reopening is clean.
  append(io, *s, {accepted("d")});
  s.reset();
  spool_recovery again;
  s = spool::open(io.get_executor(), dir.path, again);
  BOOST_TEST(pending_ids(again) == (std::vector<std::string>{"a", "b", "d"}));
  BOOST_TEST(again.damaged_bytes == 0u);
}

BOOST_AUTO_TEST_CASE(compaction_keeps_pending_and_remembered_ids_and_shrinks_the_journal) {
  scratch_dir dir;
  asio::io_context io;
  spool_options small;
  small.compact_after_bytes = 4096;
  const dedupe_hasher hash(dedupe_hasher::random_secret());
  std::vector<dedupe_key> remembered;
  {
    spool_recovery none;
    auto s = spool::open(io.get_executor(), dir.path, none, small);
    s->set_seen_source([&] { return remembered; });
    for (int i = 0; i < 200; ++i) {
      const std::string id = "m" + std::to_string(i);
      append(io, *s, {accepted(id)});
      remembered.push_back(hash(id));
      if (i < 195) s->mark_done({id});
    }
    BOOST_TEST(s->stats().compactions > 0u);
  }
  const auto size = std::filesystem::file_size(dir.path + "/journal");
  BOOST_TEST(size < 20000u);  // 200 accepted + done records would be far larger
  spool_recovery recovered;
  auto s = spool::open(io.get_executor(), dir.path, recovered);
  BOOST_TEST(pending_ids(recovered) ==
             (std::vector<std::string>{"m195", "m196", "m197", "m198", "m199"}));
  // Remembered as keys (seen_key) up to the last compaction, as ids (done records) after it.
  std::set<std::pair<std::uint64_t, std::uint64_t>> known;
  for (const dedupe_key& key : recovered.seen_keys)
    known.emplace(key.high, key.low);
  for (const std::string& id : recovered.seen)
    known.emplace(hash(id).high, hash(id).low);
  for (int i = 0; i < 195; ++i) {
    const dedupe_key key = hash("m" + std::to_string(i));
    BOOST_TEST(known.count({key.high, key.low}) == 1u, "m" << i);
  }
  BOOST_TEST(!recovered.seen_keys.empty());
  BOOST_TEST(recovered.damaged_bytes == 0u);
  // Reopening rewrites the journal with the keys as they were.
  s.reset();
  spool_recovery again;
  s = spool::open(io.get_executor(), dir.path, again);
  BOOST_TEST(again.seen_keys.size() == recovered.seen_keys.size());
  BOOST_TEST(again.seen.size() == recovered.seen.size());
}

BOOST_AUTO_TEST_CASE(a_second_process_cannot_use_the_same_directory) {
  scratch_dir dir;
  asio::io_context io;
  spool_recovery r1;
  auto first = spool::open(io.get_executor(), dir.path, r1);
  spool_recovery r2;
  try {
    auto second = spool::open(io.get_executor(), dir.path, r2);
    BOOST_FAIL("a second spool opened the same directory");
  } catch (const std::system_error& e) {
    BOOST_TEST(std::string(e.what()).find("in use") != std::string::npos);
    BOOST_TEST(std::string(e.what()).find(dir.path) != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(an_unusable_directory_is_an_error_naming_it) {
  asio::io_context io;
  spool_recovery r;
  BOOST_CHECK_THROW(spool::open(io.get_executor(), "/proc/no/such/place", r), std::system_error);
}

BOOST_AUTO_TEST_CASE(concurrent_appends_share_flushes) {
  scratch_dir dir;
  asio::io_context io;
  spool_recovery none;
  auto s = spool::open(io.get_executor(), dir.path, none);
  int completed = 0;
  for (int i = 0; i < 200; ++i) {
    asio::co_spawn(io, s->append_accepted({accepted("g" + std::to_string(i))}),
                   [&](std::exception_ptr, boost::system::error_code ec) {
                     BOOST_TEST(!ec);
                     ++completed;
                   });
  }
  io.run_for(std::chrono::seconds(20));
  BOOST_TEST(completed == 200);
  const auto stats = s->stats();
  BOOST_TEST(stats.appends == 200u);
  // Appends queued while a flush runs go to disk together in the next one.
  BOOST_TEST(stats.flushes < stats.appends);
  BOOST_TEST_MESSAGE("200 appends, " << stats.flushes << " fsyncs");
}

BOOST_AUTO_TEST_SUITE_END()
