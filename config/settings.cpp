#include "config/settings.hpp"

namespace bridge::config {

const route* find_route(const settings& s, std::string_view phone_number_id) {
  const route* wildcard = nullptr;
  for (const route& r : s.routes) {
    if (r.phone_number_id == phone_number_id) return &r;
    if (r.phone_number_id == "*" && wildcard == nullptr) wildcard = &r;
  }
  return wildcard;
}

}  // namespace bridge::config
