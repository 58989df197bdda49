#include "webhook/meta/signature.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

namespace bridge::webhook::meta {
namespace {

constexpr std::string_view signature_prefix = "sha256=";
constexpr std::size_t digest_size = 32;
using digest = std::array<unsigned char, digest_size>;

// The value of each hex digit by byte, -1 for every other byte: one load per digit, no
// branches that a 64-digit header mispredicts.
constexpr std::array<std::int8_t, 256> hex_values = [] {
  std::array<std::int8_t, 256> values{};
  values.fill(-1);
  for (int d = 0; d < 10; ++d)
    values['0' + d] = static_cast<std::int8_t>(d);
  for (int d = 0; d < 6; ++d) {
    values['a' + d] = static_cast<std::int8_t>(10 + d);
    values['A' + d] = static_cast<std::int8_t>(10 + d);
  }
  return values;
}();

// Reads the 64 hex digits after "sha256="; false for any other shape.
bool parse_claimed_digest(std::string_view header_value, digest& out) noexcept {
  if (!header_value.starts_with(signature_prefix)) return false;
  const std::string_view hex = header_value.substr(signature_prefix.size());
  if (hex.size() != 2 * digest_size) return false;
  // Every digit is decoded before the one check, so the loop has no early exit to predict.
  int invalid = 0;
  for (std::size_t i = 0; i < digest_size; ++i) {
    const int high = hex_values[static_cast<unsigned char>(hex[2 * i])];
    const int low = hex_values[static_cast<unsigned char>(hex[2 * i + 1])];
    invalid |= high | low;
    out[i] = static_cast<unsigned char>(high * 16 + low);
  }
  return invalid >= 0;
}

struct mac_ctx_free {
  void operator()(EVP_MAC_CTX* ctx) const noexcept { EVP_MAC_CTX_free(ctx); }
};
using mac_ctx_ptr = std::unique_ptr<EVP_MAC_CTX, mac_ctx_free>;

// The HMAC algorithm, fetched once per process: fetching walks OpenSSL's provider tables under a
// lock, which is what made the one-shot HMAC() expensive.
EVP_MAC* hmac_algorithm() {
  static EVP_MAC* const algorithm = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
  return algorithm;
}

}  // namespace

struct keyed_hmac {
  mac_ctx_ptr ctx;  // keyed; restarted for each body
  bool may_verify;  // false for an empty secret
  // Keyed copies lent to signature_checks and given back when they end: one per http::request being
  // read at once, kept up to a bound so a burst does not pin memory for ever.
  std::vector<mac_ctx_ptr> spare;
  static constexpr std::size_t max_spare = 64;
};

signature_key::signature_key(std::string_view app_secret) {
  EVP_MAC* algorithm = hmac_algorithm();
  if (algorithm == nullptr) throw std::runtime_error("OpenSSL provides no HMAC");
  mac_ctx_ptr ctx(EVP_MAC_CTX_new(algorithm));
  if (!ctx) throw std::bad_alloc();
  char digest_name[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end()};
  // An empty view may carry a null pointer, which OpenSSL would read as "no key".
  static constexpr unsigned char no_bytes[1] = {0};
  const auto* key =
      app_secret.empty() ? no_bytes : reinterpret_cast<const unsigned char*>(app_secret.data());
  if (EVP_MAC_init(ctx.get(), key, app_secret.size(), params) != 1) {
    throw std::runtime_error("OpenSSL could not key HMAC-SHA256");
  }
  mac_ = std::make_shared<keyed_hmac>(keyed_hmac{std::move(ctx), !app_secret.empty(), {}});
}

signature_key::~signature_key() = default;
signature_key::signature_key(signature_key&&) noexcept = default;
signature_key& signature_key::operator=(signature_key&&) noexcept = default;

namespace {

// HMAC-SHA256 of body. Initialising with no key restarts the context from the key it holds
// (documented for EVP_MAC_init), without allocating. False only if OpenSSL fails.
bool mac_of(EVP_MAC_CTX* ctx, std::string_view body, digest& out) noexcept {
  std::size_t length = 0;
  static constexpr unsigned char empty[1] = {0};
  const auto* data = body.empty() ? empty : reinterpret_cast<const unsigned char*>(body.data());
  return EVP_MAC_init(ctx, nullptr, 0, nullptr) == 1 &&
         EVP_MAC_update(ctx, data, body.size()) == 1 &&
         EVP_MAC_final(ctx, out.data(), &length, out.size()) == 1 && length == digest_size;
}

// Compares the claimed digest of `header_value` with `expected` (computed when `computed`).
signature_status compare(std::string_view header_value, bool may_verify, bool computed,
                         const digest& expected) noexcept {
  if (header_value.empty()) return signature_status::missing;
  digest claimed{};
  if (!parse_claimed_digest(header_value, claimed)) return signature_status::malformed;
  if (!may_verify || !computed) return signature_status::mismatch;
  // Constant time: a timing side channel must not reveal how many leading bytes matched.
  return CRYPTO_memcmp(expected.data(), claimed.data(), digest_size) == 0
             ? signature_status::ok
             : signature_status::mismatch;
}

}  // namespace

signature_status signature_key::verify(std::string_view header_value,
                                       std::string_view body) noexcept {
  digest claimed{};
  // A header of the wrong shape is refused without spending an HMAC on the body.
  if (!parse_claimed_digest(header_value, claimed)) return compare(header_value, false, false, {});
  digest expected{};
  const bool may_verify = mac_ && mac_->may_verify;
  const bool computed = may_verify && mac_of(mac_->ctx.get(), body, expected);
  return compare(header_value, may_verify, computed, expected);
}

signature_check::signature_check(std::shared_ptr<keyed_hmac> key, EVP_MAC_CTX* ctx,
                                 bool healthy) noexcept
    : key_(std::move(key)), ctx_(ctx), healthy_(healthy) {}

signature_check::signature_check(signature_check&& other) noexcept
    : key_(std::move(other.key_)),
      ctx_(std::exchange(other.ctx_, nullptr)),
      healthy_(std::exchange(other.healthy_, false)) {}

signature_check& signature_check::operator=(signature_check&& other) noexcept {
  if (this != &other) {
    release();
    key_ = std::move(other.key_);
    ctx_ = std::exchange(other.ctx_, nullptr);
    healthy_ = std::exchange(other.healthy_, false);
  }
  return *this;
}

signature_check::~signature_check() {
  release();
}

void signature_check::release() noexcept {
  mac_ctx_ptr ctx(std::exchange(ctx_, nullptr));
  healthy_ = false;
  if (!ctx || !key_) return;
  auto& spare = key_->spare;
  if (spare.size() < keyed_hmac::max_spare) {
    try {
      spare.push_back(std::move(ctx));
    } catch (...) {
      // Out of memory: the context is simply freed.
    }
  }
}

void signature_check::update(std::string_view bytes) noexcept {
  if (!healthy_ || bytes.empty()) return;
  healthy_ =
      EVP_MAC_update(ctx_, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()) == 1;
}

signature_status signature_check::finish(std::string_view header_value) noexcept {
  digest expected{};
  std::size_t length = 0;
  const bool computed = healthy_ &&
                        EVP_MAC_final(ctx_, expected.data(), &length, expected.size()) == 1 &&
                        length == digest_size;
  healthy_ = false;  // a second finish() must not pass
  // A moved-from check has no key: it verifies nothing.
  return compare(header_value, key_ && key_->may_verify, computed, expected);
}

signature_check signature_key::begin() {
  mac_ctx_ptr ctx;
  if (!mac_->spare.empty()) {
    ctx = std::move(mac_->spare.back());
    mac_->spare.pop_back();
  } else {
    ctx.reset(EVP_MAC_CTX_dup(mac_->ctx.get()));
    if (!ctx) throw std::bad_alloc();
  }
  // Restarting with no key reuses the key the context holds (as mac_of does).
  const bool healthy = EVP_MAC_init(ctx.get(), nullptr, 0, nullptr) == 1;
  return signature_check(mac_, ctx.release(), healthy);
}

std::string signature_key::sign(std::string_view body) {
  digest mac{};
  if (!mac_ || !mac_of(mac_->ctx.get(), body, mac)) {
    throw std::runtime_error("OpenSSL could not compute HMAC-SHA256");
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(signature_prefix);
  out.reserve(signature_prefix.size() + 2 * digest_size);
  for (const unsigned char byte : mac) {
    out.push_back(digits[byte >> 4]);
    out.push_back(digits[byte & 0x0f]);
  }
  return out;
}

signature_status verify_signature(std::string_view app_secret, std::string_view header_value,
                                  std::string_view body) noexcept {
  try {
    return signature_key(app_secret).verify(header_value, body);
  } catch (...) {
    // Only an OpenSSL failure or exhausted memory lands here: refuse rather than let a body in.
    if (header_value.empty()) return signature_status::missing;
    return signature_status::mismatch;
  }
}

std::string sign_body(std::string_view app_secret, std::string_view body) {
  return signature_key(app_secret).sign(body);
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

}  // namespace bridge::webhook::meta
