#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace bridge::config {

// Looks up an environment variable: its value, or nullopt when it is not set. Injected so that
// tests and reloads do not depend on the process environment.
using environment = std::function<std::optional<std::string>(std::string_view name)>;

// The process environment (getenv). Does not throw.
environment process_environment();

}  // namespace bridge::config
