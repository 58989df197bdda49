// The pipeline's workers against a fake shared store (no sockets): what they record and when,
// for claims whose fence holds or is lost. A claim is answered as claim -> Robofy -> begin_send
// -> Graph -> finish -> release; a fenced step means nothing more is sent for that claim.
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "bridge/pipeline.hpp"
#include "bridge/store/errc.hpp"
#include "tests/support/running_bridge.hpp"

namespace asio = boost::asio;
namespace store = bridge::store;
using namespace std::chrono_literals;

namespace {

// What the workers did, in order, as short words: "claim c1#7", "ask text of m1",
// "begin c1#7 m1", "send Echo: text of m1", "finish c1#7 m1", "release c1#7".
using event_log = std::vector<std::string>;

std::string tag(const store::claim& c) {
  return c.conversation + "#" + std::to_string(c.fence);
}
std::string joined(std::span<const std::string> ids) {
  std::string out;
  for (const auto& id : ids)
    out += (out.empty() ? "" : ",") + id;
  return out;
}

// A shared store as the workers see it: claims handed out from a script, fences that can be
// lost at any moment (every later step of such a claim is errc::fenced, as in Redis), messages
// that arrive for take_more.
class fake_store final : public store::message_store {
 public:
  fake_store(asio::any_io_executor executor, event_log& log) : wake_(executor), log_(log) {}

  void offer(store::claim c) {
    offered_.push_back(std::move(c));
    wake_.cancel();
  }
  void arrive(const std::string& conversation, store::pending_message m) {
    arrived_[conversation].push_back(std::move(m));
  }
  void lose(const store::claim& c) { lost_.insert(tag(c)); }

  asio::awaitable<store::admission_result> admit(std::span<store::admission_entry>) override {
    co_return store::admission_result{};
  }
  asio::awaitable<std::optional<store::claim>> claim_next() override {
    while (offered_.empty() && !closed_) {
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (closed_) co_return std::nullopt;
    store::claim c = std::move(offered_.front());
    offered_.pop_front();
    log_.push_back("claim " + tag(c));
    co_return c;
  }
  asio::awaitable<boost::system::error_code> take_more(store::claim& held) override {
    if (lost_.count(tag(held))) co_return fenced("take_more", held);
    auto& more = arrived_[held.conversation];
    log_.push_back("take_more " + tag(held) + " " + std::to_string(more.size()));
    for (auto& m : more)
      held.messages.push_back(std::move(m));
    more.clear();
    co_return boost::system::error_code{};
  }
  asio::awaitable<boost::system::error_code> begin_send(const store::claim& held,
                                                        std::span<const std::string> ids) override {
    if (lost_.count(tag(held))) co_return fenced("begin", held);
    log_.push_back("begin " + tag(held) + " " + joined(ids));
    co_return boost::system::error_code{};
  }
  asio::awaitable<boost::system::error_code> finish(const store::claim& held,
                                                    std::span<const std::string> ids) override {
    if (lost_.count(tag(held))) co_return fenced("finish", held);
    log_.push_back("finish " + tag(held) + " " + joined(ids));
    co_return boost::system::error_code{};
  }
  asio::awaitable<void> release(store::claim held) override {
    log_.push_back("release " + tag(held));
    co_return;
  }
  store::leftovers close() override {
    closed_ = true;
    wake_.cancel();
    return {};
  }
  asio::awaitable<std::chrono::steady_clock::duration> reserve_send(const std::string&,
                                                                    std::uint32_t) override {
    co_return std::chrono::steady_clock::duration::zero();
  }
  void remember_reply(const std::string&, store::reply_origin) override {}
  asio::awaitable<std::optional<store::reply_origin>> find_reply(const std::string&) override {
    co_return std::nullopt;
  }
  // Pauses are only asked about (and logged); dead letters are only logged.
  asio::awaitable<boost::system::error_code> pause(store::pause) override {
    co_return boost::system::error_code{};
  }
  asio::awaitable<bool> is_paused(const std::string& conversation) override {
    log_.push_back("is_paused " + conversation);
    co_return false;
  }
  asio::awaitable<bool> resume(const std::string&) override { co_return false; }
  asio::awaitable<std::vector<store::pause>> paused() override {
    co_return std::vector<store::pause>{};
  }
  asio::awaitable<boost::system::error_code> add_dead_letter(store::dead_letter d) override {
    log_.push_back("dead letter " + d.wamid + " " + d.reason);
    co_return boost::system::error_code{};
  }
  asio::awaitable<std::vector<store::dead_letter>> dead_letters(std::size_t, std::string_view,
                                                                std::string_view) override {
    co_return std::vector<store::dead_letter>{};
  }
  asio::awaitable<std::optional<store::dead_letter>> find_dead_letter(const std::string&) override {
    co_return std::nullopt;
  }
  asio::awaitable<store::replay_result> replay(const std::string&, store::wall_time) override {
    co_return store::replay_result::not_found;
  }
  asio::awaitable<bool> delete_dead_letter(const std::string&) override { co_return false; }
  void set_dead_letter_limits(std::size_t, std::chrono::milliseconds) override {}

  std::size_t unfinished() const override { return 0; }
  std::size_t capacity() const override { return 1000; }
  void set_capacity(std::size_t) override {}
  bool writable() const override { return true; }

 private:
  boost::system::error_code fenced(const char* step, const store::claim& held) {
    log_.push_back(std::string("fenced ") + step + " " + tag(held));
    return store::errc::fenced;
  }

  asio::steady_timer wake_;
  event_log& log_;
  std::deque<store::claim> offered_;
  std::map<std::string, std::vector<store::pending_message>> arrived_;
  std::set<std::string> lost_;
  bool closed_ = false;
};

// Robofy echoing the query; `while_asked` runs as the question comes in (a lease lost meanwhile).
class echo_chat final : public bridge::robofy::client::chat_service {
 public:
  explicit echo_chat(event_log& log) : log_(log) {}
  std::function<void(const std::string& query)> while_asked;

  asio::awaitable<bridge::robofy::chat_reply> ask(const bridge::robofy::client::chat_target&,
                                                  const bridge::robofy::chat_request& r) override {
    log_.push_back("ask " + r.query);
    if (while_asked) while_asked(r.query);
    bridge::robofy::chat_reply reply;
    reply.outcome = bridge::robofy::chat_outcome::answered;
    reply.http_status = 200;
    reply.answer = "Echo: " + r.query;
    co_return reply;
  }

 private:
  event_log& log_;
};

// Graph accepting every send.
class accepting_sender final : public bridge::webhook::meta::message_sender {
 public:
  explicit accepting_sender(event_log& log) : log_(log) {}
  asio::awaitable<bridge::webhook::meta::graph_reply> send_text(
      const bridge::webhook::meta::graph_target&, const std::string&, bool,
      const std::string& body) override {
    log_.push_back("send " + body);
    bridge::webhook::meta::graph_reply reply;
    reply.outcome = bridge::webhook::meta::graph_outcome::sent;
    reply.http_status = 200;
    reply.message_id = "wamid.out." + std::to_string(++sent_);
    co_return reply;
  }
  asio::awaitable<bridge::webhook::meta::graph_reply> mark_read(
      const bridge::webhook::meta::graph_target&, const std::string&, bool) override {
    bridge::webhook::meta::graph_reply reply;
    reply.outcome = bridge::webhook::meta::graph_outcome::sent;
    co_return reply;
  }

 private:
  event_log& log_;
  int sent_ = 0;
};

store::pending_message message(const std::string& customer, const std::string& id) {
  bridge::webhook::meta::inbound_message m;
  m.id = id;
  m.phone_number_id = bridge::test::test_number;
  m.customer_id = customer;
  m.kind = bridge::webhook::meta::message_kind::text;
  m.type = "text";
  m.disposition = bridge::webhook::meta::disposition::answer;
  m.text = "text of " + id;
  m.timestamp = 1'700'000'000;
  return store::pending_message{m, std::chrono::steady_clock::now(), false};
}

store::claim claim_of(const std::string& customer, std::uint64_t fence,
                      std::initializer_list<const char*> ids) {
  store::claim c{std::string(bridge::test::test_number) + "/" + customer, fence, {}};
  for (const char* id : ids)
    c.messages.push_back(message(customer, id));
  return c;
}

// One pipeline with `workers` workers on a fake store, stub Robofy and stub Graph.
struct workers_on_fake_store {
  explicit workers_on_fake_store(std::size_t workers = 1,
                                 std::chrono::milliseconds coalesce = 0ms) {
    bridge::config::settings s =
        bridge::test::loopback_settings("http://127.0.0.1:9", "http://127.0.0.1:9");
    s.queue.workers = workers;
    s.queue.coalesce_window = coalesce;
    fake = std::make_shared<fake_store>(io.get_executor(), log);
    chat = std::make_shared<echo_chat>(log);
    work = std::make_unique<bridge::pipeline>(
        io.get_executor(), bridge::make_runtime_settings(std::move(s)),
        bridge::pipeline_services{fake, chat, std::make_shared<accepting_sender>(log),
                                  bridge::webhook::io::make_system_clock()});
    work->start();
  }
  ~workers_on_fake_store() {
    fake->close();
    io.run_for(100ms);
  }

  // Runs until `word` is in the log (at most 5 s); false when it never came.
  bool run_until_logged(const std::string& word) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::find(log.begin(), log.end(), word) == log.end()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      io.run_one_for(50ms);
    }
    return true;
  }
  std::size_t position(const std::string& word) const {
    return static_cast<std::size_t>(std::find(log.begin(), log.end(), word) - log.begin());
  }
  std::size_t count_starting(const std::string& prefix) const {
    return static_cast<std::size_t>(std::count_if(
        log.begin(), log.end(), [&](const std::string& e) { return e.starts_with(prefix); }));
  }

  asio::io_context io;
  event_log log;
  std::shared_ptr<fake_store> fake;
  std::shared_ptr<echo_chat> chat;
  std::unique_ptr<bridge::pipeline> work;
};

std::string text_for(std::initializer_list<const char*> ids) {
  std::string t;
  for (const char* id : ids)
    t += (t.empty() ? "" : "\n") + std::string("text of ") + id;
  return t;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pipeline_fencing)

// Claim, Robofy, begin_send, Graph, finish, release: in that order, once each.
BOOST_AUTO_TEST_CASE(a_claim_is_begun_before_the_send_finished_after_and_released) {
  workers_on_fake_store w;
  w.fake->offer(claim_of("c1", 7, {"m1", "m2"}));
  const std::string c1 = std::string(bridge::test::test_number) + "/c1#7";
  BOOST_REQUIRE(w.run_until_logged("release " + c1));
  const std::string sent = "send Echo: " + text_for({"m1", "m2"});
  BOOST_TEST(w.position("begin " + c1 + " m1,m2") < w.position(sent));
  BOOST_TEST(w.position(sent) < w.position("finish " + c1 + " m1,m2"));
  BOOST_TEST(w.position("finish " + c1 + " m1,m2") < w.position("release " + c1));
  BOOST_TEST(w.count_starting("ask ") == 1u);
  BOOST_TEST(w.count_starting("send ") == 1u);
  // The claim said whether the conversation is paused: nobody asks again before the question.
  BOOST_TEST(w.count_starting("is_paused ") == 0u);
}

// A claim of a conversation handed to a person asks Robofy nothing and sends nothing: its
// messages are finished unanswered and the conversation given back.
BOOST_AUTO_TEST_CASE(a_claim_of_a_paused_conversation_asks_nothing_and_finishes_unanswered) {
  workers_on_fake_store w;
  store::claim paused = claim_of("c1", 9, {"m1", "m2"});
  paused.paused = true;
  w.fake->offer(std::move(paused));
  const std::string c1 = std::string(bridge::test::test_number) + "/c1#9";
  BOOST_REQUIRE(w.run_until_logged("release " + c1));
  BOOST_TEST(w.position("finish " + c1 + " m1,m2") < w.position("release " + c1));
  BOOST_TEST(w.count_starting("ask ") == 0u);
  BOOST_TEST(w.count_starting("begin ") == 0u);
  BOOST_TEST(w.count_starting("send ") == 0u);
}

// A fenced begin_send sends and finishes nothing; the worker goes on to the next claim.
BOOST_AUTO_TEST_CASE(a_fenced_begin_send_sends_nothing_and_the_worker_moves_on) {
  workers_on_fake_store w;
  const auto lost = claim_of("c1", 3, {"m1"});
  w.fake->lose(lost);
  w.fake->offer(lost);
  w.fake->offer(claim_of("c2", 4, {"m2"}));
  const std::string c1 = std::string(bridge::test::test_number) + "/c1#3";
  const std::string c2 = std::string(bridge::test::test_number) + "/c2#4";
  BOOST_REQUIRE(w.run_until_logged("release " + c2));
  BOOST_TEST(w.count_starting("fenced begin " + c1) == 1u);
  BOOST_TEST(w.count_starting("finish " + c1) == 0u);
  BOOST_TEST(w.count_starting("send ") == 1u);
  BOOST_TEST(w.count_starting("send Echo: text of m2") == 1u);
}

// A claim lost while Robofy thinks sends nothing: the fence is checked right before the send.
BOOST_AUTO_TEST_CASE(a_claim_lost_while_robofy_thinks_sends_nothing) {
  workers_on_fake_store w;
  const auto held = claim_of("c1", 5, {"m1"});
  w.chat->while_asked = [&](const std::string&) { w.fake->lose(held); };
  w.fake->offer(held);
  w.fake->offer(claim_of("c2", 6, {"m2"}));
  const std::string c2 = std::string(bridge::test::test_number) + "/c2#6";
  BOOST_REQUIRE(w.run_until_logged("release " + c2));
  BOOST_TEST(w.count_starting("ask text of m1") == 1u);
  BOOST_TEST(w.count_starting("send Echo: text of m1") == 0u);
  BOOST_TEST(w.count_starting("send ") == 1u);
}

// Lines that arrive in the coalesce window join the claim (take_more): one query, one reply.
BOOST_AUTO_TEST_CASE(take_more_coalesces_what_arrived_into_one_answer) {
  workers_on_fake_store w(1, 50ms);
  w.fake->arrive(std::string(bridge::test::test_number) + "/c1", message("c1", "m2"));
  w.fake->arrive(std::string(bridge::test::test_number) + "/c1", message("c1", "m3"));
  w.fake->offer(claim_of("c1", 2, {"m1"}));
  const std::string c1 = std::string(bridge::test::test_number) + "/c1#2";
  BOOST_REQUIRE(w.run_until_logged("release " + c1));
  BOOST_TEST(w.count_starting("take_more " + c1 + " 2") == 1u);
  BOOST_TEST(w.count_starting("ask ") == 1u);
  BOOST_TEST(w.count_starting("ask " + text_for({"m1", "m2", "m3"})) == 1u);
  BOOST_TEST(w.count_starting("begin " + c1 + " m1,m2,m3") == 1u);
  BOOST_TEST(w.count_starting("send Echo: " + text_for({"m1", "m2", "m3"})) == 1u);
  BOOST_TEST(w.count_starting("finish " + c1 + " m1,m2,m3") == 1u);
}

// A claim lost in the coalesce window (take_more fenced) asks Robofy nothing, sends nothing.
BOOST_AUTO_TEST_CASE(a_fenced_take_more_asks_and_sends_nothing) {
  workers_on_fake_store w(1, 50ms);
  const auto held = claim_of("c1", 9, {"m1"});
  w.fake->lose(held);
  w.fake->offer(held);
  w.fake->offer(claim_of("c2", 10, {"m2"}));
  const std::string c2 = std::string(bridge::test::test_number) + "/c2#10";
  BOOST_REQUIRE(w.run_until_logged("release " + c2));
  BOOST_TEST(w.count_starting("fenced take_more") == 1u);
  BOOST_TEST(w.count_starting("ask text of m1") == 0u);
  BOOST_TEST(w.count_starting("send Echo: text of m1") == 0u);
  BOOST_TEST(w.count_starting("send ") == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
