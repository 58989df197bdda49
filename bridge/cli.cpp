#include "bridge/cli.hpp"

namespace bridge {

std::variant<command_line, usage_error> parse_command_line(std::span<const std::string_view> args) {
  command_line parsed;
  bool check = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      parsed.what = command_line::action::help;
      return parsed;
    }
    if (arg == "--version") {
      parsed.what = command_line::action::version;
      return parsed;
    }
    if (arg == "--check-config") {
      check = true;
    } else if (arg == "--config") {
      if (i + 1 >= args.size() || args[i + 1].empty()) {
        return usage_error{"--config needs a path"};
      }
      parsed.config_path = std::string(args[++i]);
    } else if (arg.starts_with("--config=")) {
      parsed.config_path = std::string(arg.substr(9));
      if (parsed.config_path.empty()) return usage_error{"--config needs a path"};
    } else {
      return usage_error{"unknown argument '" + std::string(arg) + "'"};
    }
  }
  parsed.what = check ? command_line::action::check_config : command_line::action::run;
  return parsed;
}

std::string usage_text() {
  return "Usage: robofy-wa-bridge [--config PATH] [--check-config]\n"
         "       robofy-wa-bridge --version | --help\n"
         "\n"
         "Connects a WhatsApp Cloud API webhook to a Robofy AI agent.\n"
         "\n"
         "  --config PATH    configuration file (default /etc/robofy-wa-bridge/config.yaml)\n"
         "  --check-config   validate the configuration and exit: 0 valid, 2 invalid\n"
         "  --version        print the version and exit\n"
         "  --help           print this help and exit\n"
         "\n"
         "Signals: SIGTERM/SIGINT drain and stop; SIGHUP reloads the configuration.\n"
         "Exit codes: 0 normal stop, 1 runtime failure, 2 bad usage or configuration.\n";
}

}  // namespace bridge
