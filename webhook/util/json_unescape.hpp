#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace bridge::webhook::util {

// Decodes a JSON string token (`"..."`, from its opening quote; anything after the closing quote
// is ignored) the way a lenient reader must: an escaped UTF-16 surrogate that has no partner
// ("\ud83d" alone) becomes U+FFFD, which is also what WhatsApp shows the customer, instead of
// failing the whole string. simdjson refuses such strings, and the message would be lost. The
// token's raw bytes must be valid UTF-8 (simdjson checked the document). nullopt for a token
// that is not a string or holds an unknown escape. Throws std::bad_alloc only.
std::optional<std::string> unescape_json_string_lenient(std::string_view token);

}  // namespace bridge::webhook::util
