// Fuzzes bridge::config::load_string, which reads an operator's YAML (and, on SIGHUP, whatever the
// file holds at that moment). config_error is the one expected exception; anything else escaping
// is a bug and is left to escape so that the fuzzer reports it.
//
// Traps when a documented property breaks:
//   - the environment is asked only for names of the form [A-Za-z_][A-Za-z0-9_]*;
//   - a config_error holds at least one problem, each naming "fuzz.yaml" with a message, each one
//     line without control characters (what() is those lines joined);
//   - loaded settings pass the rules the loader promises (required secrets present, at least one
//     route, each with a valid phone_number_id, pid and chatbot_id, a Graph token for every route,
//     limits within their ranges, durations above zero).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/loader.hpp"

namespace {

namespace cfg = bridge::config;

constexpr std::string_view file_name = "fuzz.yaml";

void check(bool condition) {
  if (!condition) __builtin_trap();
}

bool is_variable_name(std::string_view name) {
  const auto letter = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  if (name.empty() || !letter(name.front())) return false;
  for (const char c : name) {
    if (!letter(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

// Some names set (the ones the shipped configurations use, among others), some set but empty,
// the rest unset.
std::optional<std::string> fuzz_environment(std::string_view name) {
  check(is_variable_name(name));
  if (name == "EMPTY") return std::string{};
  if (name == "BRIDGE_PORT" || name == "SIM_BRIDGE_PORT") return std::string("8080");
  if (name == "DOLLAR") return std::string("${NOT_EXPANDED_AGAIN}");
  if (name == "WHATSAPP_PHONE_NUMBER_ID") return std::string("106540352242922");
  if (name.starts_with("META_") || name.starts_with("ROBOFY_") || name.starts_with("WHATSAPP_")) {
    return "fuzz-" + std::string(name);
  }
  if (name.size() == 1) return std::string(name);
  return std::nullopt;
}

void check_error(const cfg::config_error& e) {
  check(!e.problems.empty());
  std::string joined;
  for (const cfg::problem& p : e.problems) {
    check(p.file == file_name);
    check(!p.message.empty());
    check(p.line >= 0);
    // One line each, without control characters: they are printed to a terminal or a log.
    const std::string line = p.to_string();
    for (const char c : line)
      check(static_cast<unsigned char>(c) >= ' ');
    if (!joined.empty()) joined += '\n';
    joined += line;
  }
  check(joined == e.what());
}

bool is_phone_number_id(std::string_view id) {
  if (id == "*") return true;
  if (id.empty()) return false;
  for (const char c : id) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

void check_settings(const cfg::settings& s) {
  check(s.source_file == file_name);
  check(!s.meta.app_secret.empty());
  check(!s.meta.verify_token.empty());
  check(!s.robofy.api_key.empty());
  check(!s.routes.empty());
  for (const cfg::route& r : s.routes) {
    check(is_phone_number_id(r.phone_number_id));
    check(!r.pid.empty());
    check(!r.chatbot_id.empty());
    check(!s.meta.access_token.empty() || (r.access_token && !r.access_token->empty()));
    check(r.messages_per_second >= 1 && r.messages_per_second <= 1000);
  }
  check(s.server.max_body_bytes >= 1 && s.server.max_body_bytes <= 64ull * 1024 * 1024);
  check(s.server.read_timeout.count() > 0 && s.server.idle_timeout.count() > 0);
  check(s.robofy.timeout.count() > 0);
  check(s.robofy.max_attempts >= 1 && s.robofy.max_attempts <= 10);
  check(s.queue.capacity >= 1 && s.queue.workers >= 1);
  check(s.queue.coalesce_window.count() >= 0 && s.queue.max_message_age.count() > 0);
  check(s.shutdown.grace.count() > 0);
  check(!s.server.webhook_path.empty() && s.server.webhook_path.front() == '/');
  if (s.server.tls) check(!s.server.tls->cert_file.empty() && !s.server.tls->key_file.empty());
  if (s.spool.dir) check(!s.spool.dir->empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const cfg::environment env = fuzz_environment;
  try {
    check_settings(cfg::load_string(text, file_name, env));
  } catch (const cfg::config_error& e) {
    check_error(e);
  }
  return 0;
}
