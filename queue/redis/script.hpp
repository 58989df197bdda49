#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace bridge::queue::redis {

// A Lua script, run with EVALSHA by its SHA-1 (client::run_script loads it on NOSCRIPT). Copies
// are cheap and share the text, so callers pass scripts by value.
class script {
 public:
  // Keeps the source and computes its SHA-1. Throws std::runtime_error if OpenSSL cannot hash
  // (a broken installation: a start-up error).
  explicit script(std::string source);

  // The Lua text, as sent with SCRIPT LOAD.
  const std::string& source() const noexcept { return body_->source; }
  // The SHA-1 of source() as 40 lowercase hex digits: the name Redis knows the script by.
  const std::string& sha1() const noexcept { return body_->sha1; }

 private:
  struct body {
    std::string source;
    std::string sha1;
  };
  std::shared_ptr<const body> body_;
};

// The SHA-1 of bytes as 40 lowercase hex digits (OpenSSL EVP). Throws std::runtime_error if
// OpenSSL fails.
std::string sha1_hex(std::string_view bytes);

}  // namespace bridge::queue::redis
