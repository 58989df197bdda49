#pragma once

#include <string>
#include <string_view>

namespace bridge::webhook {

// Outcome of checking X-Hub-Signature-256; only `ok` lets a body through.
enum class signature_status { ok, missing, malformed, mismatch };

// Verifies `header_value` ("sha256=" + 64 hex digits, either case) as HMAC-SHA256 of the raw `body`
// keyed with `app_secret`, in constant time. An empty header is `missing`; an empty secret never
// verifies (`mismatch`), so a missing configuration cannot open the door. Never throws.
signature_status verify_signature(std::string_view app_secret, std::string_view header_value,
                                  std::string_view body) noexcept;

// Returns "sha256=<64 lowercase hex>" for `body` under `app_secret` (the simulator and tests sign
// with it). Throws std::bad_alloc only.
std::string sign_body(std::string_view app_secret, std::string_view body);

// Returns "ok", "missing", "malformed" or "mismatch" (log and metric label). Never throws.
std::string_view to_string(signature_status status) noexcept;

}  // namespace bridge::webhook
