#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "webhook/meta/payload.hpp"

namespace bridge::store {

// The spool payload of an accepted message: everything a worker needs to answer it after a
// restart. A JSON object with a version field, so older journals stay readable. Invalid UTF-8 in
// a field is stored as U+FFFD, so every payload written decodes. Throws std::bad_alloc only.
std::string encode_message(const webhook::meta::inbound_message& message);

// The message back from its spool payload; nullopt when the payload is not one we wrote. Throws
// std::bad_alloc only.
std::optional<webhook::meta::inbound_message> decode_message(std::string_view payload);

}  // namespace bridge::store
