#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace bridge::queue {

// Hash and equality for std::string keys that also accept a std::string_view, so a lookup by
// view does not first build a std::string (an allocation for every wamid and conversation key on
// the request path). Use with std::unordered_map<std::string, T, string_key_hash, std::equal_to<>>
// or boost::unordered_flat_map (which mixes the hash further itself).
struct string_key_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view key) const noexcept {
    return std::hash<std::string_view>{}(key);
  }
};

}  // namespace bridge::queue
