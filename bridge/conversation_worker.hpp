#pragma once

#include <boost/asio/awaitable.hpp>
#include <random>

#include "bridge/circuit_breaker.hpp"
#include "bridge/pending_message.hpp"
#include "bridge/runtime_settings.hpp"
#include "bridge/upstreams.hpp"
#include "queue/conversation_queue.hpp"

namespace bridge {

// Counts of what workers did, for logs, metrics and tests.
struct worker_counters {
  std::size_t robofy_calls = 0;
  std::size_t answers = 0;    // conversations answered with Robofy's answer
  std::size_t fallbacks = 0;  // conversations answered with replies.fallback_text
  std::size_t graph_calls = 0;
  std::size_t parts_sent = 0;     // text messages Meta accepted
  std::size_t send_failures = 0;  // replies Meta refused for good or after every retry
  std::size_t unrouted = 0;       // batches whose number lost its route before they were answered
};

// What a worker needs besides the batch: the upstreams, settings, and somewhere to count.
struct worker_context {
  chat_service& chat;
  message_sender& sender;
  circuit_breaker& robofy_breaker;  // shared by every worker
  circuit_breaker& graph_breaker;
  worker_counters& counters;
  std::mt19937_64& random;
};

// Answers one conversation's batch: every waiting message joined (in order, newline-separated)
// into one Robofy query, retried with backoff up to robofy.max_attempts calls; the answer, or
// replies.fallback_text when Robofy cannot answer, is split into WhatsApp-sized parts sent in
// order, each after the previous was accepted. Never throws for upstream failures.
boost::asio::awaitable<void> answer_batch(const queue::conversation_batch<pending_message>& batch,
                                          const runtime_settings& settings, worker_context context);

}  // namespace bridge
