// Running the real executable as an operator would: systemd's notify protocol, SIGHUP reloads
// while messages flow, a rejected reload, and a TLS certificate rotated in place.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <cstring>
#include <filesystem>
#include <regex>
#include <set>
#include <thread>

#include "tests/support/bridge_process.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/fake_services.hpp"
#include "tests/support/meta_payloads.hpp"
#include "tests/support/self_signed.hpp"
#include "tests/support/test_client.hpp"

using namespace bridge::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

constexpr auto wait_limit = 20s;
const std::string binary = BRIDGE_BINARY_PATH;
const std::string secret = "ops-secret";

// Robofy answering with the route's pid, so a test can tell which configuration answered.
upstream_fakes make_fakes() {
  return upstream_fakes(robofy_answering(
      [](const robofy_request_fields& f) { return "Echo: " + f.query + " (" + f.pid + ")"; }));
}

std::string config_text(upstream_fakes& fakes, const std::string& pid,
                        const std::string& extra_server = "") {
  return "server:\n  listen: \"127.0.0.1:0\"\n" + extra_server +
         "admin:\n  listen: \"127.0.0.1:0\"\n"
         "meta:\n  app_secret: " +
         secret +
         "\n  verify_token: v\n  access_token: t\n"
         "  graph_base_url: " +
         fakes.graph().base_url() +
         "\n"
         "robofy:\n  base_url: " +
         fakes.robofy().base_url() +
         "\n  api_key: k\n"
         "routes:\n  - phone_number_id: \"*\"\n    pid: " +
         pid +
         "\n    chatbot_id: c\n"
         "replies:\n  typing_indicator: false\n"
         "logging:\n  level: info\n  format: text\n";
}

// A datagram socket standing in for systemd's notification socket.
class notify_socket {
 public:
  explicit notify_socket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    BOOST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  }
  ~notify_socket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  // The next datagram, or "" after the timeout.
  std::string next(std::chrono::milliseconds timeout = 10s) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return {};
    char buffer[512];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string{};
  }
  // Reads datagrams until one contains `text`; false after the timeout.
  bool wait_for(const std::string& text, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (next(std::chrono::duration_cast<std::chrono::milliseconds>(
                   deadline - std::chrono::steady_clock::now()))
              .find(text) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(operations)

BOOST_AUTO_TEST_CASE(systemd_notify_ready_reloading_watchdog_and_stopping) {
  upstream_fakes fakes = make_fakes();
  temp_dir dir;
  const std::string config = dir.write("bridge.yaml", config_text(fakes, "p"));
  notify_socket systemd(dir.path() + "/notify");
  child_process bridge(binary, {"--config", config},
                       {{"NOTIFY_SOCKET", dir.path() + "/notify"}, {"WATCHDOG_USEC", "200000"}});
  const std::string first = systemd.next();
  BOOST_TEST(first.find("READY=1") != std::string::npos, first);
  BOOST_TEST(systemd.wait_for("WATCHDOG=1"));
  bridge.send_signal(SIGHUP);
  BOOST_TEST(systemd.wait_for("RELOADING=1"));
  BOOST_TEST(systemd.wait_for("READY=1"));
  bridge.send_signal(SIGTERM);
  BOOST_TEST(systemd.wait_for("STOPPING=1"));
  BOOST_TEST(bridge.wait_for_exit(wait_limit).value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(routes_reloaded_while_messages_flow_lose_nothing) {
  upstream_fakes fakes = make_fakes();
  temp_dir dir;
  const std::string config = dir.write("bridge.yaml", config_text(fakes, "pid-before"));
  auto started = start_bridge_process(config);
  child_process& bridge = *started.process;
  const auto webhook = started.webhook;

  // Customers keep writing while the configuration changes under the bridge.
  std::atomic<bool> keep_sending{true};
  std::atomic<int> acknowledged{0};
  std::thread meta([&] {
    for (int i = 0; keep_sending || i < 40; ++i) {
      const auto body =
          delivery_body({{"106540352242922", "9190" + std::to_string(10000000 + i),
                          "wamid.reload." + std::to_string(i), "q" + std::to_string(i)}});
      if (post_signed(webhook, "/webhook", body, secret).status == 200u) ++acknowledged;
      if (i > 400) break;
    }
  });
  BOOST_REQUIRE(fakes.graph().wait_for_requests(10, wait_limit));
  dir.write("bridge.yaml", config_text(fakes, "pid-after"));
  bridge.send_signal(SIGHUP);
  BOOST_REQUIRE(bridge.wait_for_output("configuration reloaded", wait_limit));
  // A broken file is refused whole, and the reloaded configuration stays.
  dir.write("bridge.yaml", "server:\n  listen: nonsense\n");
  bridge.send_signal(SIGHUP);
  BOOST_REQUIRE(bridge.wait_for_output("reload rejected", wait_limit));
  BOOST_TEST(bridge.output().find("server.listen") != std::string::npos);
  keep_sending = false;
  meta.join();

  const int sent = acknowledged.load();
  BOOST_REQUIRE(fakes.graph().wait_for_requests(static_cast<std::size_t>(sent), wait_limit));
  std::set<std::string> answered;
  bool saw_before = false;
  bool saw_after = false;
  for (const auto& req : fakes.graph().requests()) {
    const std::string text = parse_graph_request(req.body).text;
    answered.insert(text.substr(0, text.find(' ', 6)));
    saw_before = saw_before || text.find("(pid-before)") != std::string::npos;
    saw_after = saw_after || text.find("(pid-after)") != std::string::npos;
  }
  BOOST_TEST(fakes.graph().request_count() == static_cast<std::size_t>(sent));  // each once
  BOOST_TEST(answered.size() == static_cast<std::size_t>(sent));
  BOOST_TEST(saw_before);
  BOOST_TEST(saw_after);
  // The last message went out under the reloaded route (the broken file changed nothing).
  const auto last = parse_graph_request(fakes.graph().requests().back().body).text;
  BOOST_TEST(last.find("(pid-after)") != std::string::npos, last);
  bridge.send_signal(SIGTERM);
  BOOST_TEST(bridge.wait_for_exit(wait_limit).value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(a_rotated_tls_certificate_is_served_after_sighup) {
  upstream_fakes fakes = make_fakes();
  temp_dir dir;
  temp_dir old_ca;
  temp_dir new_ca;
  const pem_files first = write_self_signed(old_ca.path());
  const pem_files second = write_self_signed(new_ca.path());
  // The bridge reads its certificate from fixed paths, as cert-manager mounts it.
  const std::string cert = dir.path() + "/tls.crt";
  const std::string key = dir.path() + "/tls.key";
  std::filesystem::copy_file(first.cert_file, cert);
  std::filesystem::copy_file(first.key_file, key);
  const std::string config = dir.write(
      "bridge.yaml",
      config_text(fakes, "p", "  tls:\n    cert_file: " + cert + "\n    key_file: " + key + "\n"));
  auto started = start_bridge_process(config);
  child_process& bridge = *started.process;
  const auto webhook = started.webhook;

  client_request handshake;
  handshake.target = "/webhook?hub.mode=subscribe&hub.verify_token=v&hub.challenge=42";
  handshake.ca_file = first.cert_file;
  BOOST_TEST(send_request(webhook, handshake).status == 200u);

  std::filesystem::copy_file(second.cert_file, cert,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(second.key_file, key,
                             std::filesystem::copy_options::overwrite_existing);
  bridge.send_signal(SIGHUP);
  BOOST_REQUIRE(bridge.wait_for_output("configuration reloaded", wait_limit));
  handshake.ca_file = second.cert_file;
  const auto renewed = send_request(webhook, handshake);
  BOOST_TEST(renewed.status == 200u, renewed.error);
  handshake.ca_file = first.cert_file;
  BOOST_TEST(send_request(webhook, handshake).status == 0u);  // the old certificate is gone
  bridge.send_signal(SIGTERM);
  BOOST_TEST(bridge.wait_for_exit(wait_limit).value_or(-1) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
