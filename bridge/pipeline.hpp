#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <random>
#include <span>

#include "bridge/admission.hpp"
#include "bridge/conversation_worker.hpp"
#include "bridge/runtime_settings.hpp"
#include "bridge/store/message_store.hpp"
#include "webhook/io/clock.hpp"
#include "webhook/io/task_group.hpp"
#include "webhook/meta/delivery_sink.hpp"
#include "webhook/util/log_throttle.hpp"

namespace bridge {

// The upstreams and the clock the pipeline's workers use (interfaces, so tests use stubs).
struct pipeline_services {
  std::shared_ptr<store::message_store> store;
  std::shared_ptr<robofy::client::chat_service> chat;
  std::shared_ptr<webhook::meta::message_sender> sender;
  std::shared_ptr<webhook::io::clock> clock;
};

// The path from a verified delivery to answered conversations: admission (classify, then the
// store's dedupe, capacity and storage) on the request path, and `queue.workers` worker
// coroutines that claim one conversation at a time from the store and answer it. Everything
// runs on one executor.
class pipeline final : public webhook::meta::delivery_sink {
 public:
  pipeline(boost::asio::any_io_executor executor, std::shared_ptr<const runtime_settings> settings,
           pipeline_services services);

  // Accepts each message of the delivery in order; stops at the first that does not fit.
  boost::asio::awaitable<webhook::meta::admission> admit(webhook::meta::delivery batch) override;

  // Starts the workers.
  void start();
  // Refuses new deliveries from now on (they get 503 and Meta retries them later).
  void begin_drain();
  // Waits until every accepted message is finished or `grace` passes on the clock; true when all
  // finished.
  boost::asio::awaitable<bool> drain(std::chrono::milliseconds grace);
  // Stops the workers, gives back what a shared store holds for this replica, and logs, one line
  // per wamid (per conversation for a shared store), what was left unanswered (kept in a durable
  // store, dropped otherwise). Returns how many there were.
  boost::asio::awaitable<std::size_t> stop();

  // Counts the messages the store replayed at start (a journal), for the metrics.
  void note_recovered(std::size_t count) { admission_counters_.recovered += count; }
  // Settings for messages taken from now on (configuration reload).
  void update(std::shared_ptr<const runtime_settings> settings);

  std::size_t queued() const { return services_.store->unfinished(); }
  std::size_t capacity() const { return services_.store->capacity(); }
  // Conversations a worker is answering now.
  std::size_t conversations_in_flight() const { return busy_workers_; }
  const admission_counters& admissions() const { return admission_counters_; }
  // What the workers did.
  const worker_counters& answering() const { return worker_counters_; }
  const circuit_breaker& robofy_breaker() const { return robofy_breaker_; }
  const circuit_breaker& graph_breaker() const { return graph_breaker_; }
  // False while the store cannot record progress: not ready.
  bool storage_writable() const { return services_.store->writable(); }

 private:
  boost::asio::awaitable<void> run_worker();
  // Answers one query's worth of a conversation's messages, recording its start and end in the
  // store; the claim's `first` part trusts its pause flag, its `last` part gives the conversation
  // back when it ends. False when the claim is lost (or the store closes): nothing more may be
  // sent, nothing was given back.
  boost::asio::awaitable<bool> answer_part(const store::claim& held,
                                           std::span<const store::pending_message> part,
                                           std::shared_ptr<const runtime_settings> settings,
                                           bool first, bool last);
  // Marks `ids` done without answering them: a person has the conversation now (counted as
  // paused, logged).
  boost::asio::awaitable<void> hold_back_for_person(const store::claim& held,
                                                    std::span<const store::pending_message> part,
                                                    const std::vector<std::string>& ids,
                                                    const runtime_settings& settings, bool last);
  // Records `ids` finished; for the claim's last part, gives the conversation back in the same
  // step.
  boost::asio::awaitable<void> finish_part(const store::claim& held,
                                           const std::vector<std::string>& ids, bool last);
  // Logs and counts each message's admission after the store decided (`entries` as the store
  // left them).
  void note_verdicts(const webhook::meta::delivery& batch,
                     std::span<const store::admission_entry> entries,
                     std::span<const message_class> classes, const store::admission_result& result);
  boost::asio::awaitable<void> note_statuses(std::vector<webhook::meta::status_update> statuses);
  // Counts and logs the messages the payload parser could not turn into answerable ones.
  void note_unreadable(const webhook::meta::delivery& batch);
  void note_finished();
  // Counts each change by its field (known names only; the rest as "other").
  void note_fields(const webhook::meta::delivery& batch);
  // The business answered these customers itself: the AI pauses for handover.pause_for.
  boost::asio::awaitable<void> note_echoes(const std::vector<webhook::meta::echo>& echoes);
  // Keeps every message of `part` as a dead letter, with why.
  boost::asio::awaitable<void> keep_dead_letters(std::span<const store::pending_message> part,
                                                 const answer_outcome& outcome);

  boost::asio::any_io_executor executor_;
  std::shared_ptr<const runtime_settings> settings_;
  pipeline_services services_;
  admission_counters admission_counters_;
  worker_counters worker_counters_;
  std::mt19937_64 random_;
  circuit_breaker robofy_breaker_;
  circuit_breaker graph_breaker_;
  boost::asio::steady_timer drained_;  // cancelled when the last message finishes while draining
  webhook::io::task_group workers_;
  bool draining_ = false;
  std::size_t busy_workers_ = 0;
  webhook::util::log_throttle unrouted_log_;
  webhook::util::log_throttle unreadable_log_;
};

}  // namespace bridge
