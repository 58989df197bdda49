#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/self_signed.hpp"

namespace bridge::test {

// How a test's redis-server is configured beyond the defaults (loopback, own dir, no snapshots,
// appendonly yes with appendfsync always).
struct redis_server_options {
  std::string password;                // requirepass: the default user's password
  std::vector<std::string> acl_users;  // one ACL user per entry: "alice on >secret ~* &* +@all"
  std::optional<pem_files> tls;        // serve TLS only, with this certificate and key ...
  bool plain_too = false;              // ... or TLS and, on plain_port(), plain TCP as well
  std::vector<std::string> config;     // more redis.conf lines: "maxmemory 1mb", ...
  // Run redis-sentinel instead (REDIS_SENTINEL or /usr/bin/redis-sentinel): `config` holds its
  // "sentinel ..." lines; no data settings. It keeps the file it rewrites across restarts.
  bool sentinel = false;
};

// A real redis-server (or redis-sentinel) run as a child process for one test: a free loopback
// port, a fresh temp dir, never the system service. It answers PING when the constructor returns;
// it can be paused (SIGSTOP), resumed, killed (SIGKILL) and restarted on the same port and dir. The
// destructor kills it and removes the dir. Throws std::runtime_error, with the server's log, when
// it cannot start. Not thread-safe.
class redis_server {
 public:
  explicit redis_server(redis_server_options options = {});
  ~redis_server();
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  // The loopback port it listens on (TLS when options.tls).
  std::uint16_t port() const noexcept { return port_; }
  // The loopback port it serves plain TCP on (port() unless TLS; 0 for TLS only).
  std::uint16_t plain_port() const noexcept { return options_.tls ? plain_port_ : port_; }
  // Its working directory (the append-only files are there).
  const std::string& dir() const noexcept { return dir_.path(); }
  // "redis://127.0.0.1:PORT/DB" or "rediss://...".
  std::string url(int db = 0) const;

  // SIGSTOP: it keeps its sockets but answers nothing.
  void pause();
  // SIGCONT after pause().
  void resume();
  // SIGKILL, and waits until it is gone.
  void kill();
  // Starts it again (after kill()) on the same port and dir; waits until it answers PING.
  void restart();
  // True while the process runs (paused included).
  bool running();
  // Everything it logged, across restarts.
  std::string log() const;

 private:
  // Starts on port_; false when the port was taken (then the caller may pick another).
  bool start();
  void write_config() const;
  bool answers_ping() const;

  redis_server_options options_;
  temp_dir dir_;
  std::uint16_t port_ = 0;
  std::uint16_t plain_port_ = 0;  // with tls and plain_too
  std::unique_ptr<child_process> process_;
  std::string earlier_logs_;  // of processes killed before
  bool started_once_ = false;
};

}  // namespace bridge::test
