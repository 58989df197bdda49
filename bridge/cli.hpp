#pragma once

#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace bridge {

// What the command line asks for.
struct command_line {
  enum class action { run, check_config, version, help };
  action what = action::run;
  std::string config_path = "/etc/robofy-wa-bridge/config.yaml";
};

// A command line that cannot be understood; `message` says why.
struct usage_error {
  std::string message;
};

// Parses the arguments after the program name: --config PATH (or --config=PATH),
// --check-config, --version, --help. Pure; never throws.
std::variant<command_line, usage_error> parse_command_line(std::span<const std::string_view> args);

// The --help text.
std::string usage_text();

}  // namespace bridge
