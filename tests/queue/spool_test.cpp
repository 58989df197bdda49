// The spool on a real directory: replay in order, done and started marks, compaction, damaged
// journals, the directory lock, and group commit.
#include "queue/spool.hpp"

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>

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

// Starts wait_written() (it has begun waiting when this returns); its result lands in `out` once
// it completes.
void start_wait_written(asio::io_context& io, spool& s,
                        std::optional<boost::system::error_code>& out) {
  asio::co_spawn(io, s.wait_written(),
                 [&out](std::exception_ptr, boost::system::error_code ec) { out = ec; });
  io.restart();
  io.poll();
}

// Runs the loop until `done` or the timeout, looking again every few milliseconds (`done` may
// depend on the writer thread, which does not wake the loop), and leaves it ready to run again.
template <class Done>
void run_until(asio::io_context& io, Done done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
  io.restart();
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
  std::vector<std::string> remembered;
  {
    spool_recovery none;
    auto s = spool::open(io.get_executor(), dir.path, none, small);
    s->set_seen_source([&] { return remembered; });
    for (int i = 0; i < 200; ++i) {
      const std::string id = "m" + std::to_string(i);
      append(io, *s, {accepted(id)});
      remembered.push_back(id);
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
  BOOST_TEST(recovered.seen.size() >= 195u);
  BOOST_TEST(recovered.damaged_bytes == 0u);
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

// A full disk (ENOSPC injected into every write): an accepted append fails with the error and is
// not kept; a progress record is kept in memory and retried, wait_written() holds until it is
// on disk, writable() is false meanwhile, and once the disk takes writes again the record lands
// where a restart sees it.
BOOST_AUTO_TEST_CASE(a_full_disk_fails_appends_and_keeps_progress_records_until_written) {
  using namespace std::chrono_literals;
  scratch_dir dir;
  asio::io_context io;
  auto refusing = std::make_shared<std::atomic<int>>(0);
  spool_options options;
  options.retry_interval = 20ms;
  options.inject_write_error = [refusing] { return refusing->load(); };
  {
    spool_recovery none;
    auto s = spool::open(io.get_executor(), dir.path, none, options);
    BOOST_TEST(!append(io, *s, {accepted("a"), accepted("b")}));
    s->mark_started({"a"});
    std::optional<boost::system::error_code> started_written;
    start_wait_written(io, *s, started_written);
    run_until(
        io, [&] { return started_written.has_value(); }, 10s);
    BOOST_TEST_REQUIRE(started_written.has_value());
    BOOST_TEST(!*started_written);

    refusing->store(ENOSPC);
    const boost::system::error_code refused = append(io, *s, {accepted("c")});
    BOOST_TEST(refused == boost::system::error_code(ENOSPC, boost::system::system_category()));
    BOOST_TEST(s->stats().pending == 2u);  // c was not accepted
    BOOST_TEST(s->writable());             // nothing is waiting: an append is the caller's to retry

    s->mark_done({"a"});
    std::optional<boost::system::error_code> done_written;
    start_wait_written(io, *s, done_written);
    // Many retry intervals pass, and the record is still refused: nothing completes.
    run_until(
        io, [&] { return s->stats().write_failures >= 5u; }, 10s);
    BOOST_TEST(s->stats().write_failures >= 5u);
    BOOST_TEST(!done_written.has_value());
    BOOST_TEST(s->stats().unwritten_bytes > 0u);
    BOOST_TEST(!s->writable());

    refusing->store(0);
    run_until(
        io, [&] { return done_written.has_value(); }, 10s);
    BOOST_TEST_REQUIRE(done_written.has_value());
    BOOST_TEST(!*done_written);
    BOOST_TEST(s->writable());
    BOOST_TEST(s->stats().unwritten_bytes == 0u);
    BOOST_TEST(!append(io, *s, {accepted("d")}));
  }
  spool_recovery recovered;
  auto s = spool::open(io.get_executor(), dir.path, recovered, options);
  BOOST_TEST(pending_ids(recovered) == (std::vector<std::string>{"b", "d"}));
  BOOST_TEST(!recovered.pending[0].in_doubt);
  BOOST_TEST(recovered.seen == std::vector<std::string>{"a"});  // done, remembered
  BOOST_TEST(recovered.damaged_bytes == 0u);
}

// Records still refused when the spool closes are reported, not waited for for ever: the wait
// fails with operation_aborted, and the restart sees the last state the disk took.
BOOST_AUTO_TEST_CASE(records_refused_until_close_end_the_wait_and_leave_the_last_written_state) {
  using namespace std::chrono_literals;
  scratch_dir dir;
  asio::io_context io;
  auto refusing = std::make_shared<std::atomic<int>>(0);
  spool_options options;
  options.retry_interval = 20ms;
  options.inject_write_error = [refusing] { return refusing->load(); };
  std::optional<boost::system::error_code> written;
  {
    spool_recovery none;
    auto s = spool::open(io.get_executor(), dir.path, none, options);
    BOOST_TEST(!append(io, *s, {accepted("a")}));
    refusing->store(ENOSPC);
    s->mark_started({"a"});
    start_wait_written(io, *s, written);
    run_until(
        io, [&] { return !s->writable(); }, 10s);
    BOOST_TEST(!s->writable());
  }
  run_until(
      io, [&] { return written.has_value(); }, 10s);
  BOOST_TEST_REQUIRE(written.has_value());
  BOOST_TEST(*written == boost::asio::error::operation_aborted);
  refusing->store(0);
  spool_recovery recovered;
  auto s = spool::open(io.get_executor(), dir.path, recovered, options);
  BOOST_TEST(pending_ids(recovered) == std::vector<std::string>{"a"});
  BOOST_TEST(!recovered.pending[0].in_doubt);  // its start never reached the disk
}

BOOST_AUTO_TEST_SUITE_END()
