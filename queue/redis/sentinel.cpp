#include "queue/redis/sentinel.hpp"

#include <charconv>
#include <sstream>

namespace bridge::queue::redis {

namespace {

std::optional<std::uint16_t> port_of(std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

std::optional<server_address> address_of(std::string_view host, std::string_view port) {
  const auto p = port_of(port);
  if (host.empty() || !p) return std::nullopt;
  return server_address{std::string(host), *p};
}

bool text_is(const reply& r, std::string_view expected) noexcept {
  const auto t = r.text();
  return t && *t == expected;
}

}  // namespace

std::string server_address::to_string() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<server_address> parse_master_address(const reply& r) {
  const auto& parts = r.elements();
  if (!r.is_array() || parts.size() != 2) return std::nullopt;
  const auto host = parts[0].text();
  const auto port = parts[1].text();
  if (!host || !port) return std::nullopt;
  return address_of(*host, *port);
}

std::string_view role_of(const reply& r) noexcept {
  if (!r.is_array() || r.elements().empty()) return {};
  return r.elements().front().text().value_or(std::string_view{});
}

std::optional<switch_notice> parse_switch_notice(const reply& r) {
  const auto& parts = r.elements();
  if (!r.is_array() || parts.size() != 3 || !text_is(parts[0], "message") ||
      !text_is(parts[1], "+switch-master")) {
    return std::nullopt;
  }
  const auto payload = parts[2].text();
  if (!payload) return std::nullopt;
  std::istringstream words{std::string(*payload)};
  std::string name, old_host, old_port, new_host, new_port, extra;
  if (!(words >> name >> old_host >> old_port >> new_host >> new_port) || (words >> extra)) {
    return std::nullopt;
  }
  auto from = address_of(old_host, old_port);
  auto to = address_of(new_host, new_port);
  if (!from || !to) return std::nullopt;
  return switch_notice{std::move(name), std::move(*from), std::move(*to)};
}

bool is_pong(const reply& r) noexcept {
  if (r.type() == reply_type::status) return text_is(r, "PONG");
  return r.is_array() && !r.elements().empty() && text_is(r.elements().front(), "pong");
}

}  // namespace bridge::queue::redis
