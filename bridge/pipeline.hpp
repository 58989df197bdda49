#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <random>
#include <unordered_set>

#include "bridge/conversation_worker.hpp"
#include "bridge/runtime_settings.hpp"
#include "bridge/store/pending_message.hpp"
#include "queue/conversation_queue.hpp"
#include "queue/dedupe_set.hpp"
#include "queue/spool.hpp"
#include "webhook/meta/delivery_sink.hpp"
#include "webhook/util/log_throttle.hpp"

namespace bridge {

// Counts of what admission did with inbound traffic.
struct admission_counters {
  std::size_t accepted = 0;      // messages queued for an answer
  std::size_t duplicates = 0;    // messages whose wamid was seen already
  std::size_t skipped = 0;       // messages never answered: reactions, edits, system notices, ...
  std::size_t stale = 0;         // messages older than queue.max_message_age
  std::size_t unrouted = 0;      // messages for a business number without a route
  std::size_t refused = 0;       // messages refused: queue full, draining, or journal failure
  std::size_t unreadable = 0;    // messages without id, customer or number, or with absurd ids
  std::size_t oversized = 0;     // messages whose text is over webhook::meta::max_text_bytes
  std::size_t recovered = 0;     // messages replayed from the journal at start
  std::size_t statuses = 0;      // status notifications seen
  std::size_t value_errors = 0;  // errors Meta reported at the value level
  std::map<webhook::meta::message_kind, std::size_t> by_type;  // messages received, by kind
  std::map<std::string, std::size_t> by_status;  // statuses received: sent, delivered, ...
  std::size_t failed_statuses_matched = 0;       // failed statuses tied to a reply we sent
};

// The path from a verified delivery to answered conversations: admission (dedupe, route, bounded
// queue) on the request path, and `queue.workers` worker coroutines that take one conversation
// at a time and answer it. Everything runs on one executor.
class pipeline final : public webhook::meta::delivery_sink {
 public:
  pipeline(boost::asio::any_io_executor executor, std::shared_ptr<const runtime_settings> settings,
           std::shared_ptr<robofy::client::chat_service> chat,
           std::shared_ptr<webhook::meta::message_sender> sender);

  // Queues each text message of the delivery in order; stops at the first that does not fit.
  boost::asio::awaitable<webhook::meta::admission> admit(webhook::meta::delivery batch) override;

  // Journals accepted messages in `journal` from now on, and queues what it recovered (in its
  // original order) ahead of anything new. Call before start().
  void attach_spool(std::unique_ptr<queue::spool> journal, const queue::spool_recovery& recovered);
  // Starts the workers.
  void start();
  // Refuses new deliveries from now on (they get 503 and Meta retries them later).
  void begin_drain();
  // Waits until every accepted message is finished or `grace` passes; true when all finished.
  boost::asio::awaitable<bool> drain(std::chrono::milliseconds grace);
  // Stops the workers and logs, one line per wamid, every accepted message left unanswered
  // (kept in the journal when there is one, dropped otherwise). Returns how many there were.
  std::size_t stop();

  // Settings for messages taken from now on (configuration reload).
  void update(std::shared_ptr<const runtime_settings> settings);

  std::size_t queued() const { return queue_.size(); }
  std::size_t capacity() const { return queue_.capacity(); }
  // Conversations a worker is answering now.
  std::size_t conversations_in_flight() const { return busy_workers_; }
  const admission_counters& admissions() const { return admission_counters_; }
  const worker_counters& work() const { return worker_counters_; }
  const circuit_breaker& robofy_breaker() const { return robofy_breaker_; }
  const circuit_breaker& graph_breaker() const { return graph_breaker_; }
  // False while the journal holds records the disk refused (a full disk): not ready.
  bool storage_writable() const { return !spool_ || spool_->writable(); }
  // The journal's figures, when there is one.
  std::optional<queue::spool_stats> spool_stats() const;

 private:
  boost::asio::awaitable<void> run_worker();
  // Answers one query's worth of a conversation's messages, journaling their start and end.
  // False when the journal closed before the start was recorded (the bridge is stopping).
  boost::asio::awaitable<bool> answer_part(
      const queue::conversation_batch<store::pending_message>& part,
      std::shared_ptr<const runtime_settings> settings);
  void note_statuses(const std::vector<webhook::meta::status_update>& statuses);
  // Counts and logs the messages the payload parser could not turn into answerable ones.
  void note_unreadable(const webhook::meta::delivery& batch);
  void note_finished();

  boost::asio::any_io_executor executor_;
  std::shared_ptr<const runtime_settings> settings_;
  std::shared_ptr<robofy::client::chat_service> chat_;
  std::shared_ptr<webhook::meta::message_sender> sender_;
  queue::conversation_queue<store::pending_message> queue_;
  queue::dedupe_set seen_;
  std::unique_ptr<queue::spool> spool_;        // null: memory only
  std::unordered_set<std::string> in_flight_;  // wamids a worker is answering now
  admission_counters admission_counters_;
  worker_counters worker_counters_;
  std::mt19937_64 random_;
  circuit_breaker robofy_breaker_;
  circuit_breaker graph_breaker_;
  send_pacer pacer_;
  sent_index sent_;
  boost::asio::steady_timer drained_;  // cancelled when the last message finishes while draining
  bool draining_ = false;
  webhook::util::log_throttle unrouted_log_;
  webhook::util::log_throttle unreadable_log_;
  std::size_t busy_workers_ = 0;
};

}  // namespace bridge
