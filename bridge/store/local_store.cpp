#include "bridge/store/local_store.hpp"

#include <spdlog/spdlog.h>

#include "bridge/store/message_codec.hpp"

namespace bridge::store {

namespace asio = boost::asio;
using boost::system::error_code;

local_store::local_store(asio::any_io_executor executor, std::size_t capacity,
                         std::unique_ptr<queue::spool> journal,
                         const queue::spool_recovery& recovered)
    : queue_(executor, capacity),
      seen_(dedupe_max_entries, dedupe_retention),
      journal_(std::move(journal)) {
  if (journal_) replay(recovered);
}

void local_store::replay(const queue::spool_recovery& recovered) {
  journal_->set_seen_source([this] { return seen_.ids(); });
  for (const std::string& id : recovered.seen)
    seen_.insert(id);
  if (recovered.damaged_bytes > 0) {
    spdlog::warn(
        "journal in {}: {} damaged byte(s) in {} place(s) skipped (a torn write from a "
        "crash); every intact record was kept",
        journal_->directory(), recovered.damaged_bytes, recovered.damaged_regions);
  }
  std::vector<std::string> undecodable;
  for (const queue::recovered_message& r : recovered.pending) {
    auto message = decode_message(r.payload);
    if (!message) {
      spdlog::error("journal record for {} cannot be read; it is skipped", r.id);
      undecodable.push_back(r.id);
      continue;
    }
    seen_.insert(message->id);
    if (r.in_doubt) {
      spdlog::warn(
          "message {} was being answered when the bridge stopped; answering it again "
          "(the customer may see the answer twice)",
          r.id);
    }
    queue_.push_unbounded(
        r.conversation,
        pending_message{std::move(*message), std::chrono::steady_clock::now(), r.in_doubt});
    ++recovered_;
  }
  journal_->mark_done(undecodable);
  if (recovered_ > 0) {
    spdlog::info("replaying {} accepted message(s) from the journal in {}", recovered_,
                 journal_->directory());
  }
}

asio::awaitable<admission_result> local_store::admit(std::vector<admission_entry> entries) {
  admission_result result;
  result.verdicts.assign(entries.size(), verdict::no_room);
  // Room is reserved and ids remembered before the journal write, so a concurrent POST can
  // neither overfill the queue nor accept the same wamid while this one waits for the disk.
  std::vector<std::size_t> stored;
  std::vector<std::size_t> remembered;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string& id = entries[i].message.message.id;
    if (seen_.contains(id)) {
      result.verdicts[i] = verdict::duplicate;
      continue;
    }
    if (!entries[i].answer) {
      seen_.insert(id);
      result.verdicts[i] = verdict::remembered;
      remembered.push_back(i);
      continue;
    }
    // Everything before this message stays accepted and remembered, so Meta's retry of the
    // whole POST delivers only the rest, in order.
    if (!queue_.reserve(1)) break;
    seen_.insert(id);
    result.verdicts[i] = verdict::stored;
    stored.push_back(i);
  }

  if (journal_ && !stored.empty()) {
    std::vector<queue::journal_record> records;
    records.reserve(stored.size());
    for (const std::size_t i : stored) {
      const webhook::meta::inbound_message& m = entries[i].message.message;
      records.push_back(queue::journal_record{queue::record_kind::accepted, m.id,
                                              conversation_key(m), encode_message(m)});
    }
    if (const error_code ec = co_await journal_->append_accepted(std::move(records))) {
      // Not journaled means not accepted: Meta gets 503 and delivers these again, the ones
      // only remembered included (their retry must not read as a duplicate).
      for (const std::size_t i : stored)
        seen_.erase(entries[i].message.message.id);
      for (const std::size_t i : remembered)
        seen_.erase(entries[i].message.message.id);
      queue_.unreserve(stored.size());
      result.error = ec;
      co_return result;
    }
  }
  for (const std::size_t i : stored) {
    const std::string key = conversation_key(entries[i].message.message);
    queue_.push_reserved(key, std::move(entries[i].message));
  }
  co_return result;
}

asio::awaitable<std::optional<claim>> local_store::claim_next() {
  auto batch = co_await queue_.take();
  if (!batch) co_return std::nullopt;
  std::vector<std::string>& held = held_[batch->conversation];
  for (const pending_message& p : batch->items)
    held.push_back(p.message.id);
  co_return claim{std::move(batch->conversation), 0, std::move(batch->items)};
}

asio::awaitable<error_code> local_store::take_more(claim& held) {
  queue::conversation_batch<pending_message> more{held.conversation, {}};
  queue_.take_more(more);
  std::vector<std::string>& ids = held_[held.conversation];
  for (pending_message& p : more.items) {
    ids.push_back(p.message.id);
    held.messages.push_back(std::move(p));
  }
  co_return error_code{};
}

asio::awaitable<error_code> local_store::begin_send(const claim& /*held*/,
                                                    std::span<const std::string> ids) {
  if (!journal_) co_return error_code{};
  journal_->mark_started(std::vector<std::string>(ids.begin(), ids.end()));
  // The started records must be in the file before anything can be sent, or a crash could answer
  // these again after the restart without calling them in doubt. A full disk holds the
  // conversation here until the records are written.
  co_return co_await journal_->wait_written();
}

asio::awaitable<error_code> local_store::finish(const claim& /*held*/,
                                                std::span<const std::string> ids) {
  if (journal_) journal_->mark_done(std::vector<std::string>(ids.begin(), ids.end()));
  co_return error_code{};
}

asio::awaitable<void> local_store::release(claim held) {
  auto it = held_.find(held.conversation);
  const std::size_t count = it == held_.end() ? held.messages.size() : it->second.size();
  if (it != held_.end()) held_.erase(it);
  queue_.finish(held.conversation, count);
  co_return;
}

leftovers local_store::close() {
  leftovers left;
  left.kept = journal_ != nullptr;
  for (const auto& [conversation, ids] : held_) {
    left.answering.insert(left.answering.end(), ids.begin(), ids.end());
  }
  for (const auto& batch : queue_.close()) {
    for (const pending_message& p : batch.items)
      left.waiting.push_back(p.message.id);
  }
  return left;
}

std::optional<queue::spool_stats> local_store::journal_stats() const {
  if (!journal_) return std::nullopt;
  return journal_->stats();
}

}  // namespace bridge::store
