#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/fake_services.hpp"
#include "tests/support/fake_upstream.hpp"

namespace bridge::test {

// Fake Robofy and Graph servers on their own io_context thread, for tests that run the real
// executable (which then talks to them over loopback like to the real services).
class upstream_fakes {
 public:
  explicit upstream_fakes(responder robofy_answer = robofy_echo(),
                          responder graph_answer = graph_accepting());
  ~upstream_fakes();
  upstream_fakes(const upstream_fakes&) = delete;
  upstream_fakes& operator=(const upstream_fakes&) = delete;

  fake_upstream& robofy() { return robofy_; }
  fake_upstream& graph() { return graph_; }

 private:
  boost::asio::io_context io_;
  fake_upstream robofy_;
  fake_upstream graph_;
  std::thread loop_;
};

// The real robofy-wa-bridge running as a child process, with the addresses it logged.
struct bridge_process {
  std::unique_ptr<child_process> process;
  boost::asio::ip::tcp::endpoint webhook;
  boost::asio::ip::tcp::endpoint admin;
};

// How the executable is started: by default the bridge itself; a wrapper runs it under another
// program that execs it (e.g. {"/usr/bin/prlimit", "--nofile=64:64", "--"} to start it with
// resource limits), and program replaces the bridge binary.
struct bridge_launch {
  std::vector<std::string> wrapper;          // program and arguments put before the bridge's
  std::string program = BRIDGE_BINARY_PATH;  // what runs with --config
};

// Starts the executable with --config config_path (and extra_env), waits until it logs that it
// is ready and reads its listen addresses from the log. Fails the test when it does not start.
bridge_process start_bridge_process(const std::string& config_path,
                                    const std::map<std::string, std::string>& extra_env = {},
                                    const bridge_launch& launch = {});

}  // namespace bridge::test
