#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "queue/redis/client.hpp"

namespace bridge::store {

// What a Redis server's settings are, as far as the bridge's guarantees go.
struct redis_durability {
  bool readable = false;  // CONFIG GET was allowed (managed services often refuse it)
  std::string appendonly, appendfsync, maxmemory_policy;
};

// Reads appendonly, appendfsync and maxmemory-policy with CONFIG GET.
boost::asio::awaitable<redis_durability> read_durability(queue::redis::client& redis);

// The warnings those settings deserve (DESIGN.md §8: appendonly yes, appendfsync always,
// maxmemory-policy noeviction), one line each; none when they are right or unreadable. Pure.
std::vector<std::string> durability_warnings(const redis_durability& settings);

}  // namespace bridge::store
