#include "queue/redis/reply.hpp"

#include <algorithm>
#include <array>
#include <ostream>
#include <utility>

namespace bridge::queue::redis {

server_error classify_server_error(std::string_view message) noexcept {
  const std::string_view word = message.substr(0, message.find(' '));
  // The whole first word is compared: BUSYKEY is not BUSY.
  static constexpr std::array<std::pair<std::string_view, server_error>, 10> known{{
      {"OOM", server_error::oom},
      {"READONLY", server_error::readonly},
      {"LOADING", server_error::loading},
      {"NOREPLICAS", server_error::noreplicas},
      {"NOSCRIPT", server_error::noscript},
      {"BUSY", server_error::busy},
      {"MASTERDOWN", server_error::masterdown},
      {"NOAUTH", server_error::auth},
      {"WRONGPASS", server_error::auth},
      {"WRONGTYPE", server_error::wrongtype},
  }};
  for (const auto& [prefix, kind] : known) {
    if (word == prefix) return kind;
  }
  return server_error::other;
}

bool is_transient(server_error kind) noexcept {
  switch (kind) {
    case server_error::oom:
    case server_error::readonly:
    case server_error::loading:
    case server_error::noreplicas:
    case server_error::busy:
    case server_error::masterdown:
      return true;
    default:
      return false;
  }
}

std::string_view to_string(server_error kind) noexcept {
  switch (kind) {
    case server_error::none:
      return "none";
    case server_error::oom:
      return "oom";
    case server_error::readonly:
      return "readonly";
    case server_error::loading:
      return "loading";
    case server_error::noreplicas:
      return "noreplicas";
    case server_error::noscript:
      return "noscript";
    case server_error::busy:
      return "busy";
    case server_error::masterdown:
      return "masterdown";
    case server_error::auth:
      return "auth";
    case server_error::wrongtype:
      return "wrongtype";
    case server_error::other:
      return "other";
  }
  return "other";
}

reply reply::make_integer(long long value) {
  reply r;
  r.type_ = reply_type::integer;
  r.integer_ = value;
  return r;
}

reply reply::make_status(std::string text) {
  reply r;
  r.type_ = reply_type::status;
  r.text_ = std::move(text);
  return r;
}

reply reply::make_string(std::string bytes) {
  reply r;
  r.type_ = reply_type::string;
  r.text_ = std::move(bytes);
  return r;
}

reply reply::make_error(std::string message) {
  reply r;
  r.type_ = reply_type::error;
  r.error_kind_ = classify_server_error(message);
  r.text_ = std::move(message);
  return r;
}

reply reply::make_array(std::vector<reply> elements) {
  reply r;
  r.type_ = reply_type::array;
  r.elements_ = std::move(elements);
  return r;
}

std::optional<long long> reply::integer() const noexcept {
  if (type_ != reply_type::integer) return std::nullopt;
  return integer_;
}

std::optional<std::string_view> reply::text() const noexcept {
  if (type_ != reply_type::string && type_ != reply_type::status) return std::nullopt;
  return std::string_view(text_);
}

std::string_view reply::error_message() const noexcept {
  return type_ == reply_type::error ? std::string_view(text_) : std::string_view{};
}

std::string reply::describe() const {
  // Enough to recognise a value in a log line without flooding it.
  static constexpr std::size_t max_text = 64;
  const auto cut = [](const std::string& s) {
    std::string out(s, 0, std::min(s.size(), max_text));
    if (s.size() > max_text) out.append("...");
    return out;
  };
  switch (type_) {
    case reply_type::nil:
      return "(nil)";
    // A prefix appended to, not `"literal" + std::string`: GCC 12 at -O2/-O3 warns of a memcpy
    // bound over PTRDIFF_MAX there (-Wstringop-overflow false positive, GCC bug 105651).
    case reply_type::integer:
      return std::string("(integer) ").append(std::to_string(integer_));
    case reply_type::status:
      return cut(text_);
    case reply_type::string:
      return std::string("\"").append(cut(text_)).append("\"");
    case reply_type::error:
      return std::string("(error) ").append(cut(text_));
    case reply_type::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < elements_.size(); ++i) {
        if (i > 0) out += ", ";
        out += elements_[i].describe();
      }
      return out + "]";
    }
  }
  return "(unknown)";
}

std::ostream& operator<<(std::ostream& out, const reply& r) {
  return out << r.describe();
}

std::ostream& operator<<(std::ostream& out, server_error kind) {
  return out << to_string(kind);
}

}  // namespace bridge::queue::redis
