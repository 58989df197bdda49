#include "bridge/store/redis_checks.hpp"

namespace bridge::store {

boost::asio::awaitable<redis_durability> read_durability(queue::redis::client& redis) {
  redis_durability out;
  const auto answer =
      co_await redis.command("CONFIG", "GET", "appendonly", "appendfsync", "maxmemory-policy");
  if (!answer || answer->is_error() || !answer->is_array()) co_return out;
  out.readable = true;
  const auto& fields = answer->elements();
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    const std::string name(fields[i].text().value_or(""));
    const std::string value(fields[i + 1].text().value_or(""));
    if (name == "appendonly") out.appendonly = value;
    if (name == "appendfsync") out.appendfsync = value;
    if (name == "maxmemory-policy") out.maxmemory_policy = value;
  }
  co_return out;
}

std::vector<std::string> durability_warnings(const redis_durability& s) {
  std::vector<std::string> warnings;
  if (!s.readable) return warnings;
  if (s.appendonly != "yes") {
    warnings.push_back(
        "Redis runs with appendonly " + s.appendonly +
        ": a Redis restart loses every message that got a 200 and was not answered yet; set "
        "appendonly yes");
  } else if (s.appendfsync != "always") {
    warnings.push_back("Redis runs with appendfsync " + s.appendfsync +
                       ": a Redis crash can lose up to a second of messages that got a 200; set "
                       "appendfsync always");
  }
  if (s.maxmemory_policy != "noeviction") {
    warnings.push_back("Redis runs with maxmemory-policy " + s.maxmemory_policy +
                       ": an eviction can silently delete queued messages and remembered "
                       "wamids; set maxmemory-policy noeviction");
  }
  return warnings;
}

}  // namespace bridge::store
