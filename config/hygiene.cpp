#include "config/hygiene.hpp"

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

bool is_cleartext_remote(std::string_view base_url) noexcept {
  constexpr std::string_view plain = "http://";
  if (!base_url.starts_with(plain)) return false;
  std::string_view host = base_url.substr(plain.size());
  if (host.starts_with('[')) {
    host =
        host.substr(1, host.find(']') == std::string_view::npos ? host.size() : host.find(']') - 1);
  } else {
    host = host.substr(0, host.find_first_of(":/"));
  }
  const bool loopback = host == "localhost" || host == "::1" || host.starts_with("127.");
  return !loopback;
}

}  // namespace bridge::config
