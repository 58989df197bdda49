#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/settings.hpp"

// Checks for single configuration values, kept apart from YAML so they can be tested on their own.
namespace bridge::config {

// A parsed value, or why the text was refused (a message that does not repeat the text).
template <class T>
struct parsed {
  std::optional<T> value;
  std::string error;
};

// Parses "host:port" where host is an IPv4 literal, "localhost", or a bracketed IPv6 literal
// ("[::1]:8443", stored without brackets) and port is 0..65535 (0: any free port). Never throws.
parsed<listen_address> parse_listen_address(std::string_view text);

// Parses "host:port" of a server to connect to: host is a DNS name, an IPv4 literal or a bracketed
// IPv6 literal (stored without brackets), port is 1..65535. Names are resolved when connecting,
// so they may name pods whose addresses change. Never throws.
parsed<listen_address> parse_server_address(std::string_view text);

// Checks an upstream base URL: "http://" or "https://", a host with an optional port, and no path
// except one trailing "/", which is removed. Never throws.
parsed<std::string> normalize_base_url(std::string_view text);

// True for a Graph API version such as "v21.0": "v", digits, ".", digits.
bool is_graph_api_version(std::string_view text);

// Checks a webhook path: starts with "/", no query, fragment, spaces or control characters.
bool is_webhook_path(std::string_view text);

}  // namespace bridge::config
