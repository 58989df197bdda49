#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bridge/store/message_store.hpp"
#include "queue/redis/client.hpp"
#include "webhook/io/clock.hpp"
#include "webhook/io/task_group.hpp"

namespace bridge::store {

// How the Redis store behaves (from the redis: block of the configuration).
struct redis_store_options {
  std::string key_prefix = "robofy-wa-bridge";
  std::chrono::milliseconds lease{30'000};
  std::size_t capacity = 10'000;             // queue.capacity, over all replicas together
  int min_replica_acks = 0;                  // > 0: WAIT for that many Redis replicas before a 200
  std::chrono::milliseconds timeout{2'000};  // WAIT gives up after a part of it
  std::string owner;  // who holds claims: unique per process (replica name + incarnation)
  std::chrono::milliseconds idle_poll{25};  // how often an idle replica looks for work
  bool redact_phone_numbers = true;         // in log lines
  std::size_t dead_letters_max = 10000;
  std::chrono::milliseconds dead_letters_max_age = std::chrono::hours(24 * 7);
};

// What the Redis store did, for /metrics.
struct redis_store_stats {
  std::uint64_t takeovers = 0;             // conversations claimed from an expired lease
  std::uint64_t fenced = 0;                // steps refused because the claim was lost
  std::uint64_t refusals = 0;              // admissions refused because Redis could not take them
  std::uint64_t wait_acknowledged = 0;     // WAITs that got min_replica_acks replicas
  std::uint64_t wait_short = 0;            // WAITs that did not
  std::uint64_t dead_letters_dropped = 0;  // dead letters dropped to keep within the limits
  std::size_t owned = 0;                   // conversations this replica holds now
  std::size_t unfinished = 0;              // messages stored and not finished (all replicas), as of
                                           // the last look
};

// The store several replicas share (DESIGN.md §8): every message, wamid, conversation and lease
// lives in Redis. Admission is one script per delivery (dedupe, capacity, store, make ready);
// a dispatcher claims ready conversations (and expired leases) for this replica's idle workers;
// claims are leased and fenced: begin_send, finish, take_more and release check the owner and
// the fencing number in the same script, so a replica that lost its lease can never record a
// send or move a conversation on. Leases are renewed at a third of their length. Redis's clock
// decides every deadline. Not thread-safe: one executor.
//
// When a step's reply is lost (Redis unreachable, a failover under way: errc::unavailable), each
// step is retried, or not, by this policy (every script checks what it relies on itself):
//   admit       not here: Meta gets 503 and retries; a retried wamid is a duplicate if it was
//               stored, and waits for min_replica_acks again before its 200
//   claim       no: a claim whose reply was lost leaves a lease nobody renews; it expires after
//               redis.lease and the conversation is taken over (nothing of it had begun)
//   take_more   no: the worker asks nothing and the claim is dropped here (no longer renewed);
//               messages it moved stay held, and the lease's next owner takes them in order
//   begin_send  yes, for up to redis.lease, with backoff: the record is a set, applying it twice
//               is harmless; with min_replica_acks it is WAITed for too, so the in-doubt mark
//               survives a failover. Nothing is sent until it succeeds; when it does not, the
//               claim is dropped here (no longer renewed) and its lease expires. "paused" is no
//               failure of the claim: the worker finishes those messages unanswered
//   finish      yes, likewise: it removes what is there, and frees capacity only for that
//   release     yes, likewise; "fenced" after a lost reply means the first one took effect
//               (a claim's last batch is finished by the same script: finish_and_release)
//   renew       no: the next renewal, a third of the lease later, is the retry
// A conversation whose lease the failover lost (asynchronous replication) is simply claimable
// again; sends that were in flight are covered by the in-doubt rule.
class redis_store final : public message_store {
 public:
  redis_store(boost::asio::any_io_executor executor, std::shared_ptr<queue::redis::client> redis,
              std::shared_ptr<webhook::io::clock> clock, redis_store_options options);
  ~redis_store() override;

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
  void begin_drain() override;
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
  boost::asio::awaitable<void> hand_back() override;

  std::size_t unfinished() const override { return stats_.unfinished; }
  std::size_t local_backlog() const override { return held_.size(); }
  std::size_t capacity() const override { return options_.capacity; }
  void set_capacity(std::size_t capacity) override { options_.capacity = capacity; }
  bool writable() const override { return healthy_; }

  // Starts the dispatcher, the lease renewals and the health checks.
  void start();
  const redis_store_stats& stats() const { return stats_; }
  // The partition of a conversation (stable across replicas and restarts).
  static std::uint32_t partition_of(std::string_view conversation);
  static constexpr std::uint32_t partitions = 16;

 private:
  struct holding {
    std::uint32_t partition = 0;
    std::uint64_t fence = 0;
    bool writing = false;  // between begin_send and finish: a reply may be on its way
  };

  boost::asio::awaitable<void> dispatch();
  boost::asio::awaitable<void> renew_leases();
  boost::asio::awaitable<void> watch_health();
  // Claims up to `want` conversations in one round trip; how many it got.
  boost::asio::awaitable<std::size_t> claim_some(std::size_t want);
  // The messages of a claim's reply from `first` on: {wamid, stored value, in doubt} triples.
  // The wamids of stored values that cannot be read go to `unreadable`.
  std::vector<pending_message> messages_of(const std::vector<queue::redis::reply>& fields,
                                           std::size_t first,
                                           std::vector<std::string>& unreadable) const;
  // Finishes, under the claim, stored messages that cannot be read (a damaged value, or one
  // written by a newer version): given back, they would be claimed again and again, forever.
  boost::asio::awaitable<void> drop_unreadable(const std::string& conversation, holding h,
                                               std::span<const std::string> unreadable);
  // WAITs for min_replica_acks replicas to have every write this replica made so far. One WAIT
  // at a time, shared by every caller whose writes it covers: WAIT blocks the one connection,
  // so WAITs queued behind each other would push other commands past their deadline.
  boost::asio::awaitable<boost::system::error_code> replicate();
  boost::asio::awaitable<boost::system::error_code> wait_for_replicas();
  // With min_replica_acks: WAITs for an operator's change (`what` `subject`, for the log) that
  // is already done on the primary, and warns when the replicas do not confirm it; the answer
  // to the operator stays (the change did happen; a failover could still undo it).
  boost::asio::awaitable<void> replicate_operator_change(const char* what,
                                                         const std::string& subject);
  // The key of `what` for a conversation's partition ("P:{p}:what:<conversation>").
  std::string conversation_key_of(std::string_view what, const std::string& conversation) const;
  boost::asio::awaitable<boost::system::error_code> fenced_step(const queue::redis::script& s,
                                                                const claim& held,
                                                                std::span<const std::string> ids,
                                                                bool with_counter);
  boost::asio::awaitable<boost::system::error_code> run_fenced(const queue::redis::script& s,
                                                               const std::string& conversation,
                                                               holding h,
                                                               std::span<const std::string> ids,
                                                               bool with_counter);
  // Runs a step again while it fails with unavailable or not_replicated, with backoff, for at
  // most the lease (the policy above).
  boost::asio::awaitable<boost::system::error_code> retried(
      const char* what, const std::string& conversation,
      std::function<boost::asio::awaitable<boost::system::error_code>()> step);
  // Runs the release script for a conversation held as `h`, finishing `finished` in the same
  // step (retried by the policy above); a lease that cannot be given back runs out instead.
  boost::asio::awaitable<void> give_back(const std::string& conversation, holding h,
                                         std::span<const std::string> finished = {});
  // Gives back, at the start of a drain, what nobody is writing a reply for.
  boost::asio::awaitable<void> give_back_idle(std::vector<std::pair<std::string, holding>> idle);
  // Stops holding (renewing, counting) `conversation` if it is still held under `fence`.
  void forget(const std::string& conversation, std::uint64_t fence);
  // Marks a claim, if still held, as writing a reply (begin_send to finish) or not.
  void set_writing(const claim& held, bool writing);

  boost::asio::any_io_executor executor_;
  std::shared_ptr<queue::redis::client> redis_;
  std::shared_ptr<webhook::io::clock> clock_;
  redis_store_options options_;
  std::unordered_map<std::string, holding> held_;  // conversations this replica holds
  using claim_channel = boost::asio::experimental::channel<void(boost::system::error_code, claim)>;
  claim_channel claims_;
  boost::asio::steady_timer wake_;  // the dispatcher sleeps on it; cancelled when work may wait
  std::size_t waiting_ = 0;         // workers waiting in claim_next
  std::size_t buffered_ = 0;        // claims in the channel no worker took yet
  std::uint32_t next_partition_ = 0;
  bool claiming_ = true;
  bool closed_ = false;
  bool healthy_ = false;
  struct wait_round;  // one WAIT and who it covers
  std::shared_ptr<wait_round> wait_in_flight_;
  std::uint64_t replication_requests_ = 0;  // callers of replicate() so far
  redis_store_stats stats_;

  boost::asio::steady_timer given_back_;  // hand_back waits on it for give_back_idle
  std::size_t giving_back_ = 0;           // give_back_idle tasks still running
  webhook::io::task_group tasks_;
};

}  // namespace bridge::store
