#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include "bridge/store/message_store.hpp"
#include "bridge/store/send_pacer.hpp"
#include "bridge/store/sent_index.hpp"
#include "queue/conversation_queue.hpp"
#include "queue/dedupe_key.hpp"
#include "queue/dedupe_set.hpp"
#include "queue/spool.hpp"
#include "webhook/io/clock.hpp"

namespace bridge::store {

// std::hash of a string's characters, for maps searched by std::string_view.
struct transparent_string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

// The store of one process: messages in per-conversation mailboxes in memory, wamids in a
// dedupe set, and, with spool.dir, every step journaled so a restart (kill -9 included) answers
// what was accepted and not finished. Not thread-safe: one executor.
class local_store final : public message_store {
 public:
  // Meta retries a delivery for up to 7 days; ids are remembered that long unless this many newer
  // ones push them out first.
  static constexpr std::size_t dedupe_max_entries = 1'000'000;
  static constexpr std::chrono::seconds dedupe_retention{std::chrono::hours(24 * 7)};

  // A store of at most `capacity` unfinished messages; memory only when `journal` is null.
  // With a journal, `recovered` (what opening it found) is queued ahead of anything new, in its
  // original order, and its remembered ids are remembered again; messages that were being
  // answered are logged as in doubt.
  // Pacing reads `clock` (the system clock when null); log lines redact customers when `redact`.
  local_store(boost::asio::any_io_executor executor, std::size_t capacity,
              std::unique_ptr<queue::spool> journal = nullptr,
              const queue::spool_recovery& recovered = {},
              std::shared_ptr<webhook::io::clock> clock = nullptr, bool redact = true);

  boost::asio::awaitable<admission_result> admit(std::span<admission_entry> entries) override;
  boost::asio::awaitable<std::optional<claim>> claim_next() override;
  boost::asio::awaitable<boost::system::error_code> take_more(claim& held) override;
  boost::asio::awaitable<boost::system::error_code> begin_send(
      const claim& held, std::span<const std::string> ids) override;
  boost::asio::awaitable<boost::system::error_code> finish(
      const claim& held, std::span<const std::string> ids) override;
  boost::asio::awaitable<void> release(claim held) override;
  boost::asio::awaitable<void> finish_and_release(const claim& held,
                                                  std::span<const std::string> ids) override;
  leftovers close() override;
  boost::asio::awaitable<std::chrono::steady_clock::duration> reserve_send(
      const std::string& number, std::uint32_t rate) override;
  void remember_reply(const std::string& outbound_id, reply_origin origin) override;
  boost::asio::awaitable<std::optional<reply_origin>> find_reply(
      const std::string& outbound_id) override;
  boost::asio::awaitable<boost::system::error_code> pause(store::pause p) override;
  boost::asio::awaitable<bool> is_paused(const std::string& conversation) override;
  boost::asio::awaitable<bool> resume(const std::string& conversation) override;
  boost::asio::awaitable<std::vector<store::pause>> paused() override;
  boost::asio::awaitable<boost::system::error_code> add_dead_letter(dead_letter d) override;
  boost::asio::awaitable<std::vector<dead_letter>> dead_letters(std::size_t limit,
                                                                std::string_view after,
                                                                std::string_view reason) override;
  boost::asio::awaitable<std::optional<dead_letter>> find_dead_letter(
      const std::string& wamid) override;
  boost::asio::awaitable<replay_result> replay(const std::string& wamid,
                                               wall_time window_start) override;
  boost::asio::awaitable<bool> delete_dead_letter(const std::string& wamid) override;
  void set_dead_letter_limits(std::size_t max, std::chrono::milliseconds max_age) override;
  // Dead letters dropped to keep within the limits.
  std::size_t dead_letters_dropped() const { return dead_dropped_; }
  // Conversations whose customer's last message time is kept (for replays' service window).
  std::size_t remembered_conversations() const { return last_inbound_.size(); }

  std::size_t unfinished() const override { return queue_.size(); }
  std::size_t capacity() const override { return queue_.capacity(); }
  void set_capacity(std::size_t capacity) override { queue_.set_capacity(capacity); }
  bool writable() const override { return !journal_ || journal_->writable(); }

  // Messages replayed from the journal at start.
  std::size_t recovered() const { return recovered_; }
  // The journal's figures, when there is one.
  std::optional<queue::spool_stats> journal_stats() const;

 private:
  void replay(const queue::spool_recovery& recovered);
  // The dedupe secret the journal keeps (so the keys it holds stay meaningful), or a new one.
  static queue::dedupe_hasher::secret_bytes dedupe_secret(const queue::spool_recovery& recovered);
  void restore_state(const queue::spool_recovery& recovered);
  // True while `conversation` is paused at `now`.
  bool is_paused(std::string_view conversation, wall_time now) const;
  void keep_dead_letter(dead_letter d);
  void drop_dead_letter(const std::string& wamid);
  void prune_dead_letters(wall_time now);
  // Ends a claim: frees the capacity of what it took and lets what arrived since be claimed.
  void end_claim(const claim& held);
  // Notes the time of a customer's message in last_inbound_ (and sweeps it when due); `digest` is
  // the conversation's queue_.digest_of.
  void note_inbound(const queue::dedupe_key& digest, wall_time written);

  queue::conversation_queue<pending_message> queue_;
  queue::dedupe_set seen_;
  std::unique_ptr<queue::spool> journal_;  // null: memory only
  // Messages of each claimed conversation: how many the claim took from the queue.
  std::unordered_map<std::string, std::vector<std::string>> held_;
  std::size_t recovered_ = 0;
  std::shared_ptr<webhook::io::clock> clock_;
  bool redact_ = true;
  send_pacer pacer_;
  sent_index sent_;
  // By conversation; found by a string_view of its name, so admission needs no std::string.
  std::unordered_map<std::string, store::pause, transparent_string_hash, std::equal_to<>> pauses_;
  std::unordered_map<std::string, dead_letter> dead_;       // by wamid
  std::set<std::pair<wall_time, std::string>> dead_order_;  // oldest first
  // The customer's last message, by conversation, for the service window of a replay; entries
  // older than the window are swept when the map has doubled since the last sweep. Keyed by the
  // digest the queue finds the conversation's mailbox by (queue_.digest_of): 24 bytes a slot,
  // compared in place, no string of its own.
  boost::unordered_flat_map<queue::dedupe_key, wall_time, queue::dedupe_key_hash> last_inbound_;
  std::size_t sweep_last_inbound_at_ = 1024;
  std::size_t dead_max_ = 10000;
  std::chrono::milliseconds dead_max_age_ = std::chrono::hours(24 * 7);
  std::size_t dead_dropped_ = 0;
};

}  // namespace bridge::store
