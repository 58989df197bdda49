#pragma once

#include <boost/asio/awaitable.hpp>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>

#include "bridge/circuit_breaker.hpp"
#include "bridge/histogram.hpp"
#include "bridge/runtime_settings.hpp"
#include "bridge/store/message_store.hpp"
#include "robofy/client/chat_service.hpp"
#include "webhook/io/clock.hpp"
#include "webhook/meta/graph_sender.hpp"

namespace bridge {

// Counts of what workers did, for logs, metrics and tests.
struct worker_counters {
  std::size_t robofy_calls = 0;
  std::size_t answers = 0;        // conversations answered with Robofy's answer
  std::size_t fallbacks = 0;      // conversations answered with replies.fallback_text
  std::size_t unsupported = 0;    // conversations answered with replies.unsupported_text
  std::size_t graph_calls = 0;    // text sends, retries included
  std::size_t parts_sent = 0;     // text messages Meta accepted
  std::size_t send_failures = 0;  // replies Meta refused for good or after every retry
  std::size_t unrouted = 0;       // batches whose number lost its route before they were answered
  std::size_t read_marks = 0;     // mark-read / typing calls
  std::size_t pair_limited = 0;   // 131056 answers (pair rate limit) waited out
  std::size_t answers_cut = 0;    // answers cut to replies.max_parts messages
  std::size_t dead_letters = 0;   // messages kept as dead letters (no real answer)
  std::map<std::string, std::uint64_t> robofy_outcomes;  // answered, retry, permanent, ...
  std::map<std::pair<std::string, std::string>, std::uint64_t> graph_outcomes;  // {outcome, code}
  latency_histogram robofy_seconds;                                             // one Robofy call
  latency_histogram graph_seconds;                                              // one Graph call
  latency_histogram message_seconds;  // accepted -> last part of the reply accepted by Meta
};

// What a worker needs besides the messages: the upstreams, the clock, shared state, and
// somewhere to count.
struct worker_context {
  robofy::client::chat_service& chat;
  webhook::meta::message_sender& sender;
  webhook::io::clock& clock;
  circuit_breaker& robofy_breaker;  // shared by every worker
  circuit_breaker& graph_breaker;
  store::message_store& store;  // outbound pace per number; outbound wamid -> conversation
  worker_counters& counters;
  std::mt19937_64& random;
};

// How answering some messages went.
struct answer_outcome {
  // False: they ended without a real answer (the fallback text after Robofy failed, a Robofy
  // 4xx, a permanent Graph error, a reply given up past its retry deadline): a dead letter.
  bool real_answer = true;
  std::string reason;  // dead_letter::reason when !real_answer
  std::string detail;  // Robofy's status and error, or Meta's code and title
  std::string query;   // what Robofy was asked
  int robofy_calls = 0;
};

// The wamids of `messages`, comma-separated: log lines name every message they speak of.
std::string ids_of(std::span<const store::pending_message> messages);

// A reply ready to go out: what prepare_reply made.
struct prepared_reply {
  webhook::meta::graph_target target;
  std::uint32_t rate = 0;          // the route's messages_per_second
  std::vector<std::string> parts;  // the WhatsApp messages, in order
};

// Answers messages of one conversation (oldest first): prepare_reply, then send_reply. The
// messages to answer are joined (in order, newline-separated) into one Robofy query, retried with
// backoff behind the circuit breaker; the answer, or replies.fallback_text when Robofy cannot
// answer, is formatted for WhatsApp, split into parts (at most replies.max_parts) and sent in
// order, each after the previous was accepted, paced per business number. Only messages the
// bridge cannot read get replies.unsupported_text without asking Robofy. While Robofy thinks, the
// customer sees the message read and "typing…". Whether the conversation was handed to a person
// meanwhile is the store's to say (begin_send, in the pipeline). Never throws for upstream
// failures.
boost::asio::awaitable<answer_outcome> answer_messages(
    std::span<const store::pending_message> messages,
    std::shared_ptr<const runtime_settings> settings, worker_context context);

// The first half: the reply to `messages` (Robofy's answer, the fallback or the unsupported
// text), formatted and split, the customer seeing "typing…" meanwhile. Sends nothing but read
// receipts; nullopt when the number lost its route. The pipeline asks the store between the two
// halves whether the claim is still its own and the conversation not handed to a person
// (begin_send). Never throws for upstream failures.
boost::asio::awaitable<std::optional<prepared_reply>> prepare_reply(
    std::span<const store::pending_message> messages,
    std::shared_ptr<const runtime_settings> settings, worker_context context,
    answer_outcome& outcome);

// The second half: sends `reply`'s parts in order, paced and retried, and logs the outcome.
boost::asio::awaitable<void> send_reply(std::span<const store::pending_message> messages,
                                        const prepared_reply& reply,
                                        std::shared_ptr<const runtime_settings> settings,
                                        worker_context context, answer_outcome& outcome);

}  // namespace bridge
