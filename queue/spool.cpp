#include "queue/spool.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <thread>

namespace bridge::queue {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

error_code last_error() {
  return error_code(errno, boost::system::system_category());
}

[[noreturn]] void fail(const std::string& what, const std::string& path, int err = errno) {
  throw std::system_error(err, std::generic_category(), "spool.dir: " + what + " " + path);
}

error_code write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

error_code sync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return last_error();
  error_code ec;
  if (::fsync(fd) != 0) ec = last_error();
  ::close(fd);
  return ec;
}

// Writes bytes to `path` through a temporary file, fsynced and renamed into place, so the file
// is always either the old journal or the whole new one.
error_code replace_file(const std::string& dir, const std::string& path, std::string_view bytes) {
  const std::string temporary = path + ".rewrite";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return last_error();
  error_code ec = write_all(fd, bytes);
  if (!ec && ::fdatasync(fd) != 0) ec = last_error();
  ::close(fd);
  if (!ec && ::rename(temporary.c_str(), path.c_str()) != 0) ec = last_error();
  if (!ec) ec = sync_directory(dir);
  return ec;
}

std::string read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return {};
    fail("cannot read", path);
  }
  std::string content;
  char chunk[65536];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      fail("cannot read", path, err);
    }
    if (n == 0) break;
    content.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return content;
}

std::string encode_id_record(record_kind kind, const std::string& id) {
  std::string out;
  encode_record(journal_record{kind, id, {}, {}}, out);
  return out;
}

}  // namespace

// The writer thread: appends queued bytes, fsyncs once per group of waiting appends, and swaps
// in rewritten journals, strictly in the order the jobs were queued. A write the disk refuses is
// taken back off the file (no torn record is left behind); an accepted append then fails (its
// POST gets 503), while progress records (started, done) are kept in memory, in order, and
// written before anything else once the disk takes them again.
struct spool::writer {
  using callback = std::function<void(error_code)>;
  struct job {
    std::string bytes;
    bool sync = false;     // an accepted append: fsynced, and refused (not kept) on failure
    bool replace = false;  // bytes are a whole new journal
    callback done;         // told when the bytes are written (or refused)
  };

  std::string dir;
  std::string path;
  int fd = -1;
  int lock_fd = -1;
  spool_options options;
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<job> jobs;
  bool stopping = false;
  std::atomic<std::uint64_t> flushes{0};
  std::atomic<std::uint64_t> journal_bytes{0};
  std::atomic<std::uint64_t> write_failures{0};
  std::atomic<std::uint64_t> unwritten_bytes{0};
  std::thread thread;
  // Only the writer thread touches these.
  std::string backlog;                 // progress records the disk refused, in order
  std::vector<callback> backlog_done;  // waiting for the backlog to be written

  void push(job j) {
    {
      std::lock_guard lock(mutex);
      jobs.push_back(std::move(j));
    }
    wake.notify_one();
  }

  void run() {
    for (;;) {
      std::deque<job> batch;
      bool last_round = false;
      {
        std::unique_lock lock(mutex);
        const auto has_work = [&] { return stopping || !jobs.empty(); };
        if (backlog.empty()) {
          wake.wait(lock, has_work);
        } else {
          wake.wait_for(lock, options.retry_interval, has_work);
        }
        batch.swap(jobs);
        last_round = stopping && batch.empty();
      }
      process(batch);  // also retries the backlog
      if (last_round) {
        give_up_backlog();
        return;
      }
    }
  }

  // Writes `bytes` at the end of the journal, or nothing at all.
  error_code append(std::string_view bytes) {
    if (options.inject_write_error) {
      if (const int injected = options.inject_write_error()) {
        return error_code(injected, boost::system::system_category());
      }
    }
    const std::uint64_t before = journal_bytes;
    const error_code ec = write_all(fd, bytes);
    if (ec) {
      // A torn record would be skipped at replay anyway; taking it off keeps the file clean
      // and its size known. Shrinking needs no space.
      [[maybe_unused]] const int ignored = ::ftruncate(fd, static_cast<off_t>(before));
      return ec;
    }
    journal_bytes += bytes.size();
    return {};
  }

  // Writes the backlog and a group of appends in one write, then fsyncs if anyone waits for it.
  void write_group(std::vector<job*>& group) {
    if (group.empty() && backlog.empty()) return;
    std::string bytes = backlog;
    bool sync = false;
    for (const job* j : group) {
      bytes += j->bytes;
      sync = sync || j->sync;
    }
    const std::uint64_t before = journal_bytes;
    error_code ec = append(bytes);
    if (!ec && sync) {
      if (::fdatasync(fd) != 0) {
        ec = last_error();
        [[maybe_unused]] const int ignored = ::ftruncate(fd, static_cast<off_t>(before));
        journal_bytes = before;
      }
      ++flushes;
    }
    if (ec) {
      on_refused(group, ec);
    } else {
      on_written(group);
    }
    group.clear();
  }

  void on_refused(std::vector<job*>& group, const error_code& ec) {
    if (write_failures++ == 0 || backlog.empty()) {
      spdlog::error(
          "journal write failed in {}: {}; new messages get 503, progress records are kept in "
          "memory and retried every {} ms, and /readyz is 503 until they are written",
          dir, ec.message(), options.retry_interval.count());
    }
    for (job* j : group) {
      if (j->sync) {
        if (j->done) j->done(ec);
        continue;
      }
      backlog += j->bytes;
      if (j->done) backlog_done.push_back(std::move(j->done));
    }
    unwritten_bytes = backlog.size();
  }

  void on_written(std::vector<job*>& group) {
    if (!backlog.empty()) {
      spdlog::info("journal in {} is writable again; {} byte(s) of progress records written", dir,
                   backlog.size());
    }
    release_backlog({});
    for (job* j : group) {
      if (j->done) j->done({});
    }
  }

  void release_backlog(const error_code& ec) {
    backlog.clear();
    unwritten_bytes = 0;
    for (callback& done : backlog_done)
      done(ec);
    backlog_done.clear();
  }

  void replace(job& j) {
    error_code ec;
    if (options.inject_write_error) {
      if (const int injected = options.inject_write_error()) {
        ec = error_code(injected, boost::system::system_category());
      }
    }
    if (!ec) ec = replace_file(dir, path, j.bytes);
    if (!ec) {
      const int fresh = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
      if (fresh < 0) {
        ec = last_error();
      } else {
        ::close(fd);
        fd = fresh;
        journal_bytes = j.bytes.size();
        // The new journal was made from the state after every record queued before it, the
        // refused ones included: they are on disk now.
        release_backlog({});
      }
    }
    if (ec) ++write_failures;
    if (j.done) j.done(ec);
  }

  void process(std::deque<job>& batch) {
    std::vector<job*> group;
    for (job& j : batch) {
      if (!j.replace) {
        group.push_back(&j);
        continue;
      }
      write_group(group);
      replace(j);
    }
    write_group(group);
  }

  // At close, with the disk still refusing: what could not be written is reported, not lost
  // silently (the restart names each message it may answer twice as in doubt).
  void give_up_backlog() {
    if (backlog.empty()) return;
    spdlog::error(
        "journal in {}: {} byte(s) of progress records could not be written before exit; after "
        "a restart the messages they concern are answered again and logged as in doubt",
        dir, backlog.size());
    release_backlog(make_error_code(asio::error::operation_aborted));
  }
};

spool::spool(asio::any_io_executor executor, std::string dir, spool_options options)
    : executor_(std::move(executor)),
      dir_(std::move(dir)),
      options_(options),
      writer_(std::make_unique<writer>()) {}

std::unique_ptr<spool> spool::open(asio::any_io_executor executor, const std::string& dir,
                                   spool_recovery& recovered, spool_options options) {
  std::error_code fs_error;
  std::filesystem::create_directories(dir, fs_error);
  if (fs_error) fail("cannot create", dir, fs_error.value());

  std::unique_ptr<spool> s(new spool(std::move(executor), dir, options));
  writer& w = *s->writer_;
  w.options = s->options_;
  w.dir = dir;
  w.path = dir + "/journal";
  const std::string lock_path = dir + "/lock";
  w.lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (w.lock_fd < 0) fail("cannot open", lock_path);
  if (::flock(w.lock_fd, LOCK_EX | LOCK_NB) != 0) {
    fail("is in use by another robofy-wa-bridge process:", dir, errno);
  }

  // Replay: what was accepted and not done, in acceptance order, and which ids to remember.
  const journal_scan scan = scan_journal(read_file(w.path));
  recovered = spool_recovery{};
  recovered.damaged_bytes = scan.damaged_bytes;
  recovered.damaged_regions = scan.damaged_regions;
  std::map<std::uint64_t, std::string> order;
  std::unordered_map<std::string, std::pair<std::uint64_t, live_entry>> live;
  std::uint64_t sequence = 0;
  for (const journal_record& record : scan.records) {
    switch (record.kind) {
      case record_kind::accepted:
        if (live.count(record.id) == 0) {
          order[sequence] = record.id;
          live[record.id] = {sequence++, live_entry{record.conversation, record.payload, false}};
        }
        break;
      case record_kind::started:
        if (auto it = live.find(record.id); it != live.end()) it->second.second.started = true;
        break;
      case record_kind::done:
        if (auto it = live.find(record.id); it != live.end()) {
          order.erase(it->second.first);
          live.erase(it);
        }
        recovered.seen.push_back(record.id);
        break;
      case record_kind::seen:
        recovered.seen.push_back(record.id);
        break;
      case record_kind::seen_key: {
        dedupe_key key;
        if (from_bytes(record.id, key)) recovered.seen_keys.push_back(key);
        break;
      }
      case record_kind::state_set:
        recovered.state[record.id] = record.payload;
        break;
      case record_kind::state_cleared:
        recovered.state.erase(record.id);
        break;
    }
  }
  for (const auto& [seq, id] : order) {
    const live_entry& entry = live.at(id).second;
    recovered.pending.push_back(
        recovered_message{id, entry.conversation, entry.payload, entry.started});
  }
  s->order_ = std::move(order);
  s->live_ = std::move(live);
  s->next_sequence_ = sequence;

  // Start from a compact journal: what is still needed, none of the damage.
  std::string snapshot;
  for (const std::string& id : recovered.seen)
    snapshot += encode_id_record(record_kind::seen, id);
  for (const dedupe_key& key : recovered.seen_keys)
    snapshot += encode_id_record(record_kind::seen_key, to_bytes(key));
  for (const recovered_message& m : recovered.pending) {
    encode_record(journal_record{record_kind::accepted, m.id, m.conversation, m.payload}, snapshot);
    if (m.in_doubt) snapshot += encode_id_record(record_kind::started, m.id);
  }
  for (const auto& [key, value] : recovered.state)
    encode_record(journal_record{record_kind::state_set, key, {}, value}, snapshot);
  s->state_ = recovered.state;
  if (error_code ec = replace_file(dir, w.path, snapshot)) fail("cannot write", w.path, ec.value());
  w.fd = ::open(w.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (w.fd < 0) fail("cannot open", w.path);
  w.journal_bytes = snapshot.size();
  w.thread = std::thread([&w] { w.run(); });
  return s;
}

spool::~spool() {
  {
    std::lock_guard lock(writer_->mutex);
    writer_->stopping = true;
  }
  writer_->wake.notify_one();
  if (writer_->thread.joinable()) writer_->thread.join();
  if (writer_->fd >= 0) ::close(writer_->fd);
  if (writer_->lock_fd >= 0) ::close(writer_->lock_fd);  // releases the directory's lock
}

asio::awaitable<error_code> spool::append_accepted(std::vector<journal_record> records) {
  std::string bytes;
  for (journal_record& record : records) {
    record.kind = record_kind::accepted;
    encode_record(record, bytes);
    // Live before the write completes, so a compaction queued meanwhile keeps it.
    order_[next_sequence_] = record.id;
    live_[record.id] = {next_sequence_++, live_entry{record.conversation, record.payload, false}};
  }
  ++stats_.appends;
  bytes_since_compaction_ += bytes.size();

  const error_code ec = co_await submit(std::move(bytes), true);

  if (ec) {
    for (const journal_record& record : records) {
      if (auto it = live_.find(record.id); it != live_.end()) {
        order_.erase(it->second.first);
        live_.erase(it);
      }
    }
    co_return ec;
  }
  maybe_compact();
  co_return error_code{};
}

asio::awaitable<error_code> spool::wait_written() {
  co_return co_await submit({}, false);
}

asio::awaitable<error_code> spool::submit(std::string bytes, bool sync) {
  constexpr auto as_result = asio::as_tuple(asio::use_awaitable);
  const auto [ec] = co_await asio::async_initiate<decltype(as_result), void(error_code)>(
      [this, &bytes, sync](auto handler) {
        auto shared =
            std::make_shared<asio::any_completion_handler<void(error_code)>>(std::move(handler));
        // Completed on the executor, which must not run out of work while the disk is busy.
        auto guard = asio::make_work_guard(executor_);
        writer_->push(writer::job{std::move(bytes), sync, false,
                                  [shared, guard, executor = executor_](error_code result) {
                                    asio::post(executor,
                                               [shared, result] { std::move (*shared)(result); });
                                  }});
      },
      as_result);
  co_return ec;
}

bool spool::writable() const {
  return writer_->unwritten_bytes.load() == 0;
}

void spool::mark_started(const std::vector<std::string>& ids) {
  std::string bytes;
  for (const std::string& id : ids) {
    auto it = live_.find(id);
    if (it == live_.end() || it->second.second.started) continue;
    it->second.second.started = true;
    bytes += encode_id_record(record_kind::started, id);
  }
  queue_write(std::move(bytes));
}

void spool::mark_done(const std::vector<std::string>& ids) {
  std::string bytes;
  for (const std::string& id : ids) {
    auto it = live_.find(id);
    if (it == live_.end()) continue;
    order_.erase(it->second.first);
    live_.erase(it);
    bytes += encode_id_record(record_kind::done, id);
  }
  queue_write(std::move(bytes));
  maybe_compact();
}

void spool::set_state(const std::string& key, const std::string& value) {
  state_[key] = value;
  std::string bytes;
  encode_record(journal_record{record_kind::state_set, key, {}, value}, bytes);
  queue_write(std::move(bytes));
}

void spool::clear_state(const std::string& key) {
  if (state_.erase(key) == 0) return;
  queue_write(encode_id_record(record_kind::state_cleared, key));
  maybe_compact();
}

void spool::set_seen_source(std::function<std::vector<dedupe_key>()> source) {
  seen_source_ = std::move(source);
}

void spool::queue_write(std::string bytes) {
  if (bytes.empty()) return;
  bytes_since_compaction_ += bytes.size();
  // Written by the next group; durable at the next fsync. A killed process loses nothing
  // written so far: the kernel has it.
  writer_->push(writer::job{std::move(bytes), false, false, {}});
}

void spool::maybe_compact() {
  if (bytes_since_compaction_ < options_.compact_after_bytes) return;
  bytes_since_compaction_ = 0;
  ++stats_.compactions;
  std::string snapshot;
  // Keys only: 29 bytes a remembered id. The keys of pending messages are written too (their
  // ids are in the accepted records as well); remembering one twice changes nothing.
  if (seen_source_) {
    for (const dedupe_key& key : seen_source_())
      snapshot += encode_id_record(record_kind::seen_key, to_bytes(key));
  }
  for (const auto& [seq, id] : order_) {
    const live_entry& entry = live_.at(id).second;
    encode_record(journal_record{record_kind::accepted, id, entry.conversation, entry.payload},
                  snapshot);
    if (entry.started) snapshot += encode_id_record(record_kind::started, id);
  }
  for (const auto& [key, value] : state_)
    encode_record(journal_record{record_kind::state_set, key, {}, value}, snapshot);
  writer_->push(writer::job{std::move(snapshot), false, true, {}});
}

spool_stats spool::stats() const {
  spool_stats s = stats_;
  s.pending = live_.size();
  s.journal_bytes = writer_->journal_bytes.load();
  s.flushes = writer_->flushes.load();
  s.write_failures = writer_->write_failures.load();
  s.unwritten_bytes = writer_->unwritten_bytes.load();
  return s;
}

}  // namespace bridge::queue
