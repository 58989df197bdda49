#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/redis_server.hpp"

namespace bridge::test {

// A reply of the blocking test client below: enough to read what servers and sentinels say.
struct sync_reply {
  enum class kind { nil, integer, text, error, array } type = kind::nil;
  long long integer = 0;
  std::string text;  // bulk string, status or error message
  std::vector<sync_reply> elements;
};

// One command to 127.0.0.1:port (plain TCP) over a fresh connection (AUTH password first when not
// empty), within 1 s; nullopt when the server cannot be reached or does not answer. For test set-up
// and checks, never for the code under test (hiredis, blocking).
std::optional<sync_reply> sync_command(std::uint16_t port, const std::vector<std::string>& args,
                                       const std::string& password = {});

// How a failover_group is made.
struct failover_group_options {
  int replicas = 1;   // data servers besides the first primary
  int sentinels = 3;  // quorum: a majority of them
  std::string master_name = "mymaster";
  std::vector<std::string> server_config;            // more lines for every data server
  std::chrono::milliseconds down_after{1000};        // sentinel down-after-milliseconds
  std::chrono::milliseconds failover_timeout{3000};  // sentinel failover-timeout
  std::string sentinel_password;                     // requirepass of the sentinels
  // Everything speaks TLS with this certificate (replication and sentinels too), and plain TCP
  // on each process's plain_port() for the group's own checks.
  std::optional<pem_files> tls;
};

// A primary, its replicas and the sentinels that watch them, all real processes (Debian's
// redis-server and redis-sentinel) on free loopback ports in temp dirs. When the constructor
// returns, every replica is in sync and every sentinel knows the replicas and its peers, so a
// failover can happen. Every wait is bounded; failures throw std::runtime_error with the logs.
class failover_group {
 public:
  explicit failover_group(failover_group_options options = {});
  ~failover_group();
  failover_group(const failover_group&) = delete;
  failover_group& operator=(const failover_group&) = delete;

  // Data server i: 0 is the first primary, 1.. the replicas (roles change with failovers).
  redis_server& server(std::size_t i) { return *servers_.at(i); }
  std::size_t servers() const noexcept { return servers_.size(); }
  redis_server& sentinel(std::size_t i) { return *sentinels_.at(i); }
  std::size_t sentinels() const noexcept { return sentinels_.size(); }
  const failover_group_options& options() const noexcept { return options_; }

  // "127.0.0.1:PORT" of every sentinel, as the bridge's configuration lists them.
  std::vector<std::string> sentinel_addresses() const;
  // The index of the data server on `port`; throws when there is none.
  std::size_t index_of(std::uint16_t port) const;
  // The port most of the reachable sentinels name as primary now; nullopt when none answers.
  std::optional<std::uint16_t> named_primary();
  // Waits (at most `limit`) until the reachable sentinels name a primary other than `old_port`;
  // its port. Throws after the limit.
  std::uint16_t wait_for_new_primary(std::uint16_t old_port, std::chrono::milliseconds limit);
  // Waits (at most `limit`) until data server i is a replica whose link to its primary is up.
  void wait_for_replica(std::size_t i, std::chrono::milliseconds limit);
  // Waits (at most `limit`) until data server i says ROLE master.
  void wait_for_master(std::size_t i, std::chrono::milliseconds limit);
  // Every process's log, for a failing test's message.
  std::string logs() const;

 private:
  void wait_for_sentinels_to_know_everyone(std::chrono::milliseconds limit);

  failover_group_options options_;
  std::vector<std::unique_ptr<redis_server>> servers_;
  std::vector<std::unique_ptr<redis_server>> sentinels_;
};

}  // namespace bridge::test
