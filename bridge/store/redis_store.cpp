#include "bridge/store/redis_store.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>

#include "bridge/store/errc.hpp"
#include "bridge/store/message_codec.hpp"
#include "bridge/store/operator_state.hpp"
#include "bridge/store/redis_scripts.hpp"
#include "bridge/store/send_pacer.hpp"
#include "webhook/io/log_event.hpp"
#include "webhook/util/redact.hpp"

namespace bridge::store {

namespace asio = boost::asio;
using boost::system::error_code;
using queue::redis::reply;

namespace {

constexpr auto dedupe_ttl = std::chrono::hours(24 * 7);  // Meta retries for up to 7 days
constexpr std::size_t max_claims_per_round = 64;
constexpr std::chrono::milliseconds health_interval{1000};

std::string text_of(const reply& r) {
  const auto t = r.text();
  if (t) return std::string(*t);
  if (const auto i = r.integer()) return std::to_string(*i);
  return {};
}

std::uint64_t number_of(const reply& r) {
  if (const auto i = r.integer()) return static_cast<std::uint64_t>(*i);
  std::uint64_t value = 0;
  if (const auto t = r.text()) std::from_chars(t->data(), t->data() + t->size(), value);
  return value;
}

// A failed round trip or an error reply as the store's error: Redis cannot take this now.
error_code failure_of(const boost::system::result<reply>& r) {
  if (!r)
    return r.error() == asio::error::operation_aborted ? r.error()
                                                       : make_error_code(errc::unavailable);
  if (r->is_error()) {
    return queue::redis::is_transient(r->error_kind()) ? make_error_code(errc::unavailable)
                                                       : make_error_code(errc::bad_reply);
  }
  return {};
}

// A queued message as Redis keeps it: when it was accepted (milliseconds since the epoch), a
// newline, the encoded message. Framed here rather than in the script: a string the script builds
// is one more copy of the message that Redis's Lua hashes byte by byte (~13 % of an admission).
std::string stored_value(wall_time accepted, std::string_view encoded) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(accepted.time_since_epoch()).count();
  std::string value = std::to_string(ms);
  value.reserve(value.size() + 1 + encoded.size());
  value += '\n';
  value += encoded;
  return value;
}

// The accepted time and the encoded message of a stored value; nullopt when it is not framed.
struct stored_parts {
  wall_time accepted;
  std::string_view encoded;
};
std::optional<stored_parts> parse_stored_value(std::string_view value) {
  const std::size_t newline = value.find('\n');
  if (newline == std::string_view::npos) return std::nullopt;
  long long ms = 0;
  std::from_chars(value.data(), value.data() + newline, ms);
  return stored_parts{wall_time(std::chrono::milliseconds(ms)), value.substr(newline + 1)};
}

}  // namespace

redis_store::redis_store(asio::any_io_executor executor,
                         std::shared_ptr<queue::redis::client> redis,
                         std::shared_ptr<webhook::io::clock> clock, redis_store_options options)
    : executor_(executor),
      redis_(std::move(redis)),
      clock_(std::move(clock)),
      options_(std::move(options)),
      claims_(executor, max_claims_per_round),
      wake_(executor),
      given_back_(executor),
      tasks_(executor, "redis store") {}

redis_store::~redis_store() {
  tasks_.cancel();
}

std::uint32_t redis_store::partition_of(std::string_view conversation) {
  // FNV-1a: the same on every replica and every start (std::hash promises neither).
  std::uint64_t hash = 14695981039346656037ull;
  for (const char c : conversation) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return static_cast<std::uint32_t>(hash % partitions);
}

void redis_store::start() {
  tasks_.spawn(dispatch());
  tasks_.spawn(renew_leases());
  tasks_.spawn(watch_health());
}

asio::awaitable<admission_result> redis_store::admit(std::span<admission_entry> entries) {
  admission_result result;
  if (entries.empty()) co_return result;
  std::vector<std::string> args{options_.key_prefix, std::to_string(options_.capacity),
                                std::to_string(dedupe_ttl.count() * 3600),
                                std::to_string(entries.size())};
  args.reserve(4 + 6 * entries.size());
  const wall_time now = clock_->wall_now();
  for (const admission_entry& entry : entries) {
    const webhook::meta::inbound_message& m = entry.message.message;
    const std::string conversation = conversation_key(m);
    args.push_back(std::to_string(partition_of(conversation)));
    args.push_back(m.id);
    args.push_back(conversation);
    args.push_back(entry.answer ? "1" : "0");
    args.push_back(entry.answer ? stored_value(now, encode_message(m)) : std::string());
    // When the customer wrote, not when Meta delivered it: a retried delivery can arrive a day
    // late, outside the window its message opened.
    args.push_back(std::to_string(
        std::chrono::duration_cast<std::chrono::milliseconds>(written_at(m, now).time_since_epoch())
            .count()));
  }
  const std::vector<std::string> keys{options_.key_prefix + ":{cap}:unfinished"};
  const auto answer = co_await redis_->run_script(redis_scripts::admit(), keys, args);
  if (const error_code ec = failure_of(answer)) {
    ++stats_.refusals;
    result.error = ec;
    co_return result;
  }
  const auto& words = answer->elements();
  if (words.size() != entries.size()) {
    result.error = make_error_code(errc::bad_reply);
    co_return result;
  }
  bool stored_any = false;
  for (const reply& word : words) {
    const std::string w = text_of(word);
    result.verdicts.push_back(w == "stored"   ? verdict::stored
                              : w == "kept"   ? verdict::remembered
                              : w == "dup"    ? verdict::duplicate
                              : w == "paused" ? verdict::paused
                                              : verdict::no_room);
    stored_any = stored_any || w == "stored";
  }
  // A 200 only once enough Redis replicas have it too (a duplicate waits as well: its first
  // acceptance may not have reached them).
  if (options_.min_replica_acks > 0) {
    if (const error_code ec = co_await replicate()) {
      ++stats_.refusals;
      result.error = ec;
      co_return result;
    }
  }
  if (stored_any && waiting_ > 0) wake_.cancel();  // work for an idle worker of ours
  co_return result;
}

struct redis_store::wait_round {
  explicit wait_round(const asio::any_io_executor& executor, std::uint64_t upto)
      : covers(upto), done(executor, std::chrono::steady_clock::time_point::max()) {}
  std::uint64_t covers;  // the callers of replicate() whose writes it follows
  error_code result;
  bool finished = false;
  asio::steady_timer done;  // cancelled when the result is in
};

asio::awaitable<error_code> redis_store::replicate() {
  const std::uint64_t mine = ++replication_requests_;  // my writes are done
  for (;;) {
    if (!wait_in_flight_) {
      // A WAIT sent now follows every write made so far on the connection: mine and those of
      // everybody who asked before.
      auto round = std::make_shared<wait_round>(executor_, replication_requests_);
      wait_in_flight_ = round;
      round->result = co_await wait_for_replicas();
      round->finished = true;
      wait_in_flight_.reset();
      round->done.cancel();
      co_return round->result;
    }
    const std::shared_ptr<wait_round> round = wait_in_flight_;
    co_await round->done.async_wait(asio::as_tuple(asio::use_awaitable));
    // Woken without a result: this caller was cancelled.
    if (!round->finished) co_return make_error_code(asio::error::operation_aborted);
    if (round->covers >= mine) co_return round->result;
    // It was sent before my writes were done: the next one covers them.
  }
}

asio::awaitable<error_code> redis_store::wait_for_replicas() {
  // WAIT blocks on the server: give it less than the client's round-trip deadline.
  const auto wait_ms = std::max<long long>(1, options_.timeout.count() / 2);
  const auto acks = co_await redis_->command("WAIT", std::to_string(options_.min_replica_acks),
                                             std::to_string(wait_ms));
  if (const error_code ec = failure_of(acks)) co_return ec;
  if (acks->integer().value_or(0) < options_.min_replica_acks) {
    ++stats_.wait_short;
    co_return make_error_code(errc::not_replicated);
  }
  ++stats_.wait_acknowledged;
  co_return error_code{};
}

asio::awaitable<std::optional<claim>> redis_store::claim_next() {
  if (closed_) co_return std::nullopt;
  ++waiting_;
  wake_.cancel();
  auto [ec, taken] = co_await claims_.async_receive(asio::as_tuple(asio::use_awaitable));
  --waiting_;
  if (ec) co_return std::nullopt;
  --buffered_;
  co_return std::move(taken);
}

asio::awaitable<void> redis_store::dispatch() {
  for (;;) {
    const std::size_t want = claiming_ && waiting_ > buffered_ ? waiting_ - buffered_ : 0;
    std::size_t got = 0;
    if (want > 0) got = co_await claim_some(std::min(want, max_claims_per_round));
    if (got > 0) continue;
    // Nothing to do, or nothing ready: look again soon (other replicas' deliveries are only seen
    // by looking), or at once when a worker starts waiting or this replica stores something.
    wake_.expires_after(options_.idle_poll);
    co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<std::size_t> redis_store::claim_some(std::size_t want) {
  const std::uint32_t first = next_partition_;
  next_partition_ = (next_partition_ + 1) % partitions;
  const std::vector<std::string> args{options_.key_prefix,
                                      options_.owner,
                                      std::to_string(options_.lease.count()),
                                      std::to_string(want),
                                      std::to_string(partitions),
                                      std::to_string(first)};
  const auto answer =
      co_await redis_->run_script(redis_scripts::claim(), std::span<const std::string>{}, args);
  if (failure_of(answer)) co_return 0;
  std::size_t got = 0;
  for (const reply& entry : answer->elements()) {
    const auto& f = entry.elements();
    if (f.size() < 5) continue;
    std::vector<std::string> unreadable;
    claim taken{text_of(f[0]), number_of(f[2]), messages_of(f, 5, unreadable),
                number_of(f[4]) == 1};
    const auto partition = static_cast<std::uint32_t>(number_of(f[1]));
    if (!unreadable.empty()) {
      co_await drop_unreadable(taken.conversation, holding{partition, taken.fence}, unreadable);
    }
    if (number_of(f[3]) == 1) {
      ++stats_.takeovers;
      spdlog::warn("conversation {} taken over from a replica whose lease expired ({} message(s))",
                   taken.conversation, taken.messages.size());
    }
    for (const pending_message& m : taken.messages) {
      if (m.in_doubt) {
        webhook::io::log_event(
            spdlog::level::warn,
            {"in_doubt", m.message.id,
             webhook::util::redact_conversation(taken.conversation, options_.redact_phone_numbers)},
            "message {} was being answered by a replica that lost the conversation; answering it "
            "again: in doubt (the customer may see the answer twice)",
            m.message.id);
      }
    }
    held_[taken.conversation] = holding{partition, taken.fence};
    stats_.owned = held_.size();
    if (!claims_.try_send(error_code{}, std::move(taken))) break;  // cannot happen: want bounds
    ++buffered_;
    ++got;
  }
  co_return got;
}

std::vector<pending_message> redis_store::messages_of(const std::vector<reply>& fields,
                                                      std::size_t first,
                                                      std::vector<std::string>& unreadable) const {
  std::vector<pending_message> messages;
  const auto wall = clock_->wall_now();
  const auto steady = clock_->now();
  for (std::size_t i = first; i + 2 < fields.size(); i += 3) {
    const std::string id = text_of(fields[i]);
    const std::string stored = text_of(fields[i + 1]);
    const auto parts = parse_stored_value(stored);
    auto message = decode_message(parts ? parts->encoded : std::string_view{});
    if (!message) {
      unreadable.push_back(id);
      continue;
    }
    // How long ago it was accepted, in this process's steady time.
    const auto age = std::max(wall - parts->accepted, std::chrono::system_clock::duration::zero());
    messages.push_back(pending_message{
        std::move(*message), steady - std::chrono::duration_cast<webhook::io::clock::duration>(age),
        number_of(fields[i + 2]) == 1});
  }
  return messages;
}

asio::awaitable<error_code> redis_store::take_more(claim& held) {
  const auto it = held_.find(held.conversation);
  if (it == held_.end()) co_return make_error_code(errc::fenced);
  const std::vector<std::string> args{options_.key_prefix, std::to_string(it->second.partition),
                                      held.conversation, options_.owner,
                                      std::to_string(held.fence)};
  const auto answer =
      co_await redis_->run_script(redis_scripts::take_more(), std::span<const std::string>{}, args);
  if (const error_code ec = failure_of(answer)) {
    // The interface: an error means the claim is no longer ours (the worker stops here).
    if (ec != asio::error::operation_aborted) forget(held.conversation, held.fence);
    co_return ec;
  }
  const auto& f = answer->elements();
  if (f.size() < 2 || number_of(f[0]) != 1) {
    ++stats_.fenced;
    forget(held.conversation, held.fence);
    co_return make_error_code(errc::fenced);
  }
  std::vector<std::string> unreadable;
  for (pending_message& m : messages_of(f, 2, unreadable))
    held.messages.push_back(std::move(m));
  held.paused = number_of(f[1]) == 1;
  if (!unreadable.empty()) co_await drop_unreadable(held.conversation, it->second, unreadable);
  co_return error_code{};
}

asio::awaitable<void> redis_store::drop_unreadable(const std::string& conversation, holding h,
                                                   std::span<const std::string> unreadable) {
  for (const std::string& id : unreadable) {
    spdlog::error(
        "stored message {} of conversation {} cannot be read (damaged, or written by another "
        "version of the bridge); it is dropped and not answered",
        id, webhook::util::redact_conversation(conversation, options_.redact_phone_numbers));
  }
  // Retried like finish; if it never goes through, the next owner of the claim tries again.
  co_await retried("finish", conversation, [&]() -> asio::awaitable<error_code> {
    co_return co_await run_fenced(redis_scripts::finish(), conversation, h, unreadable, true);
  });
}

asio::awaitable<error_code> redis_store::fenced_step(const queue::redis::script& s,
                                                     const claim& held,
                                                     std::span<const std::string> ids,
                                                     bool with_counter) {
  const auto it = held_.find(held.conversation);
  if (it == held_.end()) co_return make_error_code(errc::fenced);
  co_return co_await run_fenced(s, held.conversation, holding{it->second.partition, held.fence},
                                ids, with_counter);
}

asio::awaitable<error_code> redis_store::run_fenced(const queue::redis::script& s,
                                                    const std::string& conversation, holding h,
                                                    std::span<const std::string> ids,
                                                    bool with_counter) {
  std::vector<std::string> args{options_.key_prefix, std::to_string(h.partition), conversation,
                                options_.owner, std::to_string(h.fence)};
  args.insert(args.end(), ids.begin(), ids.end());
  std::vector<std::string> keys;
  if (with_counter) keys.push_back(options_.key_prefix + ":{cap}:unfinished");
  const auto answer = co_await redis_->run_script(s, keys, args);
  if (const error_code ec = failure_of(answer)) co_return ec;
  const auto result = answer->integer().value_or(0);
  if (result == 2) co_return make_error_code(errc::paused);
  if (result != 1) {
    ++stats_.fenced;
    co_return make_error_code(errc::fenced);
  }
  co_return error_code{};
}

asio::awaitable<error_code> redis_store::retried(
    const char* what, const std::string& conversation,
    std::function<asio::awaitable<error_code>()> step) {
  const auto give_up = clock_->now() + options_.lease;
  auto delay =
      std::max<webhook::io::clock::duration>(options_.timeout / 8, std::chrono::milliseconds(10));
  const webhook::io::clock::duration longest = options_.timeout;
  for (int attempt = 1;; ++attempt) {
    const error_code ec = co_await step();
    if (ec != errc::unavailable && ec != errc::not_replicated) {
      if (attempt > 1) {
        spdlog::info("conversation {}: {} went through at attempt {} ({})", conversation, what,
                     attempt, ec ? ec.message() : "done");
      }
      co_return ec;
    }
    // Stopping (hand_back): one attempt each, so that an unreachable Redis cannot hold up the exit.
    if (closed_ || clock_->now() + delay >= give_up) co_return ec;
    co_await clock_->sleep_for(delay);
    delay = std::min(delay * 2, longest);
  }
}

void redis_store::forget(const std::string& conversation, std::uint64_t fence) {
  const auto it = held_.find(conversation);
  // A newer claim of the same conversation (this replica took over its own expired lease) stays.
  if (it != held_.end() && it->second.fence == fence) held_.erase(it);
  stats_.owned = held_.size();
}

void redis_store::set_writing(const claim& held, bool writing) {
  const auto it = held_.find(held.conversation);
  if (it != held_.end() && it->second.fence == held.fence) it->second.writing = writing;
}

asio::awaitable<error_code> redis_store::begin_send(const claim& held,
                                                    std::span<const std::string> ids) {
  // From here to finish() a reply may be on its way: a stopping replica lets it finish.
  set_writing(held, true);
  const error_code ec =
      co_await retried("begin_send", held.conversation, [&]() -> asio::awaitable<error_code> {
        const error_code step = co_await fenced_step(redis_scripts::begin_send(), held, ids, false);
        // The in-doubt mark must outlive a failover before anything is sent.
        if (step || options_.min_replica_acks == 0) co_return step;
        co_return co_await replicate();
      });
  // Paused (handed to a person): the claim stays ours, the worker finishes these unanswered.
  if (!ec || ec == errc::paused || ec == asio::error::operation_aborted) co_return ec;
  if (ec == errc::fenced) {
    spdlog::warn("conversation {} is no longer ours (lease lost); its answer is dropped here",
                 held.conversation);
  } else {
    spdlog::warn(
        "conversation {}: Redis could not record that its answer begins ({}); it is left to "
        "expire and be taken over",
        held.conversation, ec.message());
  }
  // The interface: an error means the claim is no longer ours. The worker sends nothing; the
  // claim is not renewed any more, so its lease runs out and any replica (this one included)
  // answers the conversation.
  forget(held.conversation, held.fence);
  co_return ec;
}

asio::awaitable<error_code> redis_store::finish(const claim& held,
                                                std::span<const std::string> ids) {
  // Finishing twice is harmless (the script removes what is there).
  const error_code ec =
      co_await retried("finish", held.conversation, [&]() -> asio::awaitable<error_code> {
        co_return co_await fenced_step(redis_scripts::finish(), held, ids, true);
      });
  if (!ec) set_writing(held, false);
  co_return ec;
}

asio::awaitable<void> redis_store::release(claim held) {
  co_await finish_and_release(held, {});
}

asio::awaitable<void> redis_store::finish_and_release(const claim& held,
                                                      std::span<const std::string> ids) {
  const auto it = held_.find(held.conversation);
  if (it == held_.end() || it->second.fence != held.fence) {
    // Not held under this claim (lost, or claimed again since): nothing of ours to give back,
    // and finish's own fence check refuses the rest.
    if (!ids.empty()) co_await finish(held, ids);
    co_return;
  }
  co_await give_back(held.conversation, it->second, ids);
  // Given back (or lost: then its lease expires and another replica takes it over).
  forget(held.conversation, held.fence);
}

asio::awaitable<void> redis_store::give_back(const std::string& conversation, holding h,
                                             std::span<const std::string> finished) {
  // "fenced" after a lost reply means the first attempt took effect.
  co_await retried("release", conversation, [&]() -> asio::awaitable<error_code> {
    co_return co_await run_fenced(redis_scripts::release(), conversation, h, finished, true);
  });
}

asio::awaitable<void> redis_store::renew_leases() {
  for (;;) {
    co_await clock_->sleep_for(options_.lease / 3);
    if (held_.empty()) continue;
    std::vector<std::string> args{options_.key_prefix, options_.owner,
                                  std::to_string(options_.lease.count())};
    std::vector<std::pair<std::string, std::uint64_t>> order;
    for (const auto& [conversation, h] : held_) {
      args.push_back(std::to_string(h.partition));
      args.push_back(conversation);
      args.push_back(std::to_string(h.fence));
      order.emplace_back(conversation, h.fence);
    }
    const auto answer =
        co_await redis_->run_script(redis_scripts::renew(), std::span<const std::string>{}, args);
    if (failure_of(answer)) continue;  // tried again at the next third
    const auto& flags = answer->elements();
    for (std::size_t i = 0; i < flags.size() && i < order.size(); ++i) {
      if (number_of(flags[i]) == 1) continue;
      ++stats_.fenced;
      spdlog::warn("lease on conversation {} lost (taken over after it expired)", order[i].first);
      // Lost for good (fences only rise): no more renewals, and a drain does not wait for it.
      forget(order[i].first, order[i].second);
    }
  }
}

asio::awaitable<void> redis_store::watch_health() {
  for (;;) {
    const auto pong = co_await redis_->command("GET", options_.key_prefix + ":{cap}:unfinished");
    healthy_ = !failure_of(pong);
    if (healthy_) stats_.unfinished = number_of(*pong);
    co_await clock_->sleep_for(health_interval);
  }
}

asio::awaitable<std::chrono::steady_clock::duration> redis_store::reserve_send(
    const std::string& number, std::uint32_t rate) {
  const std::vector<std::string> keys{options_.key_prefix + ":{pace}:" + number};
  const std::vector<std::string> args{std::to_string(rate),
                                      std::to_string(send_pacer::burst_for(rate))};
  const auto answer = co_await redis_->run_script(redis_scripts::reserve_send(), keys, args);
  if (failure_of(answer)) co_return std::chrono::steady_clock::duration::zero();
  co_return std::chrono::microseconds(answer->integer().value_or(0));
}

void redis_store::remember_reply(const std::string& outbound_id, reply_origin origin) {
  tasks_.spawn([](std::shared_ptr<queue::redis::client> redis, std::string key,
                  std::string value) -> asio::awaitable<void> {
    // Statuses about a reply come within days; a week covers Meta's retries too.
    co_await redis->command("SET", key, value, "EX", std::to_string(7 * 24 * 3600));
  }(redis_, options_.key_prefix + ":{sent}:" + outbound_id,
                                     origin.customer + "\n" + origin.inbound_ids));
}

asio::awaitable<std::optional<reply_origin>> redis_store::find_reply(
    const std::string& outbound_id) {
  const auto answer =
      co_await redis_->command("GET", options_.key_prefix + ":{sent}:" + outbound_id);
  if (failure_of(answer) || answer->is_nil()) co_return std::nullopt;
  const std::string value = text_of(*answer);
  const std::size_t newline = value.find('\n');
  if (newline == std::string::npos) co_return std::nullopt;
  co_return reply_origin{value.substr(0, newline), value.substr(newline + 1)};
}

std::string redis_store::conversation_key_of(std::string_view what,
                                             const std::string& conversation) const {
  return options_.key_prefix + ":{" + std::to_string(partition_of(conversation)) +
         "}:" + std::string(what) + ":" + conversation;
}

asio::awaitable<error_code> redis_store::pause(store::pause p) {
  const std::vector<std::string> keys{conversation_key_of("pause", p.conversation),
                                      options_.key_prefix + ":{pauses}"};
  const std::vector<std::string> args{
      p.conversation, encode_pause(p),
      std::to_string(
          std::chrono::duration_cast<std::chrono::milliseconds>(p.until.time_since_epoch())
              .count()),
      p.why};
  if (const error_code ec =
          failure_of(co_await redis_->run_script(redis_scripts::pause(), keys, args))) {
    co_return ec;
  }
  // A pause must outlive a failover like an accepted message, or the AI could answer a
  // conversation a person took over: with min_replica_acks, done means replicated.
  if (options_.min_replica_acks > 0) co_return co_await replicate();
  co_return error_code{};
}

asio::awaitable<bool> redis_store::is_paused(const std::string& conversation) {
  const auto found = co_await redis_->command("EXISTS", conversation_key_of("pause", conversation));
  co_return !failure_of(found) && found->integer().value_or(0) == 1;
}

asio::awaitable<bool> redis_store::resume(const std::string& conversation) {
  const auto gone = co_await redis_->command("DEL", conversation_key_of("pause", conversation));
  co_await redis_->command("ZREM", options_.key_prefix + ":{pauses}", conversation);
  const bool resumed = !failure_of(gone) && gone->integer().value_or(0) == 1;
  if (resumed) {
    co_await replicate_operator_change(
        "the resume of",
        webhook::util::redact_conversation(conversation, options_.redact_phone_numbers));
  }
  co_return resumed;
}

asio::awaitable<void> redis_store::replicate_operator_change(const char* what,
                                                             const std::string& subject) {
  if (options_.min_replica_acks == 0) co_return;
  if (const error_code ec = co_await replicate()) {
    spdlog::warn(
        "{} {} is done on the Redis primary but not confirmed by {} replica(s) ({}): a failover "
        "now could undo it",
        what, subject, options_.min_replica_acks, ec.message());
  }
}

asio::awaitable<std::vector<store::pause>> redis_store::paused() {
  const std::string index = options_.key_prefix + ":{pauses}";
  const auto now_ms = std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_->wall_now().time_since_epoch())
          .count());
  // Pauses that ended on their own leave the index here (their keys expired already).
  co_await redis_->command("ZREMRANGEBYSCORE", index, "-inf", now_ms);
  const auto members = co_await redis_->command("ZRANGE", index, "0", "-1");
  std::vector<store::pause> out;
  if (failure_of(members)) co_return out;
  for (const reply& member : members->elements()) {
    const auto json =
        co_await redis_->command("GET", conversation_key_of("pause", text_of(member)));
    if (failure_of(json) || json->is_nil()) continue;
    if (auto p = decode_pause(text_of(*json))) out.push_back(std::move(*p));
  }
  co_return out;
}

asio::awaitable<error_code> redis_store::add_dead_letter(dead_letter d) {
  const auto ms = [](wall_time t) {
    return std::to_string(
        std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
  };
  const std::vector<std::string> keys{options_.key_prefix + ":{dl}:order",
                                      options_.key_prefix + ":{dl}:data"};
  const std::vector<std::string> args{d.wamid, ms(d.at), encode_dead_letter(d, true),
                                      std::to_string(options_.dead_letters_max),
                                      ms(clock_->wall_now() - options_.dead_letters_max_age)};
  const auto answer = co_await redis_->run_script(redis_scripts::add_dead_letter(), keys, args);
  if (const error_code ec = failure_of(answer)) co_return ec;
  stats_.dead_letters_dropped += static_cast<std::uint64_t>(answer->integer().value_or(0));
  co_return error_code{};
}

asio::awaitable<std::vector<dead_letter>> redis_store::dead_letters(std::size_t limit,
                                                                    std::string_view after,
                                                                    std::string_view reason) {
  const std::string order = options_.key_prefix + ":{dl}:order";
  const std::string data = options_.key_prefix + ":{dl}:data";
  std::vector<dead_letter> out;
  long long start = 0;
  if (!after.empty()) {
    const auto rank = co_await redis_->command("ZREVRANK", order, after);
    if (failure_of(rank) || rank->is_nil()) co_return out;
    start = rank->integer().value_or(0) + 1;
  }
  // Read in pages until `limit` match the reason filter (or the list ends).
  constexpr long long page = 200;
  while (out.size() < limit) {
    const auto ids = co_await redis_->command("ZREVRANGE", order, std::to_string(start),
                                              std::to_string(start + page - 1));
    if (failure_of(ids) || ids->elements().empty()) break;
    for (const reply& id : ids->elements()) {
      if (out.size() >= limit) break;
      const auto json = co_await redis_->command("HGET", data, text_of(id));
      if (failure_of(json) || json->is_nil()) continue;
      auto d = decode_dead_letter(text_of(*json));
      if (!d || (!reason.empty() && d->reason != reason)) continue;
      out.push_back(std::move(*d));
    }
    start += page;
  }
  co_return out;
}

asio::awaitable<std::optional<dead_letter>> redis_store::find_dead_letter(
    const std::string& wamid) {
  const auto json = co_await redis_->command("HGET", options_.key_prefix + ":{dl}:data", wamid);
  if (failure_of(json) || json->is_nil()) co_return std::nullopt;
  co_return decode_dead_letter(text_of(*json));
}

asio::awaitable<replay_result> redis_store::replay(const std::string& wamid,
                                                   wall_time window_start) {
  const auto found = co_await find_dead_letter(wamid);
  if (!found) co_return replay_result::not_found;
  const auto message = decode_message(found->payload);
  if (!message) co_return replay_result::not_found;
  // The customer's last message: as Redis saw it (kept 25 hours), or at least the message itself.
  wall_time last = written_at(*message, clock_->wall_now());
  const auto seen =
      co_await redis_->command("GET", conversation_key_of("last", found->conversation));
  if (!failure_of(seen) && !seen->is_nil()) {
    last = std::max(last, wall_time(std::chrono::milliseconds(number_of(*seen))));
  }
  if (last < window_start) co_return replay_result::window_closed;
  const std::vector<std::string> keys{options_.key_prefix + ":{dl}:order",
                                      options_.key_prefix + ":{dl}:data",
                                      options_.key_prefix + ":{cap}:unfinished"};
  const std::vector<std::string> args{
      wamid, options_.key_prefix, std::to_string(partition_of(found->conversation)),
      found->conversation, stored_value(clock_->wall_now(), found->payload)};
  const auto answer = co_await redis_->run_script(redis_scripts::replay(), keys, args);
  if (failure_of(answer)) co_return replay_result::unavailable;
  if (answer->integer().value_or(0) != 1) co_return replay_result::not_found;
  if (waiting_ > 0) wake_.cancel();
  co_await replicate_operator_change("the replay of dead letter", wamid);
  co_return replay_result::queued;
}

asio::awaitable<bool> redis_store::delete_dead_letter(const std::string& wamid) {
  const auto gone = co_await redis_->command("HDEL", options_.key_prefix + ":{dl}:data", wamid);
  co_await redis_->command("ZREM", options_.key_prefix + ":{dl}:order", wamid);
  const bool deleted = !failure_of(gone) && gone->integer().value_or(0) == 1;
  if (deleted) co_await replicate_operator_change("the deletion of dead letter", wamid);
  co_return deleted;
}

void redis_store::set_dead_letter_limits(std::size_t max, std::chrono::milliseconds max_age) {
  options_.dead_letters_max = max;
  options_.dead_letters_max_age = max_age;
}

void redis_store::begin_drain() {
  claiming_ = false;
  // Conversations nobody is writing a reply for go back at once, for another replica to answer
  // (their workers' later steps are fenced); those being written finish first.
  std::vector<std::pair<std::string, holding>> idle;
  for (auto it = held_.begin(); it != held_.end();) {
    if (it->second.writing) {
      ++it;
      continue;
    }
    idle.emplace_back(it->first, it->second);
    it = held_.erase(it);
  }
  stats_.owned = held_.size();
  if (idle.empty()) return;
  ++giving_back_;
  tasks_.spawn(give_back_idle(std::move(idle)));
}

asio::awaitable<void> redis_store::give_back_idle(
    std::vector<std::pair<std::string, holding>> idle) {
  for (const auto& [conversation, h] : idle) {
    co_await give_back(conversation, h);
    spdlog::info("conversation {} handed back for another replica to answer", conversation);
  }
  --giving_back_;
  given_back_.cancel();
}

leftovers redis_store::close() {
  closed_ = true;
  claiming_ = false;
  claims_.close();
  leftovers left;
  left.kept = true;  // in Redis, for the other replicas
  left.kept_in = "Redis";
  for (const auto& [conversation, h] : held_)
    left.answering.push_back(conversation);
  return left;
}

asio::awaitable<void> redis_store::hand_back() {
  // What the drain began giving back is given back before the tasks stop.
  while (giving_back_ > 0) {
    given_back_.expires_at(asio::steady_timer::time_point::max());
    co_await given_back_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  std::vector<std::pair<std::string, holding>> owned(held_.begin(), held_.end());
  for (const auto& [conversation, h] : owned) {
    co_await release(claim{conversation, h.fence, {}});
    spdlog::info("conversation {} handed back for another replica to answer", conversation);
  }
  tasks_.cancel();
}

}  // namespace bridge::store
