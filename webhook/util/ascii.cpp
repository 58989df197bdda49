#include "webhook/util/ascii.hpp"

namespace bridge::webhook::util {

bool is_blank(std::string_view text) noexcept {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

std::string_view trim_right(std::string_view text) noexcept {
  std::size_t end = text.size();
  while (end > 0 && is_space(text[end - 1]))
    --end;
  return text.substr(0, end);
}

}  // namespace bridge::webhook::util
