#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bridge/store/operator_state.hpp"
#include "bridge/store/pending_message.hpp"

// Where accepted messages live until they are answered: the one interface the pipeline and the
// workers talk to. The local store (memory, or a journal in spool.dir) is one implementation;
// Redis, shared by several replicas, is the other.
namespace bridge::store {

// Meta allows free-form replies only within 24 hours of the customer's last message.
inline constexpr std::chrono::hours service_window{24};

// One message of a delivery as admission hands it over.
struct admission_entry {
  pending_message message;
  // True: store it and queue it for an answer. False: only remember its wamid, so Meta's
  // retries are known as duplicates (reactions, stale or unrouted messages, ...).
  bool answer = true;
};

// What became of one admission_entry.
enum class verdict {
  stored,      // queued for an answer
  remembered,  // its wamid is remembered; nothing to answer
  duplicate,   // its wamid was seen before: nothing happened
  no_room,     // the store is at queue.capacity: refused, with every entry after it
  paused,      // its conversation is handed to a person: remembered, never answered by the AI
};

// The answer to one admit() call.
struct admission_result {
  std::vector<verdict> verdicts;  // one per entry, in order
  // Set when the store could not take the delivery at all (journal write failed, store
  // unreachable): nothing of it may be taken as accepted (Meta gets 503 and retries).
  boost::system::error_code error;
};

// A conversation held by one worker: every message that was waiting, oldest first, and the proof
// of ownership each later step shows. While a claim is held, nobody else answers the conversation.
struct claim {
  std::string conversation;
  std::uint64_t fence = 0;  // rises with every claim of the conversation (shared stores)
  std::vector<pending_message> messages;
  // Whether the conversation was handed to a person when it was claimed (or when take_more last
  // added to it): learnt in the same step, so the worker need not ask before its first question.
  // begin_send checks again, atomically, before anything is sent.
  bool paused = false;
};

// Which conversation an outbound message (a reply Meta accepted) belongs to, for a later
// `failed` status about it.
struct reply_origin {
  std::string customer;     // as logged (redacted when configured)
  std::string inbound_ids;  // the wamids the reply answered
};

// What a stopping store could not hand out or finish.
struct leftovers {
  std::vector<std::string> waiting;    // wamids nobody had started answering
  std::vector<std::string> answering;  // wamids (or conversations) a worker was answering
  bool kept = false;                   // true: they stay stored
  std::string kept_in;                 // where: "the journal", "Redis"
};

// The store of accepted messages. Every call must come from the executor the store was made on.
class message_store {
 public:
  virtual ~message_store() = default;

  // Admission (dedupe, capacity, store) for one delivery's messages, in order and atomically per
  // message: an entry whose wamid was seen is a duplicate; once the capacity is reached, that
  // entry and all after it are refused (no_room); every other entry is stored or remembered.
  // Stored messages are durable before this completes when the store is durable. The store may
  // move the message of an entry it stores (verdict::stored) out of `entries`; every other entry
  // is left as it was, so the caller can still read what it reports about it. `entries` must
  // outlive the call (the caller co_awaits it at once).
  virtual boost::asio::awaitable<admission_result> admit(std::span<admission_entry> entries) = 0;
  // Waits for a conversation with waiting messages that nobody holds and claims it with all of
  // them. nullopt once the store is closed.
  virtual boost::asio::awaitable<std::optional<claim>> claim_next() = 0;
  // Adds to `held` the messages its conversation received since it was claimed, in order.
  virtual boost::asio::awaitable<boost::system::error_code> take_more(claim& held) = 0;
  // Records that answering `ids` of `held` begins, durably, before anything is sent: after a
  // crash these are answered again and logged as in doubt. An error means the claim is no
  // longer ours (or the store is closing): send nothing.
  virtual boost::asio::awaitable<boost::system::error_code> begin_send(
      const claim& held, std::span<const std::string> ids) = 0;
  // Records that `ids` of `held` are finished (answered, or given up for good).
  virtual boost::asio::awaitable<boost::system::error_code> finish(
      const claim& held, std::span<const std::string> ids) = 0;
  // Gives the conversation back: its capacity is freed and messages that arrived meanwhile can
  // be claimed (by any worker).
  virtual boost::asio::awaitable<void> release(claim held) = 0;
  // finish(held, ids), then release, for a claim's last batch: one step where the store can (one
  // Redis script instead of two). The default does the two; `held` itself is not taken.
  virtual boost::asio::awaitable<void> finish_and_release(const claim& held,
                                                          std::span<const std::string> ids) {
    co_await finish(held, ids);
    co_await release(held);
  }
  // Stops handing out claims (waiting claim_next calls get nullopt) and says what was left.
  virtual leftovers close() = 0;
  // The process is stopping: a shared store stops claiming new conversations (other replicas
  // answer them); a local one keeps going, since nobody else can.
  virtual void begin_drain() {}
  // After close(): gives back what this process still holds, so others can answer it at once
  // (a shared store); a local store keeps it for the next start.
  virtual boost::asio::awaitable<void> hand_back() { co_return; }
  // What this process must finish before it may stop: every unfinished message for a local
  // store, the conversations it holds for a shared one.
  virtual std::size_t local_backlog() const { return unfinished(); }

  // Reserves the next send slot of business number `number` at `rate` messages per second (bursts
  // of a quarter second's worth), counted over every replica of a shared store: how long to wait
  // before sending. Zero when the store cannot say (a send is better than none).
  virtual boost::asio::awaitable<std::chrono::steady_clock::duration> reserve_send(
      const std::string& number, std::uint32_t rate) = 0;
  // Remembers that outbound message `outbound_id` answered `origin` (written soon, not waited for).
  virtual void remember_reply(const std::string& outbound_id, reply_origin origin) = 0;
  // What `outbound_id` answered, if it is (still) known.
  virtual boost::asio::awaitable<std::optional<reply_origin>> find_reply(
      const std::string& outbound_id) = 0;

  // Handover to a person: pauses `p.conversation` until `p.until`. An echo ("echo") extends a
  // pause and never shortens it; an operator's pause ("operator") sets it. While paused, admit()
  // says `paused` and begin_send() fails with errc::paused. Durable (as far as the store is: with
  // Redis and redis.min_replica_acks, on that many Redis replicas) when it completes.
  virtual boost::asio::awaitable<boost::system::error_code> pause(store::pause p) = 0;
  // Whether `conversation` is paused now (checked again just before an answer is sent). A claim
  // says it too (claim::paused).
  virtual boost::asio::awaitable<bool> is_paused(const std::string& conversation) = 0;
  // Ends a pause at once (durably, as pause()); false when the conversation was not paused.
  virtual boost::asio::awaitable<bool> resume(const std::string& conversation) = 0;
  // The conversations paused now, soonest to end first.
  virtual boost::asio::awaitable<std::vector<store::pause>> paused() = 0;

  // Keeps a message that ended without a real answer (bounded by dead_letters.max and max_age,
  // the oldest dropped first).
  virtual boost::asio::awaitable<boost::system::error_code> add_dead_letter(dead_letter d) = 0;
  // Dead letters, newest first: at most `limit`, those after the one named `after` (paging),
  // only those whose reason is `reason` when it is not empty.
  virtual boost::asio::awaitable<std::vector<dead_letter>> dead_letters(
      std::size_t limit, std::string_view after, std::string_view reason) = 0;
  // One dead letter.
  virtual boost::asio::awaitable<std::optional<dead_letter>> find_dead_letter(
      const std::string& wamid) = 0;
  // Queues a dead letter's message again (it leaves the dead letters in the same step, so two
  // replays at once queue it once), unless the customer's last message is older than
  // `window_start` (Meta allows free-form replies only within 24 hours).
  virtual boost::asio::awaitable<replay_result> replay(const std::string& wamid,
                                                       wall_time window_start) = 0;
  // Discards a dead letter (durably, as pause()); false when there was none.
  virtual boost::asio::awaitable<bool> delete_dead_letter(const std::string& wamid) = 0;
  // dead_letters.max and dead_letters.max_age, from now on (configuration reload).
  virtual void set_dead_letter_limits(std::size_t max, std::chrono::milliseconds max_age) = 0;

  // Accepted messages not yet finished (being answered included).
  virtual std::size_t unfinished() const = 0;
  virtual std::size_t capacity() const = 0;
  // Applies to admissions from now on (configuration reload).
  virtual void set_capacity(std::size_t capacity) = 0;
  // False while the store cannot record progress (a full disk, an unreachable Redis): not ready.
  virtual bool writable() const = 0;
};

}  // namespace bridge::store
