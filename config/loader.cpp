#include "config/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <utility>

#include "config/duration.hpp"
#include "config/env_expand.hpp"
#include "config/hygiene.hpp"
#include "config/suggest.hpp"
#include "config/values.hpp"

namespace bridge::config {

std::string problem::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  out += message;
  return out;
}

namespace {

std::string join_lines(const std::vector<problem>& problems) {
  std::string out;
  for (const problem& p : problems) {
    if (!out.empty()) out += '\n';
    out += p.to_string();
  }
  return out;
}

}  // namespace

config_error::config_error(std::vector<problem> found)
    : std::runtime_error(join_lines(found)), problems(std::move(found)) {}

namespace {

using namespace std::string_view_literals;

// The keys each mapping may hold (DESIGN.md §3). Secrets also accept "<key>_file".
constexpr std::array top_keys = {
    "server"sv, "admin"sv,   "meta"sv,     "robofy"sv,       "routes"sv,  "queue"sv,   "spool"sv,
    "redis"sv,  "replies"sv, "handover"sv, "dead_letters"sv, "logging"sv, "shutdown"sv};
constexpr std::array server_keys = {"listen"sv,
                                    "webhook_path"sv,
                                    "tls"sv,
                                    "max_body_bytes"sv,
                                    "read_timeout"sv,
                                    "idle_timeout"sv,
                                    "max_inflight_body_bytes"sv,
                                    "unauthenticated_idle_timeout"sv};
constexpr std::array tls_keys = {"cert_file"sv, "key_file"sv, "min_version"sv};
constexpr std::array admin_keys = {"listen"sv, "token"sv, "token_file"sv, "protect_metrics"sv};
constexpr std::array handover_keys = {"pause_for"sv};
constexpr std::array dead_letter_keys = {"max"sv, "max_age"sv};
constexpr std::array meta_keys = {"app_secret"sv,          "app_secret_file"sv,
                                  "previous_app_secret"sv, "previous_app_secret_file"sv,
                                  "verify_token"sv,        "verify_token_file"sv,
                                  "access_token"sv,        "access_token_file"sv,
                                  "graph_base_url"sv,      "graph_api_version"sv};
constexpr std::array robofy_keys = {"base_url"sv,    "api_key"sv, "api_key_file"sv,
                                    "auth_header"sv, "timeout"sv, "max_attempts"sv};
constexpr std::array route_keys = {"phone_number_id"sv,   "pid"sv,
                                   "chatbot_id"sv,        "access_token"sv,
                                   "access_token_file"sv, "messages_per_second"sv};
constexpr std::array queue_keys = {"capacity"sv, "workers"sv, "coalesce_window"sv,
                                   "max_message_age"sv};
constexpr std::array spool_keys = {"dir"sv};
constexpr std::array redis_keys = {"url"sv,     "password"sv, "password_file"sv,
                                   "tls"sv,     "sentinel"sv, "key_prefix"sv,
                                   "timeout"sv, "lease"sv,    "min_replica_acks"sv};
constexpr std::array redis_tls_keys = {"ca_file"sv};
constexpr std::array sentinel_keys = {"master_name"sv, "addresses"sv, "password"sv,
                                      "password_file"sv};
constexpr std::array replies_keys = {"fallback_text"sv, "unsupported_text"sv, "typing_indicator"sv,
                                     "max_parts"sv, "cut_notice"sv};
constexpr std::array logging_keys = {"level"sv, "format"sv, "redact_phone_numbers"sv};
constexpr std::array shutdown_keys = {"grace"sv};

constexpr std::uint64_t max_body_limit = 64ull * 1024 * 1024;
constexpr std::uint64_t max_inflight_body_limit = 64ull * 1024 * 1024 * 1024;
constexpr std::uintmax_t max_secret_file_bytes = 64 * 1024;

int line_of(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? 0 : mark.line + 1;
}

std::string_view kind_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a single value";
    default:
      return "nothing";
  }
}

// A non-secret value echoed in a message: short, and without control characters. Paths are kept
// whole: a cut path does not tell the operator which file it was.
std::string echo_value(std::string_view value, std::size_t limit = 40) {
  std::string out = "'";
  for (char c : value.substr(0, limit)) {
    out += static_cast<unsigned char>(c) < ' ' ? '?' : c;
  }
  if (value.size() > limit) out += "...";
  out += "'";
  return out;
}

// One key of a mapping with its value, in document order.
struct field {
  std::string name;
  YAML::Node key;
  YAML::Node value;
};

// A mapping whose keys were checked: the known keys it holds, and where it is.
struct section {
  std::string path;  // dotted path of the mapping; empty for the whole document
  int line = 0;      // where missing keys are reported
  std::vector<field> fields;

  const field* find(std::string_view name) const {
    for (const field& f : fields) {
      if (f.name == name) return &f;
    }
    return nullptr;
  }

  std::string key(std::string_view name) const {
    return path.empty() ? std::string(name) : path + "." + std::string(name);
  }

  // The value of `name`, or a null node when absent.
  YAML::Node value(std::string_view name) const {
    const field* f = find(name);
    return f ? f->value : YAML::Node();
  }
};

// An expanded scalar and where it came from.
struct scalar {
  std::string value;
  std::string key;
  int line = 0;
};

// A secret read from "<name>" or "<name>_file".
struct secret {
  enum class state { absent, empty, invalid, present };
  state status = state::absent;
  std::string value;
  std::string key;  // the key it was read from, for messages
  int line = 0;
};

std::string describe_errno(int error) {
  std::string text = std::strerror(error);
  return text.empty() ? "error " + std::to_string(error) : text;
}

// Walks the YAML tree, filling settings and collecting every problem on the way.
// text with every control character (and DEL) written as \xNN.
std::string printable(std::string text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[byte >> 4];
      out += hex[byte & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

class reader {
 public:
  reader(std::string file, const environment& env) : file_(std::move(file)), env_(env) {}

  std::vector<problem>& problems() { return problems_; }
  // What is allowed but unwise, as "file:line: key: message" lines.
  std::vector<std::string>& warnings() { return warnings_; }
  // True once a secret was written into the file itself (not ${VAR} or a *_file).
  bool holds_literal_secret() const { return holds_literal_secret_; }

  void warn(int line, std::string key, std::string message) {
    warnings_.push_back(
        problem{file_, line, printable(std::move(key)), printable(std::move(message))}.to_string());
  }

  // Warns when `path` (a file holding a secret or a key) can be read by group or others.
  void warn_if_exposed(const scalar& where, const std::string& path, std::string_view what) {
    if (const auto mode = readable_by_others(path)) {
      warn(where.line, where.key,
           std::string(what) + " " + echo_value(path, 4096) +
               " is readable by group or others (mode " + *mode + "); chmod 600 it");
    }
  }

  // Records a problem. Key and message may echo bytes from the file, so control characters are
  // written as \xNN: one problem is always one clean line on a terminal or in a log.
  void report(int line, std::string key, std::string message) {
    problems_.push_back(
        problem{file_, line, printable(std::move(key)), printable(std::move(message))});
  }

  // Checks that `node` is a mapping (null counts as empty) of known keys, each once, suggesting
  // the closest known key for a typo. nullopt, after a report, when it is not a mapping.
  // `line` is where keys missing from it are reported.
  std::optional<section> open(const YAML::Node& node, std::string path,
                              std::span<const std::string_view> known, int line) {
    section s{std::move(path), line, {}};
    if (node.IsNull() || !node.IsDefined()) return s;
    if (!node.IsMap()) {
      report(line_of(node), s.path,
             "expected a mapping of keys, got " + std::string(kind_of(node)));
      return std::nullopt;
    }
    for (const auto& pair : node) {
      // Copies: yaml-cpp iterators hand out temporaries, so references to them would dangle.
      const YAML::Node key = pair.first;
      if (!key.IsScalar()) {
        report(line_of(key), s.path, "keys must be plain names, got " + std::string(kind_of(key)));
        continue;
      }
      const std::string name = key.Scalar();
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        std::string message = "unknown key " + echo_value(name);
        if (const auto near = closest_match(name, known)) {
          message += " (did you mean '" + std::string(*near) + "'?)";
        }
        report(line_of(key), s.key(name), std::move(message));
        continue;
      }
      if (const field* first = s.find(name)) {
        report(line_of(key), s.key(name),
               "appears twice (first at line " + std::to_string(line_of(first->key)) + ")");
        continue;
      }
      s.fields.push_back(field{name, key, pair.second});
    }
    return s;
  }

  // Opens the mapping under key `name` of `parent` (an empty one when absent); keys missing from
  // it are reported at the line of `name`.
  std::optional<section> open_child(const section& parent, std::string_view name,
                                    std::span<const std::string_view> known) {
    const field* f = parent.find(name);
    if (!f) return open(YAML::Node(), parent.key(name), known, 0);
    return open(f->value, parent.key(name), known, line_of(f->key));
  }

  // The ${VAR}-expanded text of `name`; null reads as "". nullopt when absent or after a report.
  // Messages never include the value, so this is safe for secrets.
  std::optional<scalar> text(const section& s, std::string_view name) {
    const field* f = s.find(name);
    if (!f) return std::nullopt;
    scalar out{"", s.key(name), line_of(f->value)};
    if (out.line == 0) out.line = line_of(f->key);
    if (f->value.IsNull()) return out;
    if (!f->value.IsScalar()) {
      report(out.line, out.key, "expected a single value, got " + std::string(kind_of(f->value)));
      return std::nullopt;
    }
    expansion expanded = expand_env(f->value.Scalar(), env_);
    if (!expanded.ok()) {
      for (std::string& error : expanded.errors)
        report(out.line, out.key, std::move(error));
      return std::nullopt;
    }
    out.value = std::move(expanded.value);
    return out;
  }

  // A plain string; `required_non_empty` refuses "".
  void read_string(const section& s, std::string_view name, std::string& out,
                   bool required_non_empty) {
    if (auto t = text(s, name)) {
      if (required_non_empty && t->value.empty()) {
        report(t->line, t->key, "must not be empty");
        return;
      }
      out = std::move(t->value);
    }
  }

  void read_listen(const section& s, std::string_view name, listen_address& out) {
    if (auto t = text(s, name)) {
      parsed<listen_address> p = parse_listen_address(t->value);
      if (!p.value) {
        report(t->line, t->key, "invalid listen address " + echo_value(t->value) + ": " + p.error);
        return;
      }
      out = std::move(*p.value);
    }
  }

  void read_url(const section& s, std::string_view name, std::string& out) {
    if (auto t = text(s, name)) {
      parsed<std::string> p = normalize_base_url(t->value);
      // The URL is not echoed: it could carry credentials by mistake.
      if (!p.value) {
        report(t->line, t->key, "invalid URL: " + p.error);
        return;
      }
      out = std::move(*p.value);
      if (is_cleartext_remote(out)) {
        warn(t->line, t->key,
             "plain http:// to a host that is not loopback: its credentials would cross the "
             "network unencrypted; use https://");
      }
    }
  }

  // A duration that must be greater than zero (or may be zero, when allow_zero).
  void read_duration(const section& s, std::string_view name, duration& out,
                     bool allow_zero = false) {
    if (auto t = text(s, name)) {
      const std::optional<duration> d = parse_duration(t->value);
      if (!d) {
        report(t->line, t->key,
               "expected a duration such as 250ms, 30s, 5m, 24h or 1h30m, got " +
                   echo_value(t->value));
      } else if (d->count() == 0 && !allow_zero) {
        report(t->line, t->key, "must be greater than 0");
      } else {
        out = *d;
      }
    }
  }

  // A whole number in [min, max].
  template <class Int>
  void read_integer(const section& s, std::string_view name, Int& out, std::uint64_t min,
                    std::uint64_t max) {
    auto t = text(s, name);
    if (!t) return;
    const std::string range = "from " + std::to_string(min) + " to " + std::to_string(max);
    const std::string& v = t->value;
    std::uint64_t number = 0;
    const char* end = v.data() + v.size();
    const auto [ptr, ec] = std::from_chars(v.data(), end, number);
    // from_chars accepts a leading '-' for nothing unsigned, so signs and junk all fail here.
    if (v.empty() || ptr != end || ec == std::errc::invalid_argument) {
      const bool negative = v.size() > 1 && v.front() == '-';
      report(t->line, t->key,
             std::string(negative ? "must not be negative" : "expected a whole number") + " " +
                 range + ", got " + echo_value(v));
    } else if (ec == std::errc::result_out_of_range || number < min || number > max) {
      report(t->line, t->key, "must be " + range + ", got " + echo_value(v));
    } else {
      out = static_cast<Int>(number);
    }
  }

  void read_bool(const section& s, std::string_view name, bool& out) {
    if (auto t = text(s, name)) {
      if (t->value == "true" || t->value == "True" || t->value == "TRUE") {
        out = true;
      } else if (t->value == "false" || t->value == "False" || t->value == "FALSE") {
        out = false;
      } else {
        report(t->line, t->key, "expected true or false, got " + echo_value(t->value));
      }
    }
  }

  // One of a fixed set of words.
  template <class T, std::size_t n>
  void read_choice(const section& s, std::string_view name, T& out,
                   const std::array<std::pair<std::string_view, T>, n>& choices) {
    auto t = text(s, name);
    if (!t) return;
    std::string allowed;
    for (const auto& [word, value] : choices) {
      if (t->value == word) {
        out = value;
        return;
      }
      allowed += allowed.empty() ? "" : ", ";
      allowed += word;
    }
    report(t->line, t->key, "expected one of " + allowed + "; got " + echo_value(t->value));
  }

  // A secret given inline as `name` or as a file path in `name`_file. Reports both forms set,
  // unreadable and empty files; an inline empty value is left to the caller (state::empty).
  secret read_secret(const section& s, std::string_view name) {
    const std::string file_name = std::string(name) + "_file";
    const field* inline_field = s.find(name);
    const field* file_field = s.find(file_name);
    secret out;
    if (inline_field && file_field) {
      out.status = secret::state::invalid;
      report(line_of(file_field->key), s.key(name),
             "set either " + std::string(name) + " or " + file_name + ", not both");
      return out;
    }
    if (inline_field) {
      // A value not taken from the environment sits in the file itself.
      const std::string raw = inline_field->value.IsScalar() ? inline_field->value.Scalar() : "";
      if (!raw.empty() && raw.find("${") == std::string::npos) holds_literal_secret_ = true;
      auto t = text(s, name);
      out.status = !t                 ? secret::state::invalid
                   : t->value.empty() ? secret::state::empty
                                      : secret::state::present;
      if (t) {
        out.value = std::move(t->value);
        out.key = std::move(t->key);
        out.line = t->line;
      }
      return out;
    }
    if (!file_field) return out;
    auto t = text(s, file_name);
    if (!t) {
      out.status = secret::state::invalid;
      return out;
    }
    out.key = t->key;
    out.line = t->line;
    if (t->value.empty()) {
      out.status = secret::state::invalid;
      report(t->line, t->key, "must not be empty (a path to a file holding the secret)");
      return out;
    }
    std::string error;
    if (!read_secret_file(t->value, out.value, error)) {
      out.status = secret::state::invalid;
      report(t->line, t->key,
             "cannot read secret file " + echo_value(t->value, 4096) + ": " + error);
      return out;
    }
    if (out.value.empty()) {
      out.status = secret::state::invalid;
      report(t->line, t->key, "secret file " + echo_value(t->value, 4096) + " is empty");
      return out;
    }
    out.status = secret::state::present;
    warn_if_exposed(*t, t->value, "secret file");
    return out;
  }

  // A secret that must be set: reports it missing or empty.
  void read_required_secret(const section& s, std::string_view name, std::string& out) {
    secret got = read_secret(s, name);
    switch (got.status) {
      case secret::state::absent:
        report(s.line, s.key(name),
               "is required (set " + std::string(name) + " or " + std::string(name) + "_file)");
        break;
      case secret::state::empty:
        report(got.line, got.key, "must not be empty");
        break;
      case secret::state::invalid:
        break;
      case secret::state::present:
        out = std::move(got.value);
        break;
    }
  }

 private:
  // Reads a mounted secret: the whole file, less one trailing "\n" or "\r\n".
  static bool read_secret_file(const std::string& path, std::string& out, std::string& error) {
    std::error_code ec;
    const std::filesystem::file_status status = std::filesystem::status(path, ec);
    if (ec) {
      error = ec.message();
      return false;
    }
    if (!std::filesystem::is_regular_file(status)) {
      error = "not a regular file";
      return false;
    }
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (ec) {
      error = ec.message();
      return false;
    }
    if (size > max_secret_file_bytes) {
      error = "larger than " + std::to_string(max_secret_file_bytes) + " bytes";
      return false;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      error = describe_errno(errno);
      return false;
    }
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) {
      error = describe_errno(errno);
      out.clear();
      return false;
    }
    if (out.ends_with("\r\n")) {
      out.resize(out.size() - 2);
    } else if (out.ends_with('\n')) {
      out.pop_back();
    }
    return true;
  }

  std::string file_;
  const environment& env_;
  std::vector<problem> problems_;
  std::vector<std::string> warnings_;
  bool holds_literal_secret_ = false;
};

// A secret that may be left out (empty when absent).
std::string optional_secret(reader& r, const section& s, std::string_view name) {
  secret got = r.read_secret(s, name);
  return got.status == secret::state::present ? std::move(got.value) : std::string();
}

void read_server(reader& r, const section& top, server_settings& out) {
  const auto s = r.open_child(top, "server", server_keys);
  if (!s) return;
  r.read_listen(*s, "listen", out.listen);
  if (auto t = r.text(*s, "webhook_path")) {
    if (is_webhook_path(t->value)) {
      out.webhook_path = std::move(t->value);
    } else {
      r.report(
          t->line, t->key,
          "must start with '/' and hold no query, fragment or spaces, got " + echo_value(t->value));
    }
  }
  if (!s->value("tls").IsNull()) {
    if (const auto tls = r.open_child(*s, "tls", tls_keys)) {
      tls_settings t;
      for (auto [name, target] :
           {std::pair{"cert_file"sv, &t.cert_file}, std::pair{"key_file"sv, &t.key_file}}) {
        if (!tls->find(name)) {
          r.report(tls->line, tls->key(name),
                   "is required when server.tls is set (omit the tls block for plain HTTP)");
        } else {
          r.read_string(*tls, name, *target, true);
        }
      }
      if (const field* f = tls->find("key_file"); f && !t.key_file.empty()) {
        r.warn_if_exposed(scalar{t.key_file, tls->key("key_file"), line_of(f->key)}, t.key_file,
                          "TLS key");
      }
      constexpr std::array<std::pair<std::string_view, tls_version>, 2> versions = {
          std::pair{"1.2"sv, tls_version::v1_2}, std::pair{"1.3"sv, tls_version::v1_3}};
      r.read_choice(*tls, "min_version", t.min_version, versions);
      out.tls = std::move(t);
    }
  }
  r.read_integer(*s, "max_body_bytes", out.max_body_bytes, 1, max_body_limit);
  r.read_duration(*s, "read_timeout", out.read_timeout);
  r.read_duration(*s, "idle_timeout", out.idle_timeout);
  r.read_duration(*s, "unauthenticated_idle_timeout", out.unauthenticated_idle_timeout);
  r.read_integer(*s, "max_inflight_body_bytes", out.max_inflight_body_bytes, 1,
                 max_inflight_body_limit);
  if (out.max_inflight_body_bytes < out.max_body_bytes) {
    const field* f = s->find("max_inflight_body_bytes");
    r.report(f ? line_of(f->key) : s->line, s->key("max_inflight_body_bytes"),
             "must be at least server.max_body_bytes (" + std::to_string(out.max_body_bytes) +
                 "), or no body that size could ever be received");
  }
}

void read_admin(reader& r, const section& top, admin_settings& out) {
  const auto s = r.open_child(top, "admin", admin_keys);
  if (!s) return;
  r.read_listen(*s, "listen", out.listen);
  out.token = optional_secret(r, *s, "token");
  r.read_bool(*s, "protect_metrics", out.protect_metrics);
}

void read_handover(reader& r, const section& top, handover_settings& out) {
  const auto s = r.open_child(top, "handover", handover_keys);
  if (!s) return;
  r.read_duration(*s, "pause_for", out.pause_for, true);
}

void read_dead_letters(reader& r, const section& top, dead_letter_settings& out) {
  const auto s = r.open_child(top, "dead_letters", dead_letter_keys);
  if (!s) return;
  r.read_integer(*s, "max", out.max, 1, 1'000'000);
  r.read_duration(*s, "max_age", out.max_age);
}

// Returns the state of meta.access_token, which may be left out when every route has its own.
secret::state read_meta(reader& r, const section& top, meta_settings& out, int& line) {
  const auto s = r.open_child(top, "meta", meta_keys);
  if (!s) return secret::state::invalid;
  r.read_required_secret(*s, "app_secret", out.app_secret);
  r.read_required_secret(*s, "verify_token", out.verify_token);
  out.previous_app_secret = optional_secret(r, *s, "previous_app_secret");
  secret access = r.read_secret(*s, "access_token");
  if (access.status == secret::state::present) out.access_token = std::move(access.value);
  line = access.status == secret::state::absent ? s->line : access.line;
  r.read_url(*s, "graph_base_url", out.graph_base_url);
  if (auto t = r.text(*s, "graph_api_version")) {
    if (is_graph_api_version(t->value)) {
      out.graph_api_version = std::move(t->value);
    } else {
      r.report(t->line, t->key, "expected a version such as v21.0, got " + echo_value(t->value));
    }
  }
  return access.status;
}

void read_robofy(reader& r, const section& top, robofy_settings& out) {
  const auto s = r.open_child(top, "robofy", robofy_keys);
  if (!s) return;
  r.read_url(*s, "base_url", out.base_url);
  r.read_required_secret(*s, "api_key", out.api_key);
  constexpr std::array<std::pair<std::string_view, auth_header>, 2> headers = {
      std::pair{"authorization"sv, auth_header::authorization},
      std::pair{"api-key"sv, auth_header::api_key}};
  r.read_choice(*s, "auth_header", out.auth, headers);
  r.read_duration(*s, "timeout", out.timeout);
  r.read_integer(*s, "max_attempts", out.max_attempts, 1, 10);
}

bool is_phone_number_id(std::string_view id) {
  if (id == "*") return true;
  if (id.empty()) return false;
  for (char c : id) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Reads routes[]; `without_token` gets the index of every route that has no access token.
void read_routes(reader& r, const section& top, std::vector<route>& out,
                 std::vector<std::size_t>& without_token) {
  const field* f = top.find("routes");
  if (!f || f->value.IsNull()) {
    r.report(f ? line_of(f->key) : 0, "routes",
             "at least one route is required (phone_number_id, pid, chatbot_id)");
    return;
  }
  if (!f->value.IsSequence()) {
    r.report(line_of(f->value), "routes",
             "expected a list of routes, got " + std::string(kind_of(f->value)));
    return;
  }
  if (f->value.size() == 0) {
    r.report(line_of(f->value), "routes", "at least one route is required");
    return;
  }
  std::map<std::string, std::size_t, std::less<>> seen;  // phone_number_id -> route index
  for (std::size_t i = 0; i < f->value.size(); ++i) {
    const YAML::Node item = f->value[i];
    const std::string path = "routes[" + std::to_string(i) + "]";
    if (item.IsNull()) {
      r.report(line_of(item) ? line_of(item) : line_of(f->value), path,
               "expected a mapping of keys, got nothing");
      continue;
    }
    const auto s = r.open(item, path, route_keys, line_of(item));
    if (!s) continue;
    route rt;
    for (auto [name, target] :
         {std::pair{"phone_number_id"sv, &rt.phone_number_id}, std::pair{"pid"sv, &rt.pid},
          std::pair{"chatbot_id"sv, &rt.chatbot_id}}) {
      if (!s->find(name)) {
        r.report(s->line, s->key(name), "is required");
      } else {
        r.read_string(*s, name, *target, true);
      }
    }
    if (!rt.phone_number_id.empty()) {
      const field* id_field = s->find("phone_number_id");
      const int line = line_of(id_field->value);
      if (!is_phone_number_id(rt.phone_number_id)) {
        r.report(line, s->key("phone_number_id"),
                 "expected the numeric phone number ID from Meta (not the phone number) or \"*\", "
                 "got " +
                     echo_value(rt.phone_number_id));
      } else if (const auto it = seen.find(rt.phone_number_id); it != seen.end()) {
        r.report(line, s->key("phone_number_id"),
                 echo_value(rt.phone_number_id) + " is already routed by routes[" +
                     std::to_string(it->second) + "]");
      } else {
        seen.emplace(rt.phone_number_id, i);
      }
    }
    r.read_integer(*s, "messages_per_second", rt.messages_per_second, 1, 1000);
    secret token = r.read_secret(*s, "access_token");
    if (token.status == secret::state::present) {
      rt.access_token = std::move(token.value);
    } else if (token.status != secret::state::invalid) {
      // Absent or empty: this number uses meta.access_token. A broken token was reported already.
      without_token.push_back(i);
    }
    out.push_back(std::move(rt));
  }
}

void read_queue(reader& r, const section& top, queue_settings& out) {
  const auto s = r.open_child(top, "queue", queue_keys);
  if (!s) return;
  r.read_integer(*s, "capacity", out.capacity, 1, 10'000'000);
  r.read_integer(*s, "workers", out.workers, 1, 100'000);
  r.read_duration(*s, "coalesce_window", out.coalesce_window, true);
  r.read_duration(*s, "max_message_age", out.max_message_age);
}

void read_spool(reader& r, const section& top, spool_settings& out) {
  const auto s = r.open_child(top, "spool", spool_keys);
  if (!s) return;
  // An empty dir (e.g. "${SPOOL_DIR:-}") means no spool, like leaving the key out.
  if (auto t = r.text(*s, "dir"); t && !t->value.empty()) out.dir = std::move(t->value);
}

void read_sentinel(reader& r, const section& redis, redis_settings& out) {
  if (!redis.find("sentinel") || redis.value("sentinel").IsNull()) return;
  const auto s = r.open_child(redis, "sentinel", sentinel_keys);
  if (!s) return;
  redis_sentinel_settings sentinel;
  if (!s->find("master_name")) r.report(s->line, s->key("master_name"), "is required");
  r.read_string(*s, "master_name", sentinel.master_name, true);
  const field* list = s->find("addresses");
  if (!list || !list->value.IsSequence() || list->value.size() == 0) {
    r.report(list ? line_of(list->key) : s->line, s->key("addresses"),
             "expected a list of sentinel addresses (\"host:port\"), at least one");
  } else {
    for (std::size_t i = 0; i < list->value.size(); ++i) {
      const YAML::Node item = list->value[i];
      const std::string key = s->key("addresses") + "[" + std::to_string(i) + "]";
      // Names, not only addresses: sentinels on Kubernetes are known by their pods' DNS names.
      auto address =
          item.IsScalar() ? parse_server_address(item.Scalar()) : parsed<listen_address>{};
      if (!item.IsScalar() || !address.value) {
        r.report(line_of(item), key,
                 "expected \"host:port\"" + (address.error.empty() ? "" : ": " + address.error));
        continue;
      }
      sentinel.addresses.push_back(*address.value);
    }
  }
  sentinel.password = optional_secret(r, *s, "password");
  out.sentinel = std::move(sentinel);
}

void read_redis(reader& r, const section& top, std::optional<redis_settings>& out) {
  if (!top.find("redis") || top.value("redis").IsNull()) return;
  const auto s = r.open_child(top, "redis", redis_keys);
  if (!s) return;
  redis_settings redis;
  // With sentinel the primary's address comes from the sentinels; url may still say rediss://,
  // the user and the database.
  const bool with_sentinel = s->find("sentinel") && !s->value("sentinel").IsNull();
  if (!s->find("url") && !with_sentinel) {
    r.report(s->line, s->key("url"), "is required when redis is set (unless redis.sentinel is)");
  }
  if (auto t = r.text(*s, "url")) {
    if (!t->value.starts_with("redis://") && !t->value.starts_with("rediss://")) {
      r.report(t->line, t->key, "must start with redis:// or rediss:// (TLS)");
    } else {
      redis.url = std::move(t->value);
    }
  }
  redis.password = optional_secret(r, *s, "password");
  if (!s->value("tls").IsNull() && s->find("tls")) {
    if (const auto tls = r.open_child(*s, "tls", redis_tls_keys)) {
      r.read_string(*tls, "ca_file", redis.tls_ca_file, true);
    }
  }
  read_sentinel(r, *s, redis);
  r.read_string(*s, "key_prefix", redis.key_prefix, true);
  r.read_duration(*s, "timeout", redis.timeout);
  r.read_duration(*s, "lease", redis.lease);
  r.read_integer(*s, "min_replica_acks", redis.min_replica_acks, 0, 16);
  if (redis.lease < 3 * redis.timeout) {
    const field* f = s->find("lease");
    r.report(f ? line_of(f->key) : s->line, s->key("lease"),
             "must be at least 3 times redis.timeout: the lease is renewed at a third of it, "
             "and a renewal may take a whole timeout");
  }
  out = std::move(redis);
}

void read_replies(reader& r, const section& top, reply_settings& out) {
  const auto s = r.open_child(top, "replies", replies_keys);
  if (!s) return;
  r.read_string(*s, "fallback_text", out.fallback_text, true);
  r.read_string(*s, "unsupported_text", out.unsupported_text, true);
  r.read_bool(*s, "typing_indicator", out.typing_indicator);
  r.read_integer(*s, "max_parts", out.max_parts, 1, 100);
  r.read_string(*s, "cut_notice", out.cut_notice, true);
}

void read_logging(reader& r, const section& top, logging_settings& out) {
  const auto s = r.open_child(top, "logging", logging_keys);
  if (!s) return;
  constexpr std::array<std::pair<std::string_view, std::string_view>, 7> levels = {
      std::pair{"trace"sv, "trace"sv}, std::pair{"debug"sv, "debug"sv},
      std::pair{"info"sv, "info"sv},   std::pair{"warn"sv, "warn"sv},
      std::pair{"error"sv, "error"sv}, std::pair{"critical"sv, "critical"sv},
      std::pair{"off"sv, "off"sv}};
  std::string_view level = out.level;
  r.read_choice(*s, "level", level, levels);
  out.level = std::string(level);
  constexpr std::array<std::pair<std::string_view, log_format>, 2> formats = {
      std::pair{"json"sv, log_format::json}, std::pair{"text"sv, log_format::text}};
  r.read_choice(*s, "format", out.format, formats);
  r.read_bool(*s, "redact_phone_numbers", out.redact_phone_numbers);
}

void read_shutdown(reader& r, const section& top, shutdown_settings& out) {
  const auto s = r.open_child(top, "shutdown", shutdown_keys);
  if (!s) return;
  r.read_duration(*s, "grace", out.grace);
}

// The line (1-based) of a "---" that starts a second YAML document, or 0 when there is none.
// Found in the text because yaml-cpp 0.7's LoadAll can loop forever on some malformed input
// (found by tests/fuzz/config_fuzz), while Load, which reads one document, does not.
int second_document_line(std::string_view text) {
  bool content_seen = false;
  int line = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view row = text.substr(start, end - start);
    ++line;
    const bool marker = row.starts_with("---") &&
                        (row.size() == 3 || row[3] == ' ' || row[3] == '\t' || row[3] == '\r');
    if (marker && content_seen) return line;
    const auto first = row.find_first_not_of(" \t\r");
    if (!marker && first != std::string_view::npos && row[first] != '#' &&
        !row.starts_with("...") && !row.starts_with("%")) {
      content_seen = true;
    }
    start = end + 1;
  }
  return 0;
}

// Parses the text into one YAML document; a syntax error is the one problem reported.
std::optional<YAML::Node> parse_document(std::string_view yaml_text, reader& r) {
  YAML::Node document;
  try {
    document = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    r.report(e.mark.is_null() ? 0 : e.mark.line + 1, "", "YAML syntax error: " + e.msg);
    return std::nullopt;
  }
  if (const int line = second_document_line(yaml_text); line != 0) {
    r.report(line, "", "holds more than one YAML document; put the whole configuration in one");
  }
  return document;
}

// Problems in the order of the file, so the list reads along with it; those without a line last.
std::vector<problem> in_file_order(std::vector<problem> problems) {
  std::stable_sort(problems.begin(), problems.end(), [](const problem& a, const problem& b) {
    const auto order = [](const problem& p) { return p.line == 0 ? INT_MAX : p.line; };
    return order(a) < order(b);
  });
  return problems;
}

}  // namespace

settings load_string(std::string_view yaml_text, std::string_view file_name,
                     const environment& env) {
  reader r(std::string(file_name), env);
  settings out;
  out.source_file = std::string(file_name);

  const std::optional<YAML::Node> root = parse_document(yaml_text, r);
  if (!root) throw config_error(std::move(r.problems()));
  if (!root->IsNull() && !root->IsMap()) {
    r.report(line_of(*root), "",
             "expected a mapping of sections (server, meta, robofy, routes, ...), got " +
                 std::string(kind_of(*root)));
    throw config_error(std::move(r.problems()));
  }
  const auto top = r.open(*root, "", top_keys, 0);

  read_server(r, *top, out.server);
  read_admin(r, *top, out.admin);
  int access_token_line = 0;
  const secret::state access_token = read_meta(r, *top, out.meta, access_token_line);
  read_robofy(r, *top, out.robofy);
  std::vector<std::size_t> without_token;
  read_routes(r, *top, out.routes, without_token);
  read_queue(r, *top, out.queue);
  read_spool(r, *top, out.spool);
  read_redis(r, *top, out.redis);
  if (out.redis && out.spool.dir) {
    const field* f = top->find("redis");
    r.report(f ? line_of(f->key) : 0, "redis",
             "cannot be used with spool.dir: several replicas keep everything in Redis (remove "
             "spool.dir), one process keeps it in its spool (remove redis)");
  }
  read_replies(r, *top, out.replies);
  read_handover(r, *top, out.handover);
  read_dead_letters(r, *top, out.dead_letters);
  read_logging(r, *top, out.logging);
  read_shutdown(r, *top, out.shutdown);

  // meta.access_token is the default Graph token: needed unless every route brings its own.
  const bool default_missing =
      access_token == secret::state::absent || access_token == secret::state::empty;
  if (default_missing && !without_token.empty()) {
    std::string message = access_token == secret::state::empty
                              ? "must not be empty"
                              : "is required (set access_token or access_token_file)";
    message += " unless every route sets access_token; routes[" +
               std::to_string(without_token.front()) + "] does not";
    r.report(access_token_line, "meta.access_token", std::move(message));
  }

  if (!r.problems().empty()) throw config_error(in_file_order(std::move(r.problems())));
  if (r.holds_literal_secret()) {
    if (const auto mode = readable_by_others(std::string(file_name))) {
      r.warn(0, "",
             "the file holds secrets and is readable by group or others (mode " + *mode +
                 "); chmod 600 it, or take the secrets from the environment or *_file");
    }
  }
  const std::string& admin_host = out.admin.listen.host;
  if (out.admin.token.empty() && admin_host != "127.0.0.1" && admin_host != "::1" &&
      admin_host != "localhost") {
    r.warn(0, "admin.token",
           "is not set while admin.listen (" + admin_host +
               ") is not loopback: the control paths stay closed (403) and /metrics is open to "
               "anyone who reaches the port; set admin.token (or admin.token_file)");
  }
  out.warnings = std::move(r.warnings());
  return out;
}

settings load_file(const std::string& path, const environment& env) {
  std::error_code ec;
  std::string reason;
  if (std::filesystem::is_directory(path, ec)) {
    reason = "is a directory";
  } else {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::ostringstream text;
      text << in.rdbuf();
      if (!in.bad()) return load_string(text.str(), path, env);
    }
    reason = describe_errno(errno);
  }
  throw config_error({problem{path, 0, "", "cannot read the configuration file: " + reason}});
}

}  // namespace bridge::config
