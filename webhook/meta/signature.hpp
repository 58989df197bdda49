#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>

namespace bridge::webhook::meta {

// Outcome of checking X-Hub-Signature-256; only `ok` lets a body through.
enum class signature_status { ok, missing, malformed, mismatch };

class signature_key;
// An app secret's keyed HMAC context and the pool of copies lent to checks (signature.cpp).
struct keyed_hmac;

// One body's HMAC computed as the body arrives (the listener feeds each read to it), then
// compared with the header: no second pass over the body. Made by signature_key::begin(). Its
// state is held inline (no allocation per check: one is made for every delivery).
class signature_check {
 public:
  ~signature_check();
  signature_check(signature_check&& other) noexcept;
  signature_check& operator=(signature_check&& other) noexcept;
  signature_check(const signature_check&) = delete;
  signature_check& operator=(const signature_check&) = delete;

  // Adds the next bytes of the body. Never throws.
  void update(std::string_view bytes) noexcept;
  // Compares the HMAC of everything added with `header_value` ("sha256=" + 64 hex digits), in
  // constant time; an empty header is `missing`. Call once, after the last update(). Never throws.
  signature_status finish(std::string_view header_value) noexcept;

 private:
  friend class signature_key;
  signature_check(std::shared_ptr<keyed_hmac> key, EVP_MAC_CTX* ctx, bool healthy) noexcept;
  // Gives the context back to the key's pool (or frees it); leaves this check empty.
  void release() noexcept;

  std::shared_ptr<keyed_hmac> key_;  // where the context goes back to
  EVP_MAC_CTX* ctx_ = nullptr;  // owned; restarted and fed as the body arrives; null once moved
  bool healthy_ = false;        // false once OpenSSL failed or finish() ran
};

// An app secret made ready to check X-Hub-Signature-256: the HMAC-SHA256 algorithm is fetched
// and keyed once, when the secret is loaded, and each check restarts that one keyed context.
// (OpenSSL 3's one-shot HMAC() fetches the algorithm and builds and frees a context, with a
// dozen allocations, on every call: ~13% of an accepted webhook's instructions; BENCHMARKS.md.)
// The context is reused, so one key serves one thread: the listener's event loop.
class signature_key {
 public:
  // An empty secret makes a key that never verifies (though it signs), so a missing
  // configuration cannot open the door. Throws std::runtime_error if OpenSSL cannot provide
  // HMAC-SHA256, std::bad_alloc.
  explicit signature_key(std::string_view app_secret);
  ~signature_key();
  signature_key(signature_key&&) noexcept;
  signature_key& operator=(signature_key&&) noexcept;
  signature_key(const signature_key&) = delete;
  signature_key& operator=(const signature_key&) = delete;

  // Verifies `header_value` ("sha256=" + 64 hex digits, either case) as HMAC-SHA256 of the raw
  // `body`, in constant time. An empty header is `missing`. Never throws.
  signature_status verify(std::string_view header_value, std::string_view body) noexcept;
  // "sha256=<64 lowercase hex>" for `body` (the simulator and tests sign with it).
  std::string sign(std::string_view body);
  // Starts a check of a body that arrives in pieces. Its keyed context comes from a small pool
  // of this key's contexts, so a check costs no allocation once the pool is warm; the check
  // stays valid after the key is replaced or destroyed. Throws std::bad_alloc.
  signature_check begin();

 private:
  std::shared_ptr<keyed_hmac> mac_;  // null only after a move
};

// One-off forms of signature_key(app_secret).verify / .sign, for callers that check once.
signature_status verify_signature(std::string_view app_secret, std::string_view header_value,
                                  std::string_view body) noexcept;
std::string sign_body(std::string_view app_secret, std::string_view body);

// Returns "ok", "missing", "malformed" or "mismatch" (log and metric label). Never throws.
std::string_view to_string(signature_status status) noexcept;

}  // namespace bridge::webhook::meta
