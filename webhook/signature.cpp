#include "webhook/signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <climits>
#include <cstdint>

namespace bridge::webhook {
namespace {

constexpr std::string_view signature_prefix = "sha256=";
constexpr std::size_t digest_size = 32;
using digest = std::array<unsigned char, digest_size>;

// HMAC-SHA256 of body under key; false only if OpenSSL fails (it does not for SHA-256 in practice).
bool hmac_sha256(std::string_view key, std::string_view body, digest& out) noexcept {
  if (key.size() > static_cast<std::size_t>(INT_MAX)) return false;
  unsigned int length = 0;
  // An empty view may carry a null pointer, which OpenSSL would read as "no key".
  static constexpr unsigned char empty[1] = {0};
  const void* key_data = key.empty() ? static_cast<const void*>(empty) : key.data();
  const auto* data = body.empty() ? empty : reinterpret_cast<const unsigned char*>(body.data());
  const unsigned char* result = HMAC(EVP_sha256(), key_data, static_cast<int>(key.size()), data,
                                     body.size(), out.data(), &length);
  return result != nullptr && length == digest_size;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

signature_status verify_signature(std::string_view app_secret, std::string_view header_value,
                                  std::string_view body) noexcept {
  if (header_value.empty()) return signature_status::missing;
  if (!header_value.starts_with(signature_prefix)) return signature_status::malformed;
  const std::string_view hex = header_value.substr(signature_prefix.size());
  if (hex.size() != 2 * digest_size) return signature_status::malformed;

  digest claimed{};
  for (std::size_t i = 0; i < digest_size; ++i) {
    const int high = hex_value(hex[2 * i]);
    const int low = hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) return signature_status::malformed;
    claimed[i] = static_cast<unsigned char>(high * 16 + low);
  }

  if (app_secret.empty()) return signature_status::mismatch;
  digest expected{};
  if (!hmac_sha256(app_secret, body, expected)) return signature_status::mismatch;
  // Constant time: a timing side channel must not reveal how many leading bytes matched.
  return CRYPTO_memcmp(expected.data(), claimed.data(), digest_size) == 0
             ? signature_status::ok
             : signature_status::mismatch;
}

std::string sign_body(std::string_view app_secret, std::string_view body) {
  digest mac{};
  hmac_sha256(app_secret, body, mac);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(signature_prefix);
  out.reserve(signature_prefix.size() + 2 * digest_size);
  for (const unsigned char byte : mac) {
    out.push_back(digits[byte >> 4]);
    out.push_back(digits[byte & 0x0f]);
  }
  return out;
}

std::string_view to_string(signature_status status) noexcept {
  switch (status) {
    case signature_status::ok:
      return "ok";
    case signature_status::missing:
      return "missing";
    case signature_status::malformed:
      return "malformed";
    case signature_status::mismatch:
      return "mismatch";
  }
  return "unknown";
}

}  // namespace bridge::webhook
