#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace bridge::webhook {

// Outcome of checking X-Hub-Signature-256; only `ok` lets a body through.
enum class signature_status { ok, missing, malformed, mismatch };

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

 private:
  struct keyed_mac;
  std::unique_ptr<keyed_mac> mac_;  // null only after a move
};

// One-off forms of signature_key(app_secret).verify / .sign, for callers that check once.
signature_status verify_signature(std::string_view app_secret, std::string_view header_value,
                                  std::string_view body) noexcept;
std::string sign_body(std::string_view app_secret, std::string_view body);

// Returns "ok", "missing", "malformed" or "mismatch" (log and metric label). Never throws.
std::string_view to_string(signature_status status) noexcept;

}  // namespace bridge::webhook
