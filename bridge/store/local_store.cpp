#include "bridge/store/local_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/container/small_vector.hpp>

#include "bridge/store/errc.hpp"
#include "bridge/store/message_codec.hpp"
#include "webhook/io/log_event.hpp"
#include "webhook/util/redact.hpp"

namespace bridge::store {

namespace asio = boost::asio;
using boost::system::error_code;

local_store::local_store(asio::any_io_executor executor, std::size_t capacity,
                         std::unique_ptr<queue::spool> journal,
                         const queue::spool_recovery& recovered,
                         std::shared_ptr<webhook::io::clock> clock, bool redact)
    : queue_(executor, capacity),
      seen_(dedupe_max_entries, dedupe_retention, dedupe_secret(recovered)),
      journal_(std::move(journal)),
      clock_(clock ? std::move(clock) : webhook::io::make_system_clock()),
      redact_(redact) {
  if (journal_) {
    replay(recovered);
    restore_state(recovered);
  }
}

namespace {
constexpr std::string_view pause_key = "pause:";
constexpr std::string_view dead_key = "dead:";
// The state key of the dedupe secret (32 hex digits).
constexpr std::string_view dedupe_secret_key = "dedupe:secret";

std::string to_hex(const queue::dedupe_hasher::secret_bytes& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0x0f]);
  }
  return out;
}

std::optional<queue::dedupe_hasher::secret_bytes> from_hex(std::string_view text) {
  queue::dedupe_hasher::secret_bytes out{};
  if (text.size() != 2 * out.size()) return std::nullopt;
  const auto digit = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int high = digit(text[2 * i]);
    const int low = digit(text[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(high * 16 + low);
  }
  return out;
}

std::optional<queue::dedupe_hasher::secret_bytes> journaled_secret(
    const queue::spool_recovery& recovered) {
  const auto it = recovered.state.find(std::string(dedupe_secret_key));
  if (it == recovered.state.end()) return std::nullopt;
  return from_hex(it->second);
}
}  // namespace

queue::dedupe_hasher::secret_bytes local_store::dedupe_secret(
    const queue::spool_recovery& recovered) {
  return journaled_secret(recovered).value_or(queue::dedupe_hasher::random_secret());
}

void local_store::restore_state(const queue::spool_recovery& recovered) {
  for (const auto& [key, value] : recovered.state) {
    if (key.starts_with(pause_key)) {
      if (auto p = decode_pause(value)) pauses_[p->conversation] = std::move(*p);
    } else if (key.starts_with(dead_key)) {
      if (auto d = decode_dead_letter(value)) {
        dead_order_.emplace(d->at, d->wamid);
        dead_[d->wamid] = std::move(*d);
      }
    }
  }
}

bool local_store::is_paused(std::string_view conversation, wall_time now) const {
  if (pauses_.empty()) return false;  // nearly always: no hash of the name
  const auto it = pauses_.find(conversation);
  return it != pauses_.end() && it->second.until > now;
}

void local_store::replay(const queue::spool_recovery& recovered) {
  journal_->set_seen_source([this] { return seen_.keys(); });
  // Journals of earlier versions remember ids as text; newer ones as keys under their secret,
  // written by a compaction, so older than the ids of the done records after it: keys first, so
  // the set's oldest-first order (what the 1,000,000-id bound drops first) holds.
  const bool have_secret = journaled_secret(recovered).has_value();
  if (have_secret) {
    for (const queue::dedupe_key& key : recovered.seen_keys)
      seen_.insert(key);
  }
  for (const std::string& id : recovered.seen)
    seen_.insert(id);
  if (!have_secret) {
    if (!recovered.seen_keys.empty()) {
      spdlog::error(
          "journal in {}: {} remembered message id(s) cannot be used: the dedupe secret they were "
          "made with is missing; Meta's retries of those messages would be answered again",
          journal_->directory(), recovered.seen_keys.size());
    }
    journal_->set_state(std::string(dedupe_secret_key), to_hex(seen_.secret()));
  }
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
      webhook::io::log_event(
          spdlog::level::warn,
          {"in_doubt", r.id, webhook::util::redact_conversation(r.conversation, redact_)},
          "message {} was being answered when the bridge stopped; answering it again "
          "(the customer may see the answer twice): in doubt",
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

void local_store::note_inbound(const queue::dedupe_key& digest, wall_time written) {
  wall_time& last = last_inbound_[digest];
  last = std::max(last, written);
  if (last_inbound_.size() < sweep_last_inbound_at_) return;
  // Amortised: a sweep costs the map's size and the map must double before the next one, so
  // its memory follows the conversations of the last 24 hours instead of every one ever seen.
  const wall_time window_start = clock_->wall_now() - service_window;
  boost::unordered::erase_if(last_inbound_,
                             [&](const auto& entry) { return entry.second < window_start; });
  sweep_last_inbound_at_ = std::max<std::size_t>(1024, 2 * last_inbound_.size());
}

asio::awaitable<admission_result> local_store::admit(std::span<admission_entry> entries) {
  admission_result result;
  result.verdicts.assign(entries.size(), verdict::no_room);
  // Room is reserved and ids remembered before the journal write, so a concurrent POST can
  // neither overfill the queue nor accept the same wamid while this one waits for the disk.
  // Most deliveries carry one message: no allocation for these lists.
  struct stored_message {
    std::size_t index;         // in entries
    queue::dedupe_key digest;  // its conversation's queue_.digest_of, hashed once
  };
  boost::container::small_vector<stored_message, 4> stored;
  boost::container::small_vector<std::size_t, 4> remembered;
  const wall_time now = clock_->wall_now();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const webhook::meta::inbound_message& message = entries[i].message.message;
    const queue::dedupe_key id = seen_.key_of(message.id);
    if (seen_.contains(id)) {
      result.verdicts[i] = verdict::duplicate;
      continue;
    }
    const conversation_name conversation(message);
    const queue::dedupe_key digest = queue_.digest_of(conversation.view());
    // From when the customer wrote, not from when Meta delivered it: a retried delivery can
    // arrive a day late, outside the window its message opened.
    note_inbound(digest, written_at(message, now));
    if (entries[i].answer && is_paused(conversation.view(), now)) {
      seen_.insert(id);
      result.verdicts[i] = verdict::paused;
      remembered.push_back(i);
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
    stored.push_back(stored_message{i, digest});
  }

  if (journal_ && !stored.empty()) {
    std::vector<queue::journal_record> records;
    records.reserve(stored.size());
    for (const stored_message& s : stored) {
      const webhook::meta::inbound_message& m = entries[s.index].message.message;
      records.push_back(queue::journal_record{queue::record_kind::accepted, m.id,
                                              conversation_key(m), encode_message(m)});
    }
    if (const error_code ec = co_await journal_->append_accepted(std::move(records))) {
      // Not journaled means not accepted: Meta gets 503 and delivers these again, the ones
      // only remembered included (their retry must not read as a duplicate).
      for (const stored_message& s : stored)
        seen_.erase(entries[s.index].message.message.id);
      for (const std::size_t i : remembered)
        seen_.erase(entries[i].message.message.id);
      queue_.unreserve(stored.size());
      result.error = ec;
      co_return result;
    }
  }
  for (const stored_message& s : stored) {
    pending_message& pending = entries[s.index].message;
    // Named again rather than kept from the loop above: a few bytes copied on the stack, and
    // this frame stays small.
    const conversation_name conversation(pending.message);
    queue_.push_reserved(s.digest, conversation.view(), std::move(pending));
  }
  co_return result;
}

asio::awaitable<std::optional<claim>> local_store::claim_next() {
  auto batch = co_await queue_.take();
  if (!batch) co_return std::nullopt;
  std::vector<std::string>& held = held_[batch->conversation];
  for (const pending_message& p : batch->items)
    held.push_back(p.message.id);
  const bool paused = is_paused(batch->conversation, clock_->wall_now());
  co_return claim{std::move(batch->conversation), 0, std::move(batch->items), paused};
}

asio::awaitable<error_code> local_store::take_more(claim& held) {
  queue::conversation_batch<pending_message> more{held.conversation, {}};
  queue_.take_more(more);
  std::vector<std::string>& ids = held_[held.conversation];
  for (pending_message& p : more.items) {
    ids.push_back(p.message.id);
    held.messages.push_back(std::move(p));
  }
  held.paused = is_paused(held.conversation, clock_->wall_now());
  co_return error_code{};
}

asio::awaitable<error_code> local_store::begin_send(const claim& held,
                                                    std::span<const std::string> ids) {
  if (is_paused(held.conversation, clock_->wall_now())) co_return make_error_code(errc::paused);
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
  end_claim(held);
  co_return;
}

asio::awaitable<void> local_store::finish_and_release(const claim& held,
                                                      std::span<const std::string> ids) {
  co_await finish(held, ids);
  end_claim(held);
}

void local_store::end_claim(const claim& held) {
  auto it = held_.find(held.conversation);
  const std::size_t count = it == held_.end() ? held.messages.size() : it->second.size();
  if (it != held_.end()) held_.erase(it);
  queue_.finish(held.conversation, count);
}

leftovers local_store::close() {
  leftovers left;
  left.kept = journal_ != nullptr;
  left.kept_in = "the journal";
  for (const auto& [conversation, ids] : held_) {
    left.answering.insert(left.answering.end(), ids.begin(), ids.end());
  }
  for (const auto& batch : queue_.close()) {
    for (const pending_message& p : batch.items)
      left.waiting.push_back(p.message.id);
  }
  return left;
}

asio::awaitable<std::chrono::steady_clock::duration> local_store::reserve_send(
    const std::string& number, std::uint32_t rate) {
  co_return pacer_.reserve(number, rate, clock_->now());
}

void local_store::remember_reply(const std::string& outbound_id, reply_origin origin) {
  sent_.remember(outbound_id,
                 sent_index::entry{std::move(origin.customer), std::move(origin.inbound_ids)});
}

asio::awaitable<std::optional<reply_origin>> local_store::find_reply(
    const std::string& outbound_id) {
  const sent_index::entry* found = sent_.find(outbound_id);
  if (found == nullptr) co_return std::nullopt;
  co_return reply_origin{found->customer, found->inbound_ids};
}

asio::awaitable<error_code> local_store::pause(store::pause p) {
  const auto it = pauses_.find(p.conversation);
  const wall_time now = clock_->wall_now();
  if (it != pauses_.end() && it->second.until > now) {
    // An echo extends a running pause and never shortens it; an operator's pause sets it.
    if (p.why == "echo") {
      p.until = std::max(p.until, it->second.until);
      p.why = it->second.why;
    }
    p.since = it->second.since;
  }
  if (journal_) journal_->set_state(std::string(pause_key) + p.conversation, encode_pause(p));
  pauses_[p.conversation] = std::move(p);
  // In the file before the operator (or Meta, for an echo) hears it: a kill -9 right after the
  // answer must not hand the conversation back to the AI.
  if (journal_) co_return co_await journal_->wait_written();
  co_return error_code{};
}

asio::awaitable<bool> local_store::is_paused(const std::string& conversation) {
  co_return is_paused(conversation, clock_->wall_now());
}

asio::awaitable<bool> local_store::resume(const std::string& conversation) {
  const auto it = pauses_.find(conversation);
  const bool was_paused = it != pauses_.end() && it->second.until > clock_->wall_now();
  if (it != pauses_.end()) pauses_.erase(it);
  if (journal_) {
    journal_->clear_state(std::string(pause_key) + conversation);
    // As in pause(): what the operator was told holds after a crash.
    co_await journal_->wait_written();
  }
  co_return was_paused;
}

asio::awaitable<std::vector<store::pause>> local_store::paused() {
  const wall_time now = clock_->wall_now();
  std::vector<store::pause> out;
  for (auto it = pauses_.begin(); it != pauses_.end();) {
    if (it->second.until <= now) {
      // Expired: it ended on its own.
      if (journal_) journal_->clear_state(std::string(pause_key) + it->first);
      it = pauses_.erase(it);
      continue;
    }
    out.push_back(it->second);
    ++it;
  }
  std::sort(out.begin(), out.end(),
            [](const store::pause& a, const store::pause& b) { return a.until < b.until; });
  co_return out;
}

void local_store::keep_dead_letter(dead_letter d) {
  if (journal_) journal_->set_state(std::string(dead_key) + d.wamid, encode_dead_letter(d, true));
  dead_order_.emplace(d.at, d.wamid);
  dead_[d.wamid] = std::move(d);
}

void local_store::drop_dead_letter(const std::string& wamid) {
  const auto it = dead_.find(wamid);
  if (it == dead_.end()) return;
  dead_order_.erase({it->second.at, wamid});
  dead_.erase(it);
  if (journal_) journal_->clear_state(std::string(dead_key) + wamid);
}

void local_store::prune_dead_letters(wall_time now) {
  while (!dead_order_.empty() &&
         (dead_order_.size() > dead_max_ || dead_order_.begin()->first < now - dead_max_age_)) {
    const std::string oldest = dead_order_.begin()->second;
    drop_dead_letter(oldest);
    ++dead_dropped_;
  }
}

asio::awaitable<error_code> local_store::add_dead_letter(dead_letter d) {
  drop_dead_letter(d.wamid);  // a replayed message that failed again replaces its old letter
  keep_dead_letter(std::move(d));
  prune_dead_letters(clock_->wall_now());
  co_return error_code{};
}

asio::awaitable<std::vector<dead_letter>> local_store::dead_letters(std::size_t limit,
                                                                    std::string_view after,
                                                                    std::string_view reason) {
  prune_dead_letters(clock_->wall_now());
  std::vector<dead_letter> out;
  bool past_cursor = after.empty();
  for (auto it = dead_order_.rbegin(); it != dead_order_.rend() && out.size() < limit; ++it) {
    if (!past_cursor) {
      past_cursor = it->second == after;
      continue;
    }
    const dead_letter& d = dead_.at(it->second);
    if (!reason.empty() && d.reason != reason) continue;
    out.push_back(d);
  }
  co_return out;
}

asio::awaitable<std::optional<dead_letter>> local_store::find_dead_letter(
    const std::string& wamid) {
  const auto it = dead_.find(wamid);
  if (it == dead_.end()) co_return std::nullopt;
  co_return it->second;
}

asio::awaitable<replay_result> local_store::replay(const std::string& wamid,
                                                   wall_time window_start) {
  const auto it = dead_.find(wamid);
  if (it == dead_.end()) co_return replay_result::not_found;
  auto message = decode_message(it->second.payload);
  if (!message) co_return replay_result::not_found;
  // The customer's last message: what this process saw, or at least the message itself.
  wall_time last = written_at(*message, clock_->wall_now());
  if (const auto seen = last_inbound_.find(queue_.digest_of(it->second.conversation));
      seen != last_inbound_.end()) {
    last = std::max(last, seen->second);
  }
  if (last < window_start) co_return replay_result::window_closed;
  // Taken out before anything awaits, so a second replay at the same time finds nothing.
  dead_letter taken = it->second;
  drop_dead_letter(wamid);
  const std::string conversation = taken.conversation;
  if (journal_) {
    std::vector<queue::journal_record> records{queue::journal_record{
        queue::record_kind::accepted, message->id, conversation, encode_message(*message)}};
    if (co_await journal_->append_accepted(std::move(records))) {
      keep_dead_letter(std::move(taken));  // not queued: it stays a dead letter
      co_return replay_result::unavailable;
    }
  }
  queue_.push_unbounded(conversation, pending_message{std::move(*message), clock_->now(), false});
  co_return replay_result::queued;
}

asio::awaitable<bool> local_store::delete_dead_letter(const std::string& wamid) {
  const bool found = dead_.count(wamid) > 0;
  drop_dead_letter(wamid);
  if (found && journal_) co_await journal_->wait_written();  // as pause()
  co_return found;
}

void local_store::set_dead_letter_limits(std::size_t max, std::chrono::milliseconds max_age) {
  dead_max_ = max;
  dead_max_age_ = max_age;
}

std::optional<queue::spool_stats> local_store::journal_stats() const {
  if (!journal_) return std::nullopt;
  return journal_->stats();
}

}  // namespace bridge::store
