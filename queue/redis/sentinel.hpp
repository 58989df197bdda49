#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "queue/redis/reply.hpp"

// Redis Sentinel as the client sees it: where the sentinels are, and the pure reading of what they
// (and the primary) answer. The I/O around it is in discovery.* and switch_watch.*.
namespace bridge::queue::redis {

// A server's host and port, as configured or as a sentinel names it.
struct server_address {
  std::string host;  // name or address; an IPv6 address without brackets
  std::uint16_t port = 0;

  // "host:port", IPv6 as "[::1]:26379". Never throws beyond allocation.
  std::string to_string() const;
  friend bool operator==(const server_address&, const server_address&) = default;
};

// How to find the primary through Redis Sentinel (the redis.sentinel block of §8).
struct sentinel_options {
  std::string master_name;                // the name the sentinels monitor the primary under
  std::vector<server_address> addresses;  // the sentinels, asked in turn
  std::string password;                   // AUTH to the sentinels when not empty; never logged
};

// The primary named by a reply to SENTINEL GET-MASTER-ADDR-BY-NAME: nullopt for nil (the sentinel
// does not know the name), an error reply, or anything that is not [host, port]. Never throws
// beyond allocation.
std::optional<server_address> parse_master_address(const reply& r);

// The role in a reply to ROLE ("master", "slave", "sentinel"); empty when the reply is not one.
std::string_view role_of(const reply& r) noexcept;

// A +switch-master notice: the primary of master_name moved to `to`.
struct switch_notice {
  std::string master_name;
  server_address from;
  server_address to;
};

// Reads a message a sentinel pushes to a +switch-master subscriber: ["message", "+switch-master",
// "<name> <old-ip> <old-port> <new-ip> <new-port>"]. nullopt for any other push (subscribe
// confirmations, pongs) or a malformed one. Never throws beyond allocation.
std::optional<switch_notice> parse_switch_notice(const reply& r);

// True for the answer to PING on a subscribed connection (["pong", ""]) or to a plain PING.
bool is_pong(const reply& r) noexcept;

}  // namespace bridge::queue::redis
