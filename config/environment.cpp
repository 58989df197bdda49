#include "config/environment.hpp"

#include <cstdlib>

namespace bridge::config {

environment process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const std::string key(name);  // getenv needs a terminated string
    if (const char* value = std::getenv(key.c_str())) return std::string(value);
    return std::nullopt;
  };
}

}  // namespace bridge::config
