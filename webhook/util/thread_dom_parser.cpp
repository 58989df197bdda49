#include "webhook/util/thread_dom_parser.hpp"

namespace bridge::webhook::util {

simdjson::simdjson_result<simdjson::dom::element> thread_dom_parser::parse(
    std::string_view json) noexcept {
  // A default-constructed view has no data pointer, which memcpy must not be given.
  if (json.data() == nullptr) json = std::string_view("", 0);
  return get().parse(json.data(), json.size());
}

}  // namespace bridge::webhook::util
