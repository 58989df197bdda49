#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "bridge/conversation_worker.hpp"
#include "bridge/pipeline.hpp"
#include "bridge/store/redis_store.hpp"
#include "queue/redis/client.hpp"
#include "queue/spool.hpp"
#include "webhook/http/listener.hpp"
#include "webhook/meta/endpoint.hpp"

namespace bridge {

// Everything /metrics reports, read at scrape time from the counters each part keeps.
struct metrics_view {
  const webhook::meta::endpoint_counters& endpoint;
  const webhook::http::listener_counters& listener;
  const admission_counters& admission;
  const worker_counters& work;
  std::size_t queue_depth = 0;
  std::size_t queue_capacity = 0;
  std::size_t conversations_in_flight = 0;
  std::optional<queue::spool_stats> spool;
  bool robofy_circuit_open = false;
  bool graph_circuit_open = false;
  bool ready = false;
  std::string_view version;
  // With a shared store: the Redis client's and the store's figures, and this replica's name.
  std::optional<queue::redis::client_stats> redis;
  std::optional<store::redis_store_stats> shared;
  std::string_view replica;
  std::uint64_t admin_refused = 0;  // admin requests refused for their token
};

// The Prometheus text exposition format (0.0.4) of the view: counters end in _total, durations
// are histograms in seconds, every name starts with robofy_wa_bridge_.
std::string render_metrics(const metrics_view& view);

}  // namespace bridge
