#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/environment.hpp"

namespace bridge::config {

// The outcome of expanding one scalar: the expanded text, or the reasons it could not be expanded.
// Messages name variables only, never the scalar's text or a variable's value (they may be secret).
struct expansion {
  std::string value;
  std::vector<std::string> errors;

  bool ok() const { return errors.empty(); }
};

// Expands ${NAME} and ${NAME:-default} (default used when NAME is unset or empty, as in the shell;
// the default is taken literally) and turns "$$" into "$". Any other "$" is kept as is. NAME is
// [A-Za-z_][A-Za-z0-9_]*. An unset ${NAME} without default, an unterminated "${" or a bad name
// is an error; every error in the text is reported. Never throws except std::bad_alloc.
expansion expand_env(std::string_view text, const environment& env);

}  // namespace bridge::config
