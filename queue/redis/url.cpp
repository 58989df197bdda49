#include "queue/redis/url.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <stdexcept>

namespace bridge::queue::redis {

namespace {

url_error refuse(std::string message) {
  return url_error{std::move(message)};
}

// Host names: letters, digits, '-', '.', '_' (no spaces or stray punctuation from a typo).
bool is_host_name(std::string_view host) {
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
  });
}

bool is_ipv6_text(std::string_view host) {
  return host.find(':') != std::string_view::npos &&
         std::all_of(host.begin(), host.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                  c == ':' || c == '.';
         });
}

template <class Int>
bool parse_number(std::string_view text, Int& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

}  // namespace

std::string url::to_string() const {
  std::string out = tls ? "rediss://" : "redis://";
  if (!user.empty()) out += user + "@";
  // Appended piece by piece: `"[" + host` and `":" + std::to_string(port)` make GCC 12 at -O2/-O3
  // warn of a memcpy bound over PTRDIFF_MAX (-Wstringop-overflow false positive, GCC bug 105651).
  const bool ipv6 = host.find(':') != std::string::npos;
  if (ipv6) out += '[';
  out += host;
  if (ipv6) out += ']';
  out += ':';
  out += std::to_string(port);
  out += '/';
  out += std::to_string(db);
  return out;
}

void throw_exception_from_error(const url_error& e, const boost::source_location&) {
  throw std::invalid_argument(e.message);
}

boost::system::result<url, url_error> parse_url(std::string_view text) {
  url out;
  if (text.starts_with("rediss://")) {
    out.tls = true;
    text.remove_prefix(9);
  } else if (text.starts_with("redis://")) {
    text.remove_prefix(8);
  } else {
    return refuse("the URL must start with redis:// or rediss://");
  }
  if (text.find_first_of("?#") != std::string_view::npos) {
    return refuse("query strings and fragments are not supported in a redis URL");
  }

  const auto slash = text.find('/');
  std::string_view authority = text.substr(0, slash);
  const std::string_view path =
      slash == std::string_view::npos ? std::string_view{} : text.substr(slash + 1);

  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view user = authority.substr(0, at);
    if (user.find(':') != std::string_view::npos) {
      return refuse(
          "a password in the redis URL is refused: put it in redis.password (or password_file)");
    }
    if (user.empty()) return refuse("the user name before '@' is empty");
    out.user = std::string(user);
    authority.remove_prefix(at + 1);
  }

  std::string_view port;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return refuse("'[' of an IPv6 address is not closed");
    const std::string_view host = authority.substr(1, close - 1);
    if (!is_ipv6_text(host)) {
      std::string problem(1, '\'');  // appended, not "'" + ...: see to_string()
      problem += host;
      problem += "' is not an IPv6 address";
      return refuse(problem);
    }
    out.host = std::string(host);
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return refuse("expected ':port' after the IPv6 address");
      port = rest.substr(1);
      has_port = true;
    }
  } else {
    if (std::count(authority.begin(), authority.end(), ':') > 1) {
      return refuse("an IPv6 address needs brackets, as in redis://[::1]:6379");
    }
    const auto colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      has_port = true;
    }
    if (!is_host_name(out.host)) {
      return refuse("'" + out.host + "' is not a valid host name or address");
    }
  }
  if (out.host.empty()) return refuse("the host is missing");
  if (has_port) {
    unsigned value = 0;
    if (!parse_number(port, value) || value == 0 || value > 65535) {
      return refuse("the port must be a number from 1 to 65535, got '" + std::string(port) + "'");
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  if (!path.empty()) {
    int db = 0;
    if (!parse_number(path, db) || db < 0) {
      return refuse("the database must be a number, as in /0; got '/" + std::string(path) + "'");
    }
    out.db = db;
  }
  return out;
}

}  // namespace bridge::queue::redis
