#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// Writing JSON text by appending to a string: request bodies are laid out literally around these,
// which costs a fraction of building a document object and serializing it.
namespace bridge::webhook::util {

// Appends `text` to `out` as a quoted JSON string (RFC 8259): '"' and '\' are escaped, control
// characters below U+0020 become \b \t \n \f \r or \u00XX (lower-case hex); everything else,
// DEL and multi-byte UTF-8 included, is copied as it is. Each byte that starts no well-formed
// UTF-8 sequence (a stray continuation byte, an overlong form, a surrogate, beyond U+10FFFF, a
// truncated sequence) becomes one U+FFFD, so the result is always valid JSON text whatever
// `text` holds (webhook::format::utf8_sequence_length decides). Throws std::bad_alloc only.
void append_json_string(std::string& out, std::string_view text);

// Appends `value` as a JSON number (decimal, '-' when negative). Throws std::bad_alloc only.
void append_json_number(std::string& out, std::int64_t value);

// Appends `true` or `false`. Throws std::bad_alloc only.
void append_json_bool(std::string& out, bool value);

}  // namespace bridge::webhook::util
