#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "queue/dedupe_key.hpp"
#include "queue/journal_format.hpp"

namespace bridge::queue {

// A message the journal holds as accepted and not yet done.
struct recovered_message {
  std::string id;
  std::string conversation;
  std::string payload;
  bool in_doubt = false;  // a worker had begun answering it: the customer may have the answer
};

// What opening a spool found on disk.
struct spool_recovery {
  std::vector<recovered_message> pending;  // in acceptance order
  std::vector<std::string> seen;           // ids answered or remembered, for dedupe
  // Keys of remembered ids that a compaction wrote (seen_key records); journals written before
  // keys existed have `seen` ids only. Meaningful under the dedupe secret kept in `state`.
  std::vector<dedupe_key> seen_keys;
  std::map<std::string, std::string> state;  // lasting state (set_state), by key
  std::size_t damaged_bytes = 0;             // torn or corrupt bytes skipped
  std::size_t damaged_regions = 0;
};

struct spool_options {
  // Rewrite the journal down to what is still needed once it has grown this much since the
  // last rewrite.
  std::uint64_t compact_after_bytes = 64ull * 1024 * 1024;
  // How often progress records that the disk refused are tried again.
  std::chrono::milliseconds retry_interval{1000};
  // Tests: called on the writer thread before each write; a non-zero errno fails that write as
  // a full disk would (ENOSPC).
  std::function<int()> inject_write_error;
};

struct spool_stats {
  std::size_t pending = 0;  // accepted messages not yet done
  std::uint64_t journal_bytes = 0;
  std::uint64_t flushes = 0;  // fsyncs; fewer than appends when commits are grouped
  std::uint64_t appends = 0;  // append_accepted calls
  std::uint64_t compactions = 0;
  std::uint64_t write_failures = 0;   // writes the disk refused (each retry counts)
  std::uint64_t unwritten_bytes = 0;  // progress records held in memory until the disk takes them
};

// The durable journal of accepted messages in one directory (DESIGN.md §6): a message is
// journaled, and fsynced, before Meta gets its 200; it is marked started and done as workers
// answer it; on start the journal is replayed. A writer thread does the file I/O, so concurrent
// appends share one fsync (group commit) and the event loop never blocks on the disk.
//
// Every call except the constructor-like open() must come from the executor's thread.
class spool {
 public:
  // Opens dir (creating it and its journal when missing), takes the directory's lock, and reads
  // what the journal holds into `recovered`. Damaged records are skipped and the journal is
  // rewritten without them. Throws std::system_error naming the path when the directory cannot
  // be used or another process holds it.
  static std::unique_ptr<spool> open(boost::asio::any_io_executor executor, const std::string& dir,
                                     spool_recovery& recovered, spool_options options = {});
  ~spool();  // writes what is queued, then closes
  spool(const spool&) = delete;
  spool& operator=(const spool&) = delete;

  // Journals accepted messages ({id, conversation, payload} each) and completes once they are
  // on disk. An error means none of them may be taken as accepted.
  boost::asio::awaitable<boost::system::error_code> append_accepted(
      std::vector<journal_record> records);
  // Notes that workers began answering these ids; written soon, not waited for.
  void mark_started(const std::vector<std::string>& ids);
  // Notes that these ids are finished; written soon, not waited for.
  void mark_done(const std::vector<std::string>& ids);
  // Completes once every record queued so far is written to the file (not fsynced: a killed
  // process loses nothing the kernel has). A worker waits for its `started` records before it
  // sends, so a restart can always name what may have been sent. Records the disk refuses are
  // kept and retried every retry_interval; this waits meanwhile, and fails with
  // operation_aborted only if the spool closes first.
  boost::asio::awaitable<boost::system::error_code> wait_written();
  // False while progress records wait in memory for a disk that refused them (not ready).
  bool writable() const;
  // Keeps `value` under `key` across restarts (a later set replaces it); written soon, not waited
  // for. Lasting state the journal's owner needs back at start: paused conversations, dead
  // letters.
  void set_state(const std::string& key, const std::string& value);
  // Forgets the state under `key`.
  void clear_state(const std::string& key);
  // Where compaction gets the keys of the ids to keep remembering (the dedupe set's, oldest
  // first); they are written as seen_key records.
  void set_seen_source(std::function<std::vector<dedupe_key>()> source);

  spool_stats stats() const;
  const std::string& directory() const { return dir_; }

  struct writer;  // the thread that owns the file

 private:
  spool(boost::asio::any_io_executor executor, std::string dir, spool_options options);
  // Hands bytes to the writer and completes once they are written (and fsynced when `sync`).
  boost::asio::awaitable<boost::system::error_code> submit(std::string bytes, bool sync);
  void queue_write(std::string bytes);
  void maybe_compact();

  struct live_entry {
    std::string conversation;
    std::string payload;
    bool started = false;
  };

  boost::asio::any_io_executor executor_;
  std::string dir_;
  spool_options options_;
  std::unique_ptr<writer> writer_;
  std::map<std::uint64_t, std::string> order_;  // acceptance order -> id
  std::unordered_map<std::string, std::pair<std::uint64_t, live_entry>> live_;  // id -> entry
  std::uint64_t next_sequence_ = 0;
  std::map<std::string, std::string> state_;  // set_state's, carried over by compaction
  std::uint64_t bytes_since_compaction_ = 0;
  std::function<std::vector<dedupe_key>()> seen_source_;
  spool_stats stats_;
};

}  // namespace bridge::queue
