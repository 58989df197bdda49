#include "config/env_expand.hpp"

namespace bridge::config {
namespace {

bool is_name_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

bool is_name(std::string_view s) {
  if (s.empty() || !is_name_start(s.front())) return false;
  for (char c : s) {
    if (!is_name_char(c)) return false;
  }
  return true;
}

}  // namespace

expansion expand_env(std::string_view text, const environment& env) {
  expansion out;
  out.value.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '$' || i + 1 == text.size()) {
      out.value += c;
      ++i;
      continue;
    }
    const char next = text[i + 1];
    if (next == '$') {
      out.value += '$';
      i += 2;
      continue;
    }
    if (next != '{') {
      out.value += c;  // a lone "$" (e.g. inside a password) is literal
      ++i;
      continue;
    }
    const std::size_t close = text.find('}', i + 2);
    // Positions rather than text in messages: the scalar may be an inline secret.
    const std::string where = " at character " + std::to_string(i + 1);
    if (close == std::string_view::npos) {
      out.errors.push_back("unterminated '${'" + where);
      break;
    }
    const std::string_view inside = text.substr(i + 2, close - (i + 2));
    const std::size_t sep = inside.find(":-");
    const std::string_view name = inside.substr(0, sep);
    i = close + 1;
    if (!is_name(name)) {
      out.errors.push_back(
          "invalid variable reference" + where +
          " (expected ${NAME} or ${NAME:-default}, NAME made of letters, digits and '_')");
      continue;
    }
    const std::optional<std::string> value = env ? env(name) : std::nullopt;
    if (sep != std::string_view::npos) {
      if (value && !value->empty()) {
        out.value += *value;
      } else {
        out.value += inside.substr(sep + 2);
      }
    } else if (value) {
      out.value += *value;
    } else {
      out.errors.push_back("environment variable " + std::string(name) + " is not set");
    }
  }
  if (!out.ok()) out.value.clear();  // never hand out a half-expanded value
  return out;
}

}  // namespace bridge::config
