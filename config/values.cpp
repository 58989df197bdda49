#include "config/values.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace bridge::config {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  return true;
}

std::optional<unsigned> parse_port(std::string_view s) {
  if (!all_digits(s) || s.size() > 5) return std::nullopt;
  unsigned port = 0;
  std::from_chars(s.data(), s.data() + s.size(), port);
  if (port > 65535) return std::nullopt;
  return port;
}

bool is_ipv4(const std::string& host) {
  in_addr a{};
  return inet_pton(AF_INET, host.c_str(), &a) == 1;
}

bool is_ipv6(const std::string& host) {
  in6_addr a{};
  return inet_pton(AF_INET6, host.c_str(), &a) == 1;
}

// A DNS name as typed in a configuration: letters, digits, '-', '_' and '.', not starting with a
// dot or a dash (no spaces or stray punctuation from a typo).
bool is_host_name(std::string_view host) {
  if (host.empty() || host.front() == '.' || host.front() == '-') return false;
  for (char c : host) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!letter && !is_digit(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

template <class T>
parsed<T> refuse(std::string message) {
  return parsed<T>{std::nullopt, std::move(message)};
}

}  // namespace

parsed<listen_address> parse_listen_address(std::string_view text) {
  using result = listen_address;
  std::string host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return refuse<result>("missing ']' after IPv6 address");
    host = std::string(text.substr(1, close - 1));
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      return refuse<result>("expected host:port, e.g. \"[::1]:8443\"");
    }
    port_text = text.substr(close + 2);
    if (!is_ipv6(host)) return refuse<result>("host in brackets must be an IPv6 address");
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return refuse<result>("expected host:port, e.g. \"0.0.0.0:8443\"");
    }
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      return refuse<result>("write an IPv6 host in brackets, e.g. \"[::1]:8443\"");
    }
    // Addresses only (and "localhost", which the listener maps to 127.0.0.1): binding must not
    // depend on name resolution.
    if (!is_ipv4(host) && host != "localhost") {
      return refuse<result>(
          "host must be an IP address or localhost, e.g. \"0.0.0.0\", \"127.0.0.1\" or \"[::]\"");
    }
  }
  const std::optional<unsigned> port = parse_port(port_text);
  if (!port) return refuse<result>("port must be a number from 0 to 65535");
  return parsed<result>{listen_address{std::move(host), static_cast<std::uint16_t>(*port)}, {}};
}

parsed<listen_address> parse_server_address(std::string_view text) {
  using result = listen_address;
  if (!text.empty() && text.front() == '[') {
    parsed<result> p = parse_listen_address(text);
    if (p.value && p.value->port == 0)
      return refuse<result>("port must be a number from 1 to 65535");
    return p;
  }
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return refuse<result>("expected host:port, e.g. \"sentinel-0:26379\"");
  }
  const std::string_view host = text.substr(0, colon);
  if (host.find(':') != std::string_view::npos) {
    return refuse<result>("write an IPv6 host in brackets, e.g. \"[::1]:26379\"");
  }
  if (!is_host_name(host)) return refuse<result>("host must be a DNS name or an IP address");
  const std::optional<unsigned> port = parse_port(text.substr(colon + 1));
  if (!port || *port == 0) return refuse<result>("port must be a number from 1 to 65535");
  return parsed<result>{listen_address{std::string(host), static_cast<std::uint16_t>(*port)}, {}};
}

parsed<std::string> normalize_base_url(std::string_view text) {
  using result = std::string;
  std::string_view rest;
  std::string_view scheme;
  if (text.starts_with("https://")) {
    scheme = "https://";
  } else if (text.starts_with("http://")) {
    scheme = "http://";
  } else {
    return refuse<result>("must start with \"https://\" or \"http://\"");
  }
  rest = text.substr(scheme.size());
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.empty()) return refuse<result>("has no host");
  for (char c : rest) {
    if (c == '/') return refuse<result>("must not have a path (the bridge adds it)");
    // No query, fragment or user info: credentials belong in the secret keys, not in a URL.
    if (c == '?' || c == '#' || c == '@' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return refuse<result>("must be scheme and host[:port] only");
    }
  }
  // Validate an explicit port, after an IPv6 literal's closing bracket if there is one.
  std::string_view after_host = rest;
  if (rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos || !is_ipv6(std::string(rest.substr(1, close - 1)))) {
      return refuse<result>("has an invalid IPv6 host");
    }
    after_host = rest.substr(close + 1);
    if (!after_host.empty() && after_host.front() != ':') {
      return refuse<result>("must be scheme and host[:port] only");
    }
  }
  const std::size_t colon = after_host.find(':');
  if (colon != std::string_view::npos) {
    if (rest.front() != '[' && colon == 0) return refuse<result>("has no host");
    const std::optional<unsigned> port = parse_port(after_host.substr(colon + 1));
    if (!port || *port == 0) return refuse<result>("has an invalid port");
  }
  return parsed<result>{std::string(scheme) + std::string(rest), {}};
}

bool is_graph_api_version(std::string_view text) {
  if (!text.starts_with('v')) return false;
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos) return false;
  return all_digits(text.substr(1, dot - 1)) && all_digits(text.substr(dot + 1));
}

bool is_webhook_path(std::string_view text) {
  if (!text.starts_with('/')) return false;
  for (char c : text) {
    if (c == '?' || c == '#' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  }
  return true;
}

}  // namespace bridge::config
