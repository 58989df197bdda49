#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/environment.hpp"
#include "config/settings.hpp"

namespace bridge::config {

// One thing wrong with a configuration: where it is and what is wrong. Never holds a secret.
struct problem {
  std::string file;     // the configuration file (or the name given to load_string)
  int line = 0;         // 1-based YAML line; 0 when there is none (e.g. a missing section)
  std::string key;      // dotted path such as "server.listen" or "routes[1].pid" (0-based index)
  std::string message;  // what is wrong, without the value when the key holds a secret

  // "<file>:<line>: <key>: <message>"; ":<line>" is left out when line is 0, "<key>: " when the
  // problem is about the whole file. Never throws except std::bad_alloc.
  std::string to_string() const;
};

// Thrown when a configuration cannot be loaded. Holds every problem found, not just the first;
// what() is their to_string() lines joined with "\n".
class config_error : public std::runtime_error {
 public:
  // Builds the error from the problems found (at least one).
  explicit config_error(std::vector<problem> found);

  std::vector<problem> problems;
};

// Reads, expands (${VAR}, *_file secrets) and validates the YAML file at `path` (DESIGN.md §3).
// Throws config_error listing every problem, including an unreadable file.
settings load_file(const std::string& path, const environment& env);

// As load_file, from text; `file_name` names the source in problems and settings::source_file.
// Relative *_file paths are read relative to the working directory. Throws config_error.
settings load_string(std::string_view yaml_text, std::string_view file_name,
                     const environment& env);

}  // namespace bridge::config
