#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace bridge::webhook::http {

// The path of a request target, without the query ("/webhook?a=b" -> "/webhook").
std::string_view target_path(std::string_view target);

// The percent-decoded value of a query parameter of a request target, or nullopt when absent or
// malformed ("+" decodes to a space, as in form encoding).
std::optional<std::string> query_parameter(std::string_view target, std::string_view name);

}  // namespace bridge::webhook::http
