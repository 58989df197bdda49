// Several real robofy-wa-bridge processes sharing one real redis-server (DESIGN.md §8), with fake
// Robofy and Graph servers in the test process and a round-robin proxy in front, as a load
// balancer would be: every guarantee of §6 across replicas, and across the loss (kill -9, SIGSTOP,
// SIGTERM) of any one of them or of Redis itself.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <functional>
#include <latch>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/bridge_process.hpp"
#include "tests/support/fake_services.hpp"
#include "tests/support/meta_payloads.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/round_robin_proxy.hpp"
#include "tests/support/self_signed.hpp"
#include "tests/support/test_client.hpp"

using namespace bridge::test;
using namespace std::chrono_literals;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr const char* secret = "replica-test-secret";
constexpr const char* number = "106540352242922";
constexpr auto wait_limit = 30s;

// What differs between the tests' configurations.
struct cluster_options {
  std::string lease = "1500ms";
  std::string timeout = "500ms";
  std::string grace = "5s";
  int workers = 8;
  int messages_per_second = 80;
};

// One replica: the process (kept after it ends, for its log) and its name in the log.
struct replica {
  std::string name;
  bridge_process started;
  std::string log() const { return started.process->output(); }
  child_process& process() { return *started.process; }
};

// A customer's message; its text is its wamid, so the fake Robofy's echo names what it answers.
text_message message(const std::string& tag, int customer, int k) {
  const std::string wa_id = "91900" + std::to_string(10000 + customer);
  const std::string id = "wamid." + tag + "." + std::to_string(customer) + "." + std::to_string(k);
  return text_message{number, wa_id, id, id};
}

std::string customer_of(int customer) {
  return "91900" + std::to_string(10000 + customer);
}

// One POST of `messages`, signed as Meta signs.
client_response deliver(const tcp::endpoint& to, const std::vector<text_message>& messages) {
  return post_signed(to, "/webhook", delivery_body(messages), secret);
}

// POSTs like Meta: again after every refusal (503, or no answer), until a 200 or the deadline.
// How many refusals there were goes to `refused` when given.
bool deliver_until_accepted(const std::function<tcp::endpoint()>& to,
                            const std::vector<text_message>& messages,
                            std::chrono::steady_clock::time_point deadline,
                            std::atomic<int>* refused = nullptr) {
  for (;;) {
    if (deliver(to(), messages).status == 200) return true;
    if (refused) ++*refused;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);  // Meta's retry, much faster
  }
}

// The lines of every text message Graph received, in order: the fake Robofy echoes each query
// ("Echo: " + the joined lines), and each line is one wamid.
std::vector<std::pair<std::string, std::string>> answered_lines(
    const std::vector<recorded_request>& graph) {
  std::vector<std::pair<std::string, std::string>> lines;  // {customer, wamid}
  for (const auto& req : text_sends(graph)) {
    const auto sent = parse_graph_request(req.body);
    if (!sent.text.starts_with("Echo: ")) continue;
    std::istringstream text(sent.text.substr(6));
    for (std::string line; std::getline(text, line);)
      lines.emplace_back(sent.to, line);
  }
  return lines;
}

std::map<std::string, int> answer_counts(const std::vector<recorded_request>& graph) {
  std::map<std::string, int> counts;
  for (const auto& [customer, id] : answered_lines(graph))
    ++counts[id];
  return counts;
}

// Each customer's answered wamids, first answers only, in the order Graph received them.
std::map<std::string, std::vector<std::string>> first_answers_by_customer(
    const std::vector<recorded_request>& graph) {
  std::map<std::string, std::vector<std::string>> by_customer;
  std::set<std::string> seen;
  for (const auto& [customer, id] : answered_lines(graph)) {
    if (seen.insert(id).second) by_customer[customer].push_back(id);
  }
  return by_customer;
}

// The wamids a log calls in doubt (answered again after their owner lost the conversation).
std::set<std::string> in_doubt(const std::string& log) {
  std::set<std::string> ids;
  static const std::regex line(R"(message (\S+) was being answered by a replica that lost)");
  for (std::sregex_iterator it(log.begin(), log.end(), line), end; it != end; ++it)
    ids.insert((*it)[1]);
  return ids;
}

std::size_t occurrences(const std::string& text, const std::string& word) {
  std::size_t n = 0;
  for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1))
    ++n;
  return n;
}

unsigned status_of(const tcp::endpoint& admin, const std::string& path) {
  client_request req;
  req.target = path;
  req.timeout = 2s;
  return send_request(admin, req).status;
}

// Polls `done` every 20 ms until it holds or `limit` passes.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// A responder that holds back its answer to the first request about each of `customers`
// (`key_of` says whom a request is about; empty: not a customer's request) and answers every
// other request as `inner` does.
responder holding_first(std::set<std::string> customers, responder inner,
                        std::function<std::string(const recorded_request&)> key_of) {
  auto held = std::make_shared<std::pair<std::mutex, std::set<std::string>>>();
  return [=](const recorded_request& req) {
    canned_reply reply = inner(req);
    const std::string who = key_of(req);
    std::lock_guard lock(held->first);
    if (customers.count(who) && held->second.insert(who).second) reply.hold = true;
    return reply;
  };
}
std::string robofy_session(const recorded_request& req) {
  return parse_robofy_request(req.body).session_id;
}
std::string graph_text_to(const recorded_request& req) {
  const auto sent = parse_graph_request(req.body);
  return sent.type == "text" ? sent.to : std::string{};
}

// A real redis-server, fake Robofy and Graph, and the replicas started on them, all with one
// configuration file (ports 0: each replica picks its own and logs them).
class cluster {
 public:
  explicit cluster(cluster_options options = {}, responder robofy = robofy_echo(),
                   responder graph = graph_accepting())
      : fakes_(std::move(robofy), std::move(graph)) {
    config_ = dir_.write(
        "bridge.yaml",
        "server:\n  listen: \"127.0.0.1:0\"\nadmin:\n  listen: \"127.0.0.1:0\"\n"
        "meta:\n  app_secret: " +
            std::string(secret) + "\n  verify_token: v\n  access_token: t\n  graph_base_url: " +
            fakes_.graph().base_url() + "\nrobofy:\n  base_url: " + fakes_.robofy().base_url() +
            "\n  api_key: k\n  timeout: 20s\n"
            "routes:\n  - phone_number_id: \"*\"\n    pid: p\n    chatbot_id: c\n"
            "    messages_per_second: " +
            std::to_string(options.messages_per_second) +
            "\nqueue:\n  workers: " + std::to_string(options.workers) +
            "\n  capacity: 10000\n"
            "redis:\n  url: " +
            redis_.url() + "\n  timeout: " + options.timeout + "\n  lease: " + options.lease +
            "\nreplies:\n  typing_indicator: false\n"
            "logging:\n  level: info\n  format: text\n  redact_phone_numbers: false\n"
            "shutdown:\n  grace: " +
            options.grace + "\n");
    // It holds secrets: readable by its owner only, as the bridge asks.
    std::filesystem::permissions(
        config_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }

  // No replica reported a sanitizer finding (in builds with BRIDGE_SANITIZE).
  ~cluster() {
    for (const auto& r : replicas_) {
      const std::string log = r->log();
      BOOST_TEST(log.find("Sanitizer") == std::string::npos, r->name << ":\n" << log);
      BOOST_TEST(log.find("runtime error:") == std::string::npos, r->name << ":\n" << log);
    }
  }

  // Starts one more replica and waits until its /readyz is 200.
  replica& start_replica() {
    const std::string name = "replica-" + std::to_string(replicas_.size() + 1);
    auto r = std::make_unique<replica>(
        replica{name, start_bridge_process(config_, {{"POD_NAME", name}})});
    BOOST_REQUIRE_MESSAGE(
        eventually([&] { return status_of(r->started.admin, "/readyz") == 200; }, 20s),
        name << " never became ready:\n"
             << r->log());
    replicas_.push_back(std::move(r));
    return *replicas_.back();
  }

  replica& at(std::size_t i) { return *replicas_.at(i); }
  std::size_t started() const { return replicas_.size(); }
  // The webhook addresses of the replicas that are still running.
  std::vector<tcp::endpoint> webhooks() {
    std::vector<tcp::endpoint> out;
    for (auto& r : replicas_) {
      if (r->process().running()) out.push_back(r->started.webhook);
    }
    return out;
  }
  // Every replica's log, the ended ones included.
  std::string logs() const {
    std::string all;
    for (const auto& r : replicas_)
      all += r->log();
    return all;
  }
  std::set<std::string> doubted() const { return in_doubt(logs()); }

  redis_server& redis() { return redis_; }
  fake_upstream& robofy() { return fakes_.robofy(); }
  fake_upstream& graph() { return fakes_.graph(); }

  // Waits until every wamid in `ids` has been answered at least once.
  bool all_answered(const std::set<std::string>& ids, std::chrono::milliseconds limit) {
    const bool answered = graph().wait_until(
        [&](const std::vector<recorded_request>& requests) {
          const auto counts = answer_counts(requests);
          return std::all_of(ids.begin(), ids.end(),
                             [&](const std::string& id) { return counts.count(id) > 0; });
        },
        limit);
    if (!answered) {
      const auto counts = answer_counts(graph().requests());
      std::string missing;
      for (const auto& id : ids) {
        if (counts.count(id) == 0) missing += " " + id;
      }
      BOOST_TEST_MESSAGE("never answered:" << missing << "\n" << logs());
    }
    return answered;
  }

  // Every wamid of `ids` answered, once, or more than once only when a replica logged it in
  // doubt; each customer's first answers in the order the customer wrote.
  void check_answered_once_in_order(const std::set<std::string>& ids,
                                    const std::map<std::string, std::vector<std::string>>& order) {
    const auto requests = graph().requests();
    const auto counts = answer_counts(requests);
    const auto doubts = doubted();
    std::size_t doubled = 0;
    for (const auto& id : ids) {
      const auto it = counts.find(id);
      BOOST_TEST((it != counts.end()), id << " was accepted and never answered");
      if (it == counts.end() || it->second == 1) continue;
      ++doubled;
      BOOST_TEST(doubts.count(id) == 1u,
                 id << " answered " << it->second << " times and never logged in doubt");
    }
    for (const auto& [id, count] : counts)
      BOOST_TEST(ids.count(id) == 1u, id << " answered but never accepted");
    const auto firsts = first_answers_by_customer(requests);
    for (const auto& [customer, expected] : order) {
      const auto it = firsts.find(customer);
      BOOST_TEST((it != firsts.end() && it->second == expected), customer << " out of order");
    }
    BOOST_TEST_MESSAGE(ids.size() << " accepted, " << doubled << " answered more than once, "
                                  << doubts.size() << " logged in doubt");
  }

 private:
  redis_server redis_;
  upstream_fakes fakes_;
  temp_dir dir_;
  std::string config_;
  std::vector<std::unique_ptr<replica>> replicas_;
};

// Steady traffic from a thread, like Meta: `customers` customers write in turn, each message
// POSTed through `to()` until it is accepted (503s and lost connections are retried).
class traffic {
 public:
  traffic(std::function<tcp::endpoint()> to, int customers, std::string tag,
          std::chrono::milliseconds pause)
      : thread_([this, to = std::move(to), customers, tag = std::move(tag), pause] {
          for (int k = 0; !stop_; ++k) {
            for (int n = 0; n < customers && !stop_; ++n) {
              const text_message m = message(tag, n, k);
              if (!deliver_until_accepted(to, {m}, std::chrono::steady_clock::now() + 60s,
                                          &refused_)) {
                failed_ = true;
                return;
              }
              {
                std::lock_guard lock(mutex_);
                accepted_.insert(m.id);
                order_[m.wa_id].push_back(m.id);
              }
              std::this_thread::sleep_for(pause);  // the next message comes a moment later
            }
          }
        }) {}
  ~traffic() { finish(); }

  void finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::size_t accepted() const {
    std::lock_guard lock(mutex_);
    return accepted_.size();
  }
  int refused() const { return refused_; }
  bool failed() const { return failed_; }
  std::set<std::string> accepted_ids() const {
    std::lock_guard lock(mutex_);
    return accepted_;
  }
  std::map<std::string, std::vector<std::string>> order() const {
    std::lock_guard lock(mutex_);
    return order_;
  }

 private:
  mutable std::mutex mutex_;
  std::set<std::string> accepted_;
  std::map<std::string, std::vector<std::string>> order_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::atomic<int> refused_{0};
  std::thread thread_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(replicas)

// 30 customers × 5 messages through the proxy to three replicas: each answered once, in order.
BOOST_AUTO_TEST_CASE(thirty_customers_through_the_proxy_are_answered_once_in_order) {
  cluster c;
  for (int i = 0; i < 3; ++i)
    c.start_replica();
  round_robin_proxy proxy(c.webhooks());
  std::set<std::string> ids;
  std::map<std::string, std::vector<std::string>> order;
  for (int k = 0; k < 5; ++k) {
    for (int n = 0; n < 30; ++n) {
      const text_message m = message("rr", n, k);
      BOOST_REQUIRE(deliver_until_accepted([&] { return proxy.endpoint(); }, {m},
                                           std::chrono::steady_clock::now() + 20s));
      ids.insert(m.id);
      order[m.wa_id].push_back(m.id);
    }
  }
  BOOST_REQUIRE(c.all_answered(ids, 60s));
  const auto counts = answer_counts(c.graph().requests());
  for (const auto& id : ids)
    BOOST_TEST(counts.at(id) == 1, id);
  BOOST_TEST(c.doubted().empty());
  c.check_answered_once_in_order(ids, order);
  BOOST_TEST(proxy.forwarded().size() == 3u);
  for (std::size_t i = 0; i < 3; ++i)
    BOOST_TEST(c.at(i).log().find("answered wamid.rr.") != std::string::npos, c.at(i).name);
}

// A delivery POSTed to two replicas at the same moment: 200 from both, one answer.
BOOST_AUTO_TEST_CASE(a_delivery_sent_to_two_replicas_at_once_is_answered_once) {
  cluster c;
  for (int i = 0; i < 3; ++i)
    c.start_replica();
  constexpr int n = 20;
  std::set<std::string> ids;
  for (int i = 0; i < n; ++i) {
    const text_message m = message("twice", i, 0);
    ids.insert(m.id);
    std::latch start(2);
    unsigned first = 0, second = 0;
    std::thread a([&] {
      start.arrive_and_wait();
      first = deliver(c.at(i % 3).started.webhook, {m}).status;
    });
    std::thread b([&] {
      start.arrive_and_wait();
      second = deliver(c.at((i + 1) % 3).started.webhook, {m}).status;
    });
    a.join();
    b.join();
    BOOST_TEST(first == 200u, m.id);
    BOOST_TEST(second == 200u, m.id);
  }
  BOOST_REQUIRE(c.all_answered(ids, wait_limit));
  // Admission decided it: one replica stored each message, the other called it a duplicate.
  const std::string logs = c.logs();
  BOOST_TEST(occurrences(logs, "duplicate delivery of wamid.twice.") == std::size_t(n));
  BOOST_TEST(occurrences(logs, "queued") == std::size_t(n));
  for (const auto& [id, count] : answer_counts(c.graph().requests()))
    BOOST_TEST(count == 1, id);
  BOOST_TEST(c.robofy().request_count() == std::size_t(n));
}

// While Robofy holds one customer the others are answered; the held one's lines stay in order.
BOOST_AUTO_TEST_CASE(a_slow_conversation_does_not_delay_another) {
  const std::string slow = customer_of(0);
  cluster c({}, robofy_echo(), graph_accepting());
  c.robofy().set_responder([slow, inner = robofy_echo()](const recorded_request& req) {
    canned_reply reply = inner(req);
    reply.hold = robofy_session(req) == slow;
    return reply;
  });
  for (int i = 0; i < 3; ++i)
    c.start_replica();
  round_robin_proxy proxy(c.webhooks());
  const auto to = [&] { return proxy.endpoint(); };
  const auto deadline = std::chrono::steady_clock::now() + wait_limit;
  BOOST_REQUIRE(deliver_until_accepted(to, {message("slow", 0, 0)}, deadline));
  BOOST_REQUIRE(c.robofy().wait_for_requests(1, wait_limit));
  BOOST_REQUIRE(deliver_until_accepted(to, {message("slow", 0, 1)}, deadline));
  std::set<std::string> fast;
  for (int n = 1; n <= 20; ++n) {
    const text_message m = message("slow", n, 0);
    BOOST_REQUIRE(deliver_until_accepted(to, {m}, deadline));
    fast.insert(m.id);
  }
  BOOST_TEST(c.all_answered(fast, 10s));
  const auto counts = answer_counts(c.graph().requests());
  BOOST_TEST(counts.count("wamid.slow.0.0") == 0u);
  BOOST_TEST(counts.count("wamid.slow.0.1") == 0u);

  c.robofy().release_held();
  BOOST_REQUIRE(c.all_answered({"wamid.slow.0.0", "wamid.slow.0.1"}, wait_limit));
  const auto firsts = first_answers_by_customer(c.graph().requests());
  BOOST_TEST(firsts.at(slow) == (std::vector<std::string>{"wamid.slow.0.0", "wamid.slow.0.1"}));
}

// kill -9 mid-answer: taken over after the lease; in doubt only the reply already sent to Graph.
BOOST_AUTO_TEST_CASE(kill_minus_9_mid_answer_others_answer_after_the_lease) {
  const std::string thinking = customer_of(1);  // Robofy holds the victim's question
  const std::string sending = customer_of(2);   // Graph holds the victim's reply
  cluster c({}, holding_first({thinking}, robofy_echo(), robofy_session),
            holding_first({sending}, graph_accepting(), graph_text_to));
  replica& victim = c.start_replica();
  const auto deadline = std::chrono::steady_clock::now() + wait_limit;
  const auto to_victim = [&] { return victim.started.webhook; };
  BOOST_REQUIRE(deliver_until_accepted(to_victim, {message("kill", 1, 0)}, deadline));
  BOOST_REQUIRE(deliver_until_accepted(to_victim, {message("kill", 2, 0)}, deadline));
  BOOST_REQUIRE(c.robofy().wait_until(
      [&](const auto& reqs) {
        return std::any_of(reqs.begin(), reqs.end(),
                           [&](const auto& r) { return robofy_session(r) == thinking; });
      },
      wait_limit));
  BOOST_REQUIRE(c.graph().wait_until(
      [&](const auto& reqs) {
        return std::any_of(reqs.begin(), reqs.end(),
                           [&](const auto& r) { return graph_text_to(r) == sending; });
      },
      wait_limit));
  // A second line from the customer Robofy is thinking about waits behind the claim.
  BOOST_REQUIRE(deliver_until_accepted(to_victim, {message("kill", 1, 1)}, deadline));
  c.start_replica();
  c.start_replica();

  victim.process().send_signal(SIGKILL);
  victim.process().wait_for_exit(5s);  // killed: no exit code
  BOOST_REQUIRE(!victim.process().running());
  const auto killed_at = std::chrono::steady_clock::now();
  // The victim's send to Graph counts as one, so the message in doubt is answered when Graph
  // has been sent it twice.
  BOOST_REQUIRE(c.graph().wait_until(
      [](const auto& reqs) {
        const auto counts = answer_counts(reqs);
        return counts.count("wamid.kill.1.0") && counts.count("wamid.kill.1.1") &&
               counts.count("wamid.kill.2.0") && counts.at("wamid.kill.2.0") >= 2;
      },
      wait_limit));
  const auto took = std::chrono::steady_clock::now() - killed_at;
  BOOST_TEST_MESSAGE(
      "answered " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                  << " ms after the kill");
  BOOST_TEST((took >= 500ms));  // not before the lease (1.5 s, renewed every 0.5 s) ran out
  const std::string logs = c.at(1).log() + c.at(2).log();
  BOOST_TEST(occurrences(logs, "taken over from a replica whose lease expired") == 2u);
  const auto doubts = in_doubt(logs);
  BOOST_TEST(doubts == std::set<std::string>{"wamid.kill.2.0"});
  const auto counts = answer_counts(c.graph().requests());
  BOOST_TEST(counts.at("wamid.kill.1.0") == 1);
  BOOST_TEST(counts.at("wamid.kill.1.1") == 1);
  BOOST_TEST(counts.at("wamid.kill.2.0") == 2);  // the victim's send reached Graph: in doubt
  const auto firsts = first_answers_by_customer(c.graph().requests());
  BOOST_TEST(firsts.at(thinking) == (std::vector<std::string>{"wamid.kill.1.0", "wamid.kill.1.1"}));
}

// A replica frozen past its lease, then thawed, never sends its stale reply (begin_send fenced).
BOOST_AUTO_TEST_CASE(a_replica_frozen_past_its_lease_never_sends_its_stale_reply) {
  const std::string customer = customer_of(3);
  cluster c({}, holding_first({customer}, robofy_echo(), robofy_session));
  replica& frozen = c.start_replica();
  const auto deadline = std::chrono::steady_clock::now() + wait_limit;
  BOOST_REQUIRE(deliver_until_accepted([&] { return frozen.started.webhook; },
                                       {message("frozen", 3, 0)}, deadline));
  BOOST_REQUIRE(c.robofy().wait_for_requests(1, wait_limit));
  replica& other = c.start_replica();

  frozen.process().send_signal(SIGSTOP);
  BOOST_REQUIRE(c.all_answered({"wamid.frozen.3.0"}, wait_limit));
  BOOST_TEST(other.log().find("taken over from a replica whose lease expired") !=
             std::string::npos);
  BOOST_TEST(c.robofy().request_count() == 2u);

  // Robofy's answer to the frozen replica is waiting in its socket when it wakes up.
  c.robofy().release_held();
  frozen.process().send_signal(SIGCONT);
  BOOST_TEST(frozen.process().wait_for_output("is no longer ours", wait_limit), frozen.log());
  BOOST_TEST(answer_counts(c.graph().requests()).at("wamid.frozen.3.0") == 1);
  BOOST_TEST(c.doubted().empty());

  // Thawed, it still answers: its next customer's message (sent to it) is answered once.
  BOOST_REQUIRE(deliver_until_accepted([&] { return frozen.started.webhook; },
                                       {message("frozen", 4, 0)}, deadline));
  BOOST_REQUIRE(c.all_answered({"wamid.frozen.4.0"}, wait_limit));
  BOOST_TEST(answer_counts(c.graph().requests()).at("wamid.frozen.3.0") == 1);
  BOOST_TEST(answer_counts(c.graph().requests()).at("wamid.frozen.4.0") == 1);
}

// kill -9 of Redis mid-traffic, restarted on its AOF: every 200 answered, twice only in doubt.
BOOST_AUTO_TEST_CASE(kill_minus_9_of_redis_loses_no_accepted_message) {
  cluster c({}, [inner = robofy_echo()](const recorded_request& req) {
    canned_reply reply = inner(req);
    reply.delay = 5ms;  // answers take a moment, so some are in flight at the kill
    return reply;
  });
  for (int i = 0; i < 3; ++i)
    c.start_replica();
  round_robin_proxy proxy(c.webhooks());
  traffic meta([&] { return proxy.endpoint(); }, 20, "redis", 5ms);
  BOOST_REQUIRE(eventually([&] { return meta.accepted() >= 40; }, wait_limit));
  c.redis().kill();
  // Down long enough for several deliveries to be refused (and retried, as Meta does).
  const int refused_before = meta.refused();
  BOOST_TEST(eventually([&] { return meta.refused() >= refused_before + 5; }, 10s));
  c.redis().restart();
  const std::size_t at_restart = meta.accepted();
  BOOST_REQUIRE(eventually([&] { return meta.accepted() >= at_restart + 40; }, 60s));
  meta.finish();
  BOOST_REQUIRE(!meta.failed());
  BOOST_REQUIRE(c.all_answered(meta.accepted_ids(), 60s));
  c.check_answered_once_in_order(meta.accepted_ids(), meta.order());
  BOOST_TEST_MESSAGE(meta.refused() << " deliveries refused and retried");
}

// A rolling restart under traffic loses nothing, doubles nothing not in doubt; stops exit 0.
BOOST_AUTO_TEST_CASE(a_rolling_restart_under_traffic_loses_nothing) {
  cluster c;
  for (int i = 0; i < 3; ++i)
    c.start_replica();
  round_robin_proxy proxy(c.webhooks());
  traffic meta([&] { return proxy.endpoint(); }, 30, "roll", 10ms);
  BOOST_REQUIRE(eventually([&] { return meta.accepted() >= 30; }, wait_limit));
  for (std::size_t old = 0; old < 3; ++old) {
    // The load balancer stops sending to it once its /readyz says so; the test says so at once.
    std::vector<tcp::endpoint> rest;
    for (std::size_t i = 0; i < c.started(); ++i) {
      if (i != old && c.at(i).process().running()) rest.push_back(c.at(i).started.webhook);
    }
    proxy.set_backends(rest);
    c.at(old).process().send_signal(SIGTERM);
    BOOST_TEST(c.at(old).process().wait_for_exit(20s).value_or(-1) == 0, c.at(old).name);
    const std::size_t before = meta.accepted();
    c.start_replica();
    proxy.set_backends(c.webhooks());
    BOOST_REQUIRE(eventually([&] { return meta.accepted() >= before + 20; }, wait_limit));
  }
  meta.finish();
  BOOST_REQUIRE(!meta.failed());
  BOOST_REQUIRE(c.all_answered(meta.accepted_ids(), 60s));
  c.check_answered_once_in_order(meta.accepted_ids(), meta.order());
}

// messages_per_second is shared: Graph never gets more than rate + burst texts in a second.
BOOST_AUTO_TEST_CASE(pacing_is_shared_by_all_replicas) {
  constexpr int rate = 8;
  constexpr int burst = std::max(1, rate / 4);
  cluster c({.messages_per_second = rate});
  for (int i = 0; i < 3; ++i)
    c.start_replica();
  round_robin_proxy proxy(c.webhooks());
  std::set<std::string> ids;
  for (int n = 0; n < 40; ++n) {
    const text_message m = message("pace", n, 0);
    BOOST_REQUIRE(deliver_until_accepted([&] { return proxy.endpoint(); }, {m},
                                         std::chrono::steady_clock::now() + wait_limit));
    ids.insert(m.id);
  }
  BOOST_REQUIRE(c.all_answered(ids, 60s));
  std::vector<std::chrono::steady_clock::time_point> times;
  for (const auto& req : text_sends(c.graph().requests()))
    times.push_back(req.received_at);
  std::sort(times.begin(), times.end());
  // R + burst sends at the limit span exactly one second: a window a few milliseconds short of a
  // second keeps timer and loopback jitter from counting them together.
  constexpr auto window = 1s - 20ms;
  std::size_t most = 0;
  for (std::size_t i = 0; i < times.size(); ++i) {
    const auto end = std::lower_bound(times.begin() + static_cast<std::ptrdiff_t>(i), times.end(),
                                      times[i] + window);
    most = std::max(most, static_cast<std::size_t>(end - times.begin()) - i);
  }
  BOOST_TEST(most <= std::size_t(rate + burst));
  BOOST_TEST((times.back() - times.front() >=
              std::chrono::milliseconds((40 - burst) * 1000 / rate - 500)));
  for (std::size_t i = 0; i < 3; ++i)
    BOOST_TEST(c.at(i).log().find("answered wamid.pace.") != std::string::npos, c.at(i).name);
}

// /readyz follows Redis (503 within seconds of SIGSTOP, 200 after); /healthz is always 200.
BOOST_AUTO_TEST_CASE(readyz_follows_redis_and_healthz_does_not) {
  cluster c;
  replica& r = c.start_replica();
  const tcp::endpoint admin = r.started.admin;
  c.redis().pause();
  const auto paused_at = std::chrono::steady_clock::now();
  BOOST_TEST(eventually(
      [&] {
        BOOST_TEST(status_of(admin, "/healthz") == 200u);
        return status_of(admin, "/readyz") == 503u;
      },
      5s));
  BOOST_TEST_MESSAGE("/readyz 503 after " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 std::chrono::steady_clock::now() - paused_at)
                                                 .count()
                                          << " ms");
  const client_response refused = deliver(r.started.webhook, {message("ready", 0, 0)});
  BOOST_TEST(refused.status == 503u);
  BOOST_TEST(!refused.header("retry-after").empty());
  c.redis().resume();
  BOOST_TEST(eventually(
      [&] {
        BOOST_TEST(status_of(admin, "/healthz") == 200u);
        return status_of(admin, "/readyz") == 200u;
      },
      15s));
  BOOST_REQUIRE(deliver_until_accepted([&] { return r.started.webhook; }, {message("ready", 0, 0)},
                                       std::chrono::steady_clock::now() + wait_limit));
  BOOST_REQUIRE(c.all_answered({"wamid.ready.0.0"}, wait_limit));
  BOOST_TEST(answer_counts(c.graph().requests()).at("wamid.ready.0.0") == 1);
}

// Redis out of memory: a POST gets 503 and nothing is kept; the retry later is answered once.
BOOST_AUTO_TEST_CASE(redis_out_of_memory_refuses_deliveries_with_503) {
  cluster c;
  replica& r = c.start_replica();
  // Fill Redis past a small maxmemory with keys of the test's own.
  const std::string port = std::to_string(c.redis().port());
  const auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"-h", "127.0.0.1", "-p", port});
    return run_to_end("/usr/bin/redis-cli", args, {}, 10s);
  };
  BOOST_REQUIRE(cli({"CONFIG", "SET", "maxmemory-policy", "noeviction"}).first == 0);
  BOOST_REQUIRE(cli({"CONFIG", "SET", "maxmemory", "1"}).first == 0);  // 1 byte: always full
  const client_response refused = deliver(r.started.webhook, {message("oom", 0, 0)});
  BOOST_TEST(refused.status == 503u);
  BOOST_TEST(cli({"--scan", "--pattern", "*wamid.oom.0.0*"}).second == "");
  BOOST_TEST(r.log().find("storing a delivery failed") != std::string::npos);
  BOOST_REQUIRE(cli({"CONFIG", "SET", "maxmemory", "0"}).first == 0);
  BOOST_REQUIRE(deliver_until_accepted([&] { return r.started.webhook; }, {message("oom", 0, 0)},
                                       std::chrono::steady_clock::now() + wait_limit));
  BOOST_REQUIRE(c.all_answered({"wamid.oom.0.0"}, wait_limit));
  BOOST_TEST(answer_counts(c.graph().requests()).at("wamid.oom.0.0") == 1);
}

// SIGTERM hands back at once what no reply is being written for; another replica answers it.
BOOST_AUTO_TEST_CASE(sigterm_hands_owned_conversations_back_at_once) {
  const std::set<std::string> customers{customer_of(5), customer_of(6)};
  cluster c({.lease = "30s", .timeout = "2s", .grace = "20s"},
            holding_first(customers, robofy_echo(), robofy_session));
  replica& leaving = c.start_replica();
  const auto deadline = std::chrono::steady_clock::now() + wait_limit;
  for (const int n : {5, 6}) {
    BOOST_REQUIRE(deliver_until_accepted([&] { return leaving.started.webhook; },
                                         {message("term", n, 0)}, deadline));
  }
  BOOST_REQUIRE(c.robofy().wait_for_requests(2, wait_limit));
  replica& staying = c.start_replica();

  const auto stopped_at = std::chrono::steady_clock::now();
  leaving.process().send_signal(SIGTERM);
  BOOST_REQUIRE(c.all_answered({"wamid.term.5.0", "wamid.term.6.0"}, 10s));
  BOOST_TEST(leaving.process().wait_for_exit(10s).value_or(-1) == 0, leaving.log());
  const auto took = std::chrono::steady_clock::now() - stopped_at;
  BOOST_TEST((took < 10s));
  BOOST_TEST(occurrences(leaving.log(), "handed back for another replica") == 2u);
  BOOST_TEST(staying.log().find("taken over from a replica whose lease expired") ==
             std::string::npos);
  const auto counts = answer_counts(c.graph().requests());
  BOOST_TEST(counts.at("wamid.term.5.0") == 1);
  BOOST_TEST(counts.at("wamid.term.6.0") == 1);
}

// SIGTERM lets a reply being written finish within the grace instead of handing it back.
BOOST_AUTO_TEST_CASE(sigterm_finishes_a_reply_being_written_within_the_grace) {
  const std::string customer = customer_of(7);
  cluster c({.lease = "30s", .timeout = "2s", .grace = "20s"}, robofy_echo(),
            holding_first({customer}, graph_accepting(), graph_text_to));
  replica& leaving = c.start_replica();
  BOOST_REQUIRE(deliver_until_accepted([&] { return leaving.started.webhook; },
                                       {message("write", 7, 0)},
                                       std::chrono::steady_clock::now() + wait_limit));
  BOOST_REQUIRE(c.graph().wait_for_requests(1, wait_limit));
  replica& staying = c.start_replica();
  leaving.process().send_signal(SIGTERM);
  // It waits for the reply in flight: still running while Graph holds the answer.
  BOOST_TEST(leaving.process().wait_for_output("draining", 5s));
  BOOST_TEST(!leaving.process().wait_for_exit(1s).has_value());
  c.graph().release_held();
  BOOST_TEST(leaving.process().wait_for_exit(10s).value_or(-1) == 0, leaving.log());
  BOOST_TEST(answer_counts(c.graph().requests()).at("wamid.write.7.0") == 1);
  BOOST_TEST(staying.log().find("wamid.write.7.0") == std::string::npos);
  BOOST_TEST(c.doubted().empty());
}

BOOST_AUTO_TEST_SUITE_END()
