#include "config/hygiene.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <cstdio>

namespace bridge::config {

std::optional<std::string> readable_by_others(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return std::nullopt;
  const auto mode = static_cast<unsigned>(info.st_mode & 07777);
  if ((mode & (S_IRGRP | S_IROTH)) == 0) return std::nullopt;
  char octal[8];
  std::snprintf(octal, sizeof octal, "%04o", mode);
  return std::string(octal);
}

namespace {

// True for "localhost" and for address literals in 127.0.0.0/8 or ::1. A name that merely starts
// with "127." (127.example.com) may resolve anywhere, so only a literal counts.
bool is_loopback_host(std::string_view host, bool bracketed) {
  if (!bracketed && host == "localhost") return true;
  if (host.size() >= INET6_ADDRSTRLEN) return false;
  char literal[INET6_ADDRSTRLEN] = {};
  host.copy(literal, host.size());
  if (bracketed) {
    in6_addr v6{};
    return ::inet_pton(AF_INET6, literal, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
  }
  in_addr v4{};
  return ::inet_pton(AF_INET, literal, &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

}  // namespace

bool is_cleartext_remote(std::string_view base_url) noexcept {
  constexpr std::string_view plain = "http://";
  if (!base_url.starts_with(plain)) return false;
  std::string_view host = base_url.substr(plain.size());
  const bool bracketed = host.starts_with('[');
  if (bracketed) {
    host =
        host.substr(1, host.find(']') == std::string_view::npos ? host.size() : host.find(']') - 1);
  } else {
    host = host.substr(0, host.find_first_of(":/"));
  }
  return !is_loopback_host(host, bracketed);
}

}  // namespace bridge::config
