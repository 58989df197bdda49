#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bridge::test {

// A program run as a child process with stdout and stderr captured in a file, for tests of the
// real executable. The destructor kills it if it still runs.
class child_process {
 public:
  // Starts program with args; extra_env is added to the environment.
  child_process(const std::string& program, const std::vector<std::string>& args,
                const std::map<std::string, std::string>& extra_env = {});
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  // Everything the child wrote so far (stdout and stderr interleaved).
  std::string output() const;
  // Waits until the output contains text; false after timeout.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout) const;
  void send_signal(int signal) const;
  // The child's process id (the same after a wrapper such as prlimit execs the real program), for
  // tests that act on the running process itself (prlimit(2)).
  pid_t pid() const noexcept { return pid_; }
  // True until the child has ended (a stopped child still runs); reaps it then. Never waits.
  bool running();
  // Waits for the child to end; its exit code, or nullopt after timeout (or death by a signal).
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  std::string output_path_;
  bool exited_ = false;
  int status_ = 0;
};

// Runs a program to its end (at most timeout) and returns {exit code, output}.
std::pair<int, std::string> run_to_end(
    const std::string& program, const std::vector<std::string>& args,
    const std::map<std::string, std::string>& extra_env = {},
    std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace bridge::test
