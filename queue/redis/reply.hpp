#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bridge::queue::redis {

// The RESP2 reply types.
enum class reply_type { nil, integer, status, string, error, array };

// What an error reply means, read from its first word. Knowing it lets a caller tell "Redis cannot
// take writes right now" (answer 503, try later) from a bug in the command.
enum class server_error {
  none,        // not an error reply
  oom,         // OOM: maxmemory reached under noeviction; nothing was written
  readonly,    // READONLY: the server is a replica (failover, or pointed at the wrong node)
  loading,     // LOADING: the server is loading its dataset
  noreplicas,  // NOREPLICAS: fewer replicas than min-replicas-to-write
  noscript,    // NOSCRIPT: EVALSHA of a script the server does not hold
  busy,        // BUSY: a script or function has been running too long
  masterdown,  // MASTERDOWN: a replica lost its master and does not serve stale data
  auth,        // NOAUTH or WRONGPASS: authentication is needed or was refused
  wrongtype,   // WRONGTYPE: the key holds another kind of value
  other,       // any other error (ERR ..., EXECABORT ..., BUSYKEY ...)
};

// Classifies an error message by its first word ("READONLY You can't write ..."). Never throws.
server_error classify_server_error(std::string_view message) noexcept;

// True for errors that say the server cannot serve now but may soon (oom, readonly, loading,
// noreplicas, busy, masterdown): the command did not run and is worth trying again later.
bool is_transient(server_error kind) noexcept;

// The name of an error kind for logs and metrics ("oom", "readonly", ...). Never throws.
std::string_view to_string(server_error kind) noexcept;

// One reply from the server, owned: a plain value that outlives the connection it came from.
class reply {
 public:
  // A nil reply.
  reply() = default;

  // A reply of each type, as the parser makes them (tests and fakes make them too).
  static reply make_integer(long long value);
  static reply make_status(std::string text);
  static reply make_string(std::string bytes);
  static reply make_error(std::string message);
  static reply make_array(std::vector<reply> elements);

  // The RESP2 type of this reply.
  reply_type type() const noexcept { return type_; }
  // Shorthands for type() ==.
  bool is_nil() const noexcept { return type_ == reply_type::nil; }
  bool is_error() const noexcept { return type_ == reply_type::error; }
  bool is_array() const noexcept { return type_ == reply_type::array; }

  // The value of an integer reply; nullopt for any other type.
  std::optional<long long> integer() const noexcept;
  // The bytes of a bulk string or the text of a status reply; nullopt for any other type
  // (nil included).
  std::optional<std::string_view> text() const noexcept;
  // The whole message of an error reply ("ERR unknown command ..."); empty for other types.
  std::string_view error_message() const noexcept;
  // The kind of an error reply; server_error::none for other types.
  server_error error_kind() const noexcept { return error_kind_; }
  // The elements of an array reply; empty for other types.
  const std::vector<reply>& elements() const noexcept { return elements_; }

  // A short rendering for logs and test failures: "OK", "\"bytes\"", (integer) 3, (nil),
  // (error) ERR ..., [a, b]. Long strings are cut.
  std::string describe() const;

  // Same type and same value, elements compared in order.
  friend bool operator==(const reply& a, const reply& b) = default;

 private:
  reply_type type_ = reply_type::nil;
  server_error error_kind_ = server_error::none;
  long long integer_ = 0;
  std::string text_;  // bulk string, status or error message
  std::vector<reply> elements_;
};

// Writes describe() (for test diagnostics).
std::ostream& operator<<(std::ostream& out, const reply& r);
// Writes to_string(kind).
std::ostream& operator<<(std::ostream& out, server_error kind);

}  // namespace bridge::queue::redis
