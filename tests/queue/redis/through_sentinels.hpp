#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "queue/redis/client.hpp"
#include "tests/support/redis_sentinel.hpp"

namespace bridge::queue::redis::test {

// Client options that find `group`'s primary through its sentinels (AUTH `password` on them when
// not empty); each round trip within `timeout`.
inline client_options through_sentinels(
    const bridge::test::failover_group& group, std::string password = {},
    std::chrono::milliseconds timeout = std::chrono::seconds(1)) {
  client_options options;
  options.server = parse_url("redis://ignored:1/0").value();
  sentinel_options sentinel;
  sentinel.master_name = group.options().master_name;
  sentinel.password = std::move(password);
  for (const std::string& address : group.sentinel_addresses()) {
    const auto colon = address.rfind(':');
    sentinel.addresses.push_back(
        server_address{address.substr(0, colon),
                       static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)))});
  }
  options.sentinel = std::move(sentinel);
  options.timeout = timeout;
  return options;
}

// "127.0.0.1:<port>": how the client's stats and logs name a server of the group.
inline std::string address_of(const bridge::test::redis_server& server) {
  return "127.0.0.1:" + std::to_string(server.port());
}

}  // namespace bridge::queue::redis::test
