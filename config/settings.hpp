#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// The configuration model of DESIGN.md §3. Plain values with the documented defaults; loading and
// validation live in config/loader.hpp.
namespace bridge::config {

using duration = std::chrono::milliseconds;

// A listen address "host:port"; IPv6 hosts are written "[::1]:8443" and stored without brackets.
struct listen_address {
  std::string host;
  std::uint16_t port = 0;
};

enum class tls_version { v1_2, v1_3 };

struct tls_settings {
  std::string cert_file;
  std::string key_file;
  tls_version min_version = tls_version::v1_2;  // 1.2 and 1.3 are offered unless this says 1.3
};

struct server_settings {
  listen_address listen{"0.0.0.0", 8443};
  std::string webhook_path = "/webhook";
  std::optional<tls_settings> tls;  // absent: plain HTTP behind a TLS-terminating ingress
  std::size_t max_body_bytes = 4194304;
  duration read_timeout = std::chrono::seconds(10);
  duration idle_timeout = std::chrono::seconds(60);
  // Body bytes all connections together may be receiving at once (unsigned until read whole).
  std::size_t max_inflight_body_bytes = 256ull * 1024 * 1024;
  // Idle wait of a connection that has not yet delivered a validly signed request.
  duration unauthenticated_idle_timeout = std::chrono::seconds(5);
};

struct admin_settings {
  listen_address listen{"0.0.0.0", 9090};
  std::string token;             // secret: Authorization: Bearer <token> on control paths
  bool protect_metrics = false;  // /metrics needs the token too
};

struct meta_settings {
  std::string app_secret;  // HMAC key for X-Hub-Signature-256 (secret)
  // The secret before a rotation (secret): deliveries signed with it are accepted too, while the
  // configuration catches up with Meta's dashboard. Empty: none.
  std::string previous_app_secret;
  std::string verify_token;  // GET handshake token (secret)
  std::string access_token;  // default Graph token (secret); a route may override
  std::string graph_base_url = "https://graph.facebook.com";
  std::string graph_api_version = "v21.0";
};

enum class auth_header {
  authorization,  // Authorization: Bearer <api_key>
  api_key,        // api-key: <api_key>
};

struct robofy_settings {
  std::string base_url = "https://agents.robofy.ai";
  std::string api_key;  // secret
  auth_header auth = auth_header::authorization;
  duration timeout = std::chrono::seconds(30);
  int max_attempts = 4;  // calls in all, the first included
};

// Which Robofy agent answers which business number. phone_number_id "*" matches any number.
struct route {
  std::string phone_number_id;
  std::string pid;
  std::string chatbot_id;
  std::optional<std::string> access_token;  // overrides meta.access_token for this number
  std::uint32_t messages_per_second = 80;   // outbound pace for this number (Meta's default cap)
};

struct queue_settings {
  std::size_t capacity = 10000;  // accepted messages not yet finished, all conversations
  std::size_t workers = 256;     // conversations answered at once
  duration coalesce_window{0};   // wait this long after a message for more before asking Robofy
  duration max_message_age = std::chrono::hours(24);  // older messages are not answered
};

struct spool_settings {
  std::optional<std::string> dir;  // absent: memory only
};

// Redis Sentinel: the primary is found by asking the sentinels instead of redis.url's host.
struct redis_sentinel_settings {
  std::string master_name;
  std::vector<listen_address> addresses;  // "host:port" of each sentinel
  std::string password;                   // secret; empty: sentinels without AUTH
};

// The shared store of several replicas (DESIGN.md §8).
struct redis_settings {
  std::string url;       // redis://[user@]host[:port][/db] or rediss:// (TLS); may be empty with
                         // sentinel, whose primary takes url's scheme, user and db (never its host)
  std::string password;  // secret; empty: no AUTH
  std::string tls_ca_file;  // rediss:// verifies the server against it (system store when empty)
  std::optional<redis_sentinel_settings> sentinel;
  std::string key_prefix = "robofy-wa-bridge";  // every key starts with it
  duration timeout = std::chrono::seconds(2);   // one round trip; acceptance answers 503 beyond
  duration lease = std::chrono::seconds(30);    // a conversation's owner renews it at a third
  int min_replica_acks = 0;  // > 0: WAIT for that many Redis replicas before Meta's 200
};

struct reply_settings {
  std::string fallback_text = "Sorry, I can't answer right now. Please try again in a moment.";
  std::string unsupported_text = "Sorry, I can only read text messages.";
  bool typing_indicator = true;  // mark messages read and show "typing…" while Robofy thinks
  std::size_t max_parts = 10;    // WhatsApp messages one answer may take; the rest is cut
  // Ends the last part of an answer that was cut to max_parts.
  std::string cut_notice = "[The answer was too long for WhatsApp and was cut here.]";
};

enum class log_format { json, text };

struct logging_settings {
  std::string level = "info";  // trace|debug|info|warn|error|critical|off
  log_format format = log_format::json;
  bool redact_phone_numbers = true;
};

// Handover to a person (DESIGN.md §9).
struct handover_settings {
  // How long the business's own message to a customer (an smb_message_echoes echo) pauses the
  // AI for that conversation; 0 turns automatic pauses off.
  duration pause_for = std::chrono::hours(12);
};

// Messages that ended without a real answer, kept for operators (DESIGN.md §9).
struct dead_letter_settings {
  std::size_t max = 10000;                        // the oldest go first beyond it
  duration max_age = std::chrono::hours(24 * 7);  // older ones are dropped
};

struct shutdown_settings {
  duration grace = std::chrono::seconds(25);
};

struct settings {
  std::string source_file;  // where these settings were read from, for messages
  // What loading noticed that is allowed but unwise (secrets readable by others, credentials
  // over plain HTTP), as "file:line: key: message"; logged at start and on every reload.
  std::vector<std::string> warnings;
  server_settings server;
  admin_settings admin;
  meta_settings meta;
  robofy_settings robofy;
  std::vector<route> routes;
  queue_settings queue;
  spool_settings spool;
  std::optional<redis_settings> redis;  // absent: one process (memory or spool)
  reply_settings replies;
  handover_settings handover;
  dead_letter_settings dead_letters;
  logging_settings logging;
  shutdown_settings shutdown;
};

// The route for a business number: an exact phone_number_id match wins over "*"; nullptr when
// neither exists.
const route* find_route(const settings& s, std::string_view phone_number_id);

}  // namespace bridge::config
