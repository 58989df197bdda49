#pragma once

#include <string>
#include <string_view>

namespace bridge::webhook::util {

// Masks a customer id for logs (logging.redact_phone_numbers): a phone number keeps its first 4
// and last 2 characters ("919876543210" -> "9198******10"), a username id keeps its prefix up to
// and including the first '.' plus the last 2 ("IN.13491208655302741918" -> "IN.******...18");
// parts of 6 characters or fewer are masked whole. Returns id unchanged when enabled is false.
// Throws only std::bad_alloc.
std::string redact_id(std::string_view id, bool enabled);

// A conversation key ("<phone_number_id>/<customer>") with its customer part redacted as
// redact_id does. Never throws but std::bad_alloc.
std::string redact_conversation(std::string_view conversation, bool enabled);

}  // namespace bridge::webhook::util
