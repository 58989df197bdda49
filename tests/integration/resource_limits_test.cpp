// The real executable under operating-system limits (util-linux prlimit): out of file descriptors
// with attackers' idle connections, and a journal that can no longer grow (RLIMIT_FSIZE, which
// fails writes with EFBIG as a full disk fails them with ENOSPC).
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/test/unit_test.hpp>
#include <map>
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
const std::string prlimit_program = "/usr/bin/prlimit";
const std::string secret = "limits-secret";

// `server_extra` goes into the server section, `extra` at the end.
std::string config_text(upstream_fakes& fakes, const std::string& server_extra,
                        const std::string& extra) {
  return "server:\n  listen: \"127.0.0.1:0\"\n" + server_extra +
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
         "routes:\n  - phone_number_id: \"*\"\n    pid: p\n    chatbot_id: c\n"
         "replies:\n  typing_indicator: false\n"
         "shutdown:\n  grace: 1s\n"
         "logging:\n  level: info\n  format: text\n  redact_phone_numbers: false\n" +
         extra;
}

std::size_t occurrences(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
    ++n;
  return n;
}

// Polls `probe` until it returns true; false after the timeout.
template <class Probe>
bool eventually(Probe probe, std::chrono::milliseconds timeout = wait_limit) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!probe()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

unsigned readyz(const asio::ip::tcp::endpoint& admin) {
  client_request req;
  req.target = "/readyz";
  req.timeout = 2s;
  return send_request(admin, req).status;
}

// How many replies each message got. Each message is its own conversation here, so each reply
// is "Echo: <text>" of one message, whose text starts with its wamid and a space.
std::map<std::string, int> replies_by_id(const std::vector<recorded_request>& graph) {
  std::map<std::string, int> count;
  for (const auto& req : graph) {
    const std::string text = parse_graph_request(req.body).text;
    if (!text.starts_with("Echo: ")) continue;
    ++count[text.substr(6, text.find(' ', 6) - 6)];
  }
  return count;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(resource_limits)

// Out of file descriptors (prlimit --nofile=64) with far more idle connections than that: the
// bridge warns at start that the limit is too low, does not spin or flood its log on failing
// accepts (one throttled line), counts the exhaustion, and a signed POST on a new connection
// still gets 200 because the oldest idle connection that never earned trust is closed for it.
BOOST_AUTO_TEST_CASE(out_of_descriptors_idle_connections_are_shed_without_a_log_flood) {
  upstream_fakes fakes;
  temp_dir dir;
  // Idle connections must not time out during the test: shedding is what frees descriptors.
  const std::string config = dir.write(
      "bridge.yaml",
      config_text(fakes, "  read_timeout: 60s\n  unauthenticated_idle_timeout: 60s\n", ""));
  auto started =
      start_bridge_process(config, {}, bridge_launch{{prlimit_program, "--nofile=64:64", "--"}});
  child_process& bridge = *started.process;
  BOOST_TEST(bridge.output().find("the file descriptor limit (64) is below") != std::string::npos,
             bridge.output());

  // A first delivery is answered before the attack, as a running bridge would have done. (It
  // also matters under UBSan: its runtime checks a type's vtable through a pipe() the first time
  // it meets the type, and aborts when no descriptor is left for it.)
  const auto first = delivery_body({{"106540352242922", "919700000001", "wamid.fd0", "hello"}});
  BOOST_REQUIRE_EQUAL(post_signed(started.webhook, "/webhook", first, secret).status, 200u);
  BOOST_REQUIRE(fakes.graph().wait_for_requests(1, wait_limit));

  // 150 idle connections that never send a byte, then more arriving for two seconds.
  asio::io_context io;
  std::vector<asio::ip::tcp::socket> idle;
  const auto open_idle = [&](int n) {
    for (int i = 0; i < n; ++i) {
      idle.emplace_back(io);
      idle.back().connect(started.webhook);
    }
  };
  open_idle(150);
  BOOST_REQUIRE(bridge.wait_for_output("accept failed", wait_limit));
  const auto flood_start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - flood_start < 2s) {
    open_idle(10);
    std::this_thread::sleep_for(100ms);
  }
  const auto delivery =
      delivery_body({{"106540352242922", "919700000001", "wamid.fd1", "still there?"}});
  const auto res = post_signed(started.webhook, "/webhook", delivery, secret);
  BOOST_TEST(res.status == 200u, res.error << "; the bridge logged:\n" << bridge.output());
  // Its answer goes out on the upstream connections kept alive since the first delivery.
  BOOST_TEST(fakes.graph().wait_for_requests(2, wait_limit));
  const std::size_t accept_lines = occurrences(bridge.output(), "accept failed");
  BOOST_TEST_MESSAGE(accept_lines << " accept failure line(s) for " << idle.size()
                                  << " idle connections");
  BOOST_TEST(accept_lines <= 3u);

  // The counters, once the idle connections are gone and the admin listener can accept again.
  idle.clear();
  std::string metrics;
  BOOST_TEST(eventually([&] { return !(metrics = scrape_metrics(started.admin)).empty(); }));
  BOOST_TEST(metric_sample(metrics, "robofy_wa_bridge_accept_descriptors_exhausted_total") > 0);
  BOOST_TEST(metric_sample(metrics, "robofy_wa_bridge_connections_shed_total") > 0);
}

// The journal's file can no longer grow (prlimit --fsize; SIGXFSZ is ignored, so writes fail
// with EFBIG as on a full disk): POSTs get 503 "unstored", the progress records of messages
// being answered are kept in memory and /readyz is 503 until the disk takes them again (the
// limit is raised on the running process), then /readyz is 200. After kill -9 and a restart on
// the same journal, every message that got a 200 was answered exactly once (but those the restart
// names as in doubt), and Meta's retries of the refused ones are answered once.
BOOST_AUTO_TEST_CASE(a_full_journal_refuses_new_messages_keeps_progress_and_answers_each_once) {
  upstream_fakes fakes;
  fakes.robofy().set_responder([inner = robofy_echo()](const recorded_request& req) {
    canned_reply reply = inner(req);
    reply.hold = true;  // until released: messages pile up, started but not done
    return reply;
  });
  temp_dir dir;
  const std::string config = dir.write(
      "bridge.yaml",
      config_text(fakes, "", "queue:\n  workers: 4\nspool:\n  dir: " + dir.path() + "/spool\n"));
  constexpr int journal_limit = 40 * 1024;
  auto first = start_bridge_process(
      config, {},
      bridge_launch{
          {prlimit_program, "--fsize=" + std::to_string(journal_limit) + ":unlimited", "--"}});

  // Every message is its own conversation; its text starts with its wamid.
  std::vector<text_message> all;
  const auto message = [&](std::size_t filler) {
    const std::string id = "wamid.fs" + std::to_string(all.size());
    all.push_back({"106540352242922", "9196" + std::to_string(10000000 + all.size()), id,
                   id + " " + std::string(filler, 'x')});
    return all.back();
  };
  std::set<std::string> acknowledged;
  std::vector<text_message> refused;
  // Large messages until the journal is full, then small ones until not even those fit, so
  // what room is left is smaller than the progress records still to come.
  for (const std::size_t filler : {std::size_t{3000}, std::size_t{1}}) {
    for (int attempt = 0; attempt < 60; ++attempt) {
      const text_message m = message(filler);
      const auto res = post_signed(first.webhook, "/webhook", delivery_body({m}), secret);
      if (res.status == 200u) {
        acknowledged.insert(m.id);
        continue;
      }
      BOOST_TEST(res.status == 503u);
      BOOST_TEST(res.body.find("\"code\":\"unstored\"") != std::string::npos, res.body);
      refused.push_back(m);
      break;
    }
  }
  BOOST_REQUIRE_EQUAL(refused.size(), 2u);
  BOOST_TEST_MESSAGE(acknowledged.size() << " acknowledged before the journal filled up");

  // Answers go out; their done records (and the next started ones) no longer fit.
  fakes.robofy().release_held();
  BOOST_TEST(eventually([&] { return readyz(first.admin) == 503u; }));
  const std::string stalled = scrape_metrics(first.admin);
  BOOST_TEST(metric_sample(stalled, "robofy_wa_bridge_spool_unwritten_bytes") > 0);
  BOOST_TEST(metric_sample(stalled, "robofy_wa_bridge_spool_write_failures_total") > 0);
  BOOST_TEST(metric_sample(stalled, "robofy_wa_bridge_ready") == 0);

  // The disk has room again.
  const rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  BOOST_REQUIRE(::prlimit(first.process->pid(), RLIMIT_FSIZE, &unlimited, nullptr) == 0);
  BOOST_TEST(eventually([&] { return readyz(first.admin) == 200u; }));
  BOOST_TEST(eventually([&] {
    const auto replies = replies_by_id(fakes.graph().requests());
    return std::all_of(acknowledged.begin(), acknowledged.end(),
                       [&](const std::string& id) { return replies.count(id) != 0; });
  }));
  first.process->send_signal(SIGKILL);
  first.process->wait_for_exit(wait_limit);
  const std::size_t sent_before_restart = fakes.graph().request_count();

  // Restarted on the same journal, without a limit; Meta retries what was refused.
  auto second = start_bridge_process(config);
  for (const text_message& m : refused) {
    BOOST_TEST(post_signed(second.webhook, "/webhook", delivery_body({m}), secret).status == 200u);
  }
  // Meta may also deliver again what was acknowledged: nothing is answered twice for it.
  for (const text_message& m : all) {
    if (acknowledged.count(m.id) == 0) continue;
    BOOST_TEST(post_signed(second.webhook, "/webhook", delivery_body({m}), secret).status == 200u);
  }
  BOOST_TEST(eventually([&] {
    const auto replies = replies_by_id(fakes.graph().requests());
    if (!std::all_of(refused.begin(), refused.end(),
                     [&](const text_message& m) { return replies.count(m.id) != 0; })) {
      return false;
    }
    const std::string metrics = scrape_metrics(second.admin);
    return metric_sample(metrics, "robofy_wa_bridge_queue_depth") == 0 &&
           metric_sample(metrics, "robofy_wa_bridge_conversations_in_flight") == 0;
  }));

  std::set<std::string> in_doubt;
  const std::string log = second.process->output();
  const std::regex doubt(R"(message (wamid\.fs\d+) was being answered when the bridge stopped)");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), doubt); it != std::sregex_iterator();
       ++it) {
    in_doubt.insert((*it)[1]);
  }
  BOOST_TEST_MESSAGE(in_doubt.size()
                     << " in doubt at restart; " << sent_before_restart << " replies before it");
  BOOST_TEST(log.find("damaged") == std::string::npos, log);
  const auto replies = replies_by_id(fakes.graph().requests());
  for (const text_message& m : all) {
    const int times = replies.count(m.id) != 0 ? replies.at(m.id) : 0;
    const bool doubtful = in_doubt.count(m.id) != 0;
    BOOST_TEST((times == 1 || (doubtful && times == 2)), m.id << " answered " << times << " times");
  }
  BOOST_TEST(in_doubt.size() <= 4u);
}

BOOST_AUTO_TEST_SUITE_END()
