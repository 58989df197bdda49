#include "tests/support/bridge_process.hpp"

#include <boost/test/unit_test.hpp>
#include <regex>

namespace bridge::test {

namespace asio = boost::asio;

upstream_fakes::upstream_fakes(responder robofy_answer, responder graph_answer)
    : robofy_(io_.get_executor(), std::move(robofy_answer)),
      graph_(io_.get_executor(), std::move(graph_answer)) {
  robofy_.start();
  graph_.start();
  loop_ = std::thread([this] { io_.run(); });
}

upstream_fakes::~upstream_fakes() {
  io_.stop();
  loop_.join();
}

namespace {
// The address the bridge's start-up line gives for `what` ("listening for Meta", "admin").
asio::ip::tcp::endpoint endpoint_in_log(const std::string& log, const std::string& what) {
  std::smatch match;
  BOOST_REQUIRE_MESSAGE(
      std::regex_search(log, match, std::regex(what + R"( on https?://127\.0\.0\.1:(\d+))")),
      "no address for " << what << " in the log:\n"
                        << log);
  return {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(match[1]))};
}
}  // namespace

bridge_process start_bridge_process(const std::string& config_path,
                                    const std::map<std::string, std::string>& extra_env,
                                    const bridge_launch& launch) {
  std::vector<std::string> command = launch.wrapper;
  for (const std::string& part : {launch.program, std::string("--config"), config_path})
    command.push_back(part);
  bridge_process started;
  started.process = std::make_unique<child_process>(
      command.front(), std::vector<std::string>(command.begin() + 1, command.end()), extra_env);
  BOOST_REQUIRE_MESSAGE(started.process->wait_for_output("ready (", std::chrono::seconds(20)),
                        started.process->output());
  const std::string log = started.process->output();
  started.webhook = endpoint_in_log(log, "listening for Meta");
  started.admin = endpoint_in_log(log, "admin");
  return started;
}

}  // namespace bridge::test
