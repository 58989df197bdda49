// The Redis store against a real redis-server: admission verdicts and their atomicity, claims and
// fencing across two stores (two replicas in one process, each with its own connection), lease
// takeover with in-doubt sends, shared capacity and pacing, the reply index, and Redis failing
// (paused, out of memory).
#include "bridge/store/redis_store.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bridge/store/errc.hpp"
#include "bridge/store/send_pacer.hpp"
#include "tests/queue/redis/test_io.hpp"
#include "tests/support/redis_server.hpp"

namespace asio = boost::asio;
namespace store = bridge::store;
namespace redis = bridge::queue::redis;
using bridge::queue::redis::test::answered;
using bridge::queue::redis::test::log_capture;
using bridge::queue::redis::test::options_for;
using bridge::queue::redis::test::run_until;
using bridge::queue::redis::test::wait_until_answers;
using bridge::test::redis_server;
using bridge::test::redis_server_options;
using namespace std::chrono_literals;

namespace {

constexpr const char* number = "106540352242922";
constexpr const char* prefix = "rtest";
const boost::system::error_code fenced = store::make_error_code(store::errc::fenced);
const boost::system::error_code unavailable = store::make_error_code(store::errc::unavailable);

// Time passes, but nothing the store sleeps for ever ends: it never renews a lease (a replica
// frozen between two renewals) and looks at Redis's health only once.
class stopped_clock final : public bridge::webhook::io::clock {
 public:
  time_point now() const override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall_now() const override {
    return std::chrono::system_clock::now();
  }
  asio::awaitable<void> sleep_until(time_point) override {
    asio::steady_timer never(co_await asio::this_coro::executor, time_point::max());
    co_await never.async_wait(asio::use_awaitable);
  }
};

// A text message of `customer` to the test number.
bridge::webhook::meta::inbound_message text(const std::string& customer, const std::string& id) {
  bridge::webhook::meta::inbound_message m;
  m.id = id;
  m.phone_number_id = number;
  m.customer_id = customer;
  m.kind = bridge::webhook::meta::message_kind::text;
  m.type = "text";
  m.disposition = bridge::webhook::meta::disposition::answer;
  m.text = "text of " + id;
  m.timestamp = 1'700'000'000;
  return m;
}

store::admission_entry entry(const std::string& customer, const std::string& id,
                             bool answer = true) {
  return store::admission_entry{store::pending_message{text(customer, id), {}, false}, answer};
}

std::string conversation_of(const std::string& customer) {
  // Appended piece by piece: GCC 12 takes `std::string(number) + "/" + customer`, inlined here,
  // for a write past a 32-byte buffer (-Warray-bounds, a known false positive).
  std::string conversation(number);
  conversation += '/';
  conversation += customer;
  return conversation;
}

// The key of `what` ("seen:<id>", "q:<conversation>", ...) in a conversation's partition.
std::string key(const std::string& customer, const std::string& what) {
  return std::string(prefix) + ":{" +
         std::to_string(store::redis_store::partition_of(conversation_of(customer))) + "}:" + what;
}

std::vector<std::string> ids_of(const store::claim& c) {
  std::vector<std::string> ids;
  for (const auto& m : c.messages)
    ids.push_back(m.message.id);
  return ids;
}

std::vector<bool> doubts_of(const store::claim& c) {
  std::vector<bool> doubts;
  for (const auto& m : c.messages)
    doubts.push_back(m.in_doubt);
  return doubts;
}

std::vector<std::string> ids(std::initializer_list<const char*> list) {
  return std::vector<std::string>(list.begin(), list.end());
}

// One replica: its own connection to Redis and its own store on the shared io_context.
struct replica {
  std::shared_ptr<redis::client> redis;
  std::shared_ptr<store::redis_store> store;
};

struct store_options {
  std::chrono::milliseconds lease = 30s;
  std::chrono::milliseconds timeout = 2s;
  std::size_t capacity = 1000;
  bool renews = true;  // false: a stopped_clock, so its leases run out
  int min_replica_acks = 0;
};

// A redis-server and the test's io_context, on which every replica and the test's own client
// (for looking at keys) run.
struct shared_redis {
  explicit shared_redis(redis_server_options options = {}) : server(std::move(options)) {
    direct = redis::make_client(io.get_executor(), options_for(server.url()));
    BOOST_REQUIRE(run(wait_until_answers(*direct, 5s)));
  }
  ~shared_redis() {
    for (auto& r : replicas) {
      r.store->close();
      r.redis->close();
    }
    direct->close();
    io.poll();
  }

  replica& add(const std::string& owner, store_options o = {}) {
    redis::client_options client = options_for(server.url());
    client.timeout = o.timeout;
    client.reconnect_first = 50ms;
    client.reconnect_cap = 500ms;
    replica r;
    r.redis = redis::make_client(io.get_executor(), client);
    BOOST_REQUIRE(run(wait_until_answers(*r.redis, 5s)));
    store::redis_store_options options;
    options.key_prefix = prefix;
    options.lease = o.lease;
    options.timeout = o.timeout;
    options.capacity = o.capacity;
    options.min_replica_acks = o.min_replica_acks;
    options.owner = owner;
    std::shared_ptr<bridge::webhook::io::clock> clock;
    if (o.renews) {
      clock = bridge::webhook::io::make_system_clock();
    } else {
      clock = std::make_shared<stopped_clock>();
    }
    r.store = std::make_shared<store::redis_store>(io.get_executor(), r.redis, clock, options);
    r.store->start();
    replicas.push_back(r);
    return replicas.back();
  }

  // Runs `work` on the io_context to its end (at most `limit`) and returns its value.
  template <class T>
  T run(asio::awaitable<T> work, std::chrono::milliseconds limit = 15s) {
    return bridge::queue::redis::test::run(io, std::move(work), limit);
  }
  void run(asio::awaitable<void> work, std::chrono::milliseconds limit = 15s) {
    run(
        [](asio::awaitable<void> w) -> asio::awaitable<bool> {
          co_await std::move(w);
          co_return true;
        }(std::move(work)),
        limit);
  }

  store::admission_result admit(replica& r, std::vector<store::admission_entry> entries) {
    return run(r.store->admit(entries));  // entries outlive the run
  }
  // A claim by `r` within `limit`, or nullopt. A claim_next still waiting then is ended by
  // closing the store, so it cannot take a later claim unseen.
  std::optional<store::claim> claim(replica& r, std::chrono::milliseconds limit = 5s) {
    auto got = std::make_shared<std::optional<std::optional<store::claim>>>();
    asio::co_spawn(
        io, r.store->claim_next(),
        [got](std::exception_ptr, std::optional<store::claim> c) { *got = std::move(c); });
    if (run_until(
            io, [&] { return got->has_value(); }, limit)) {
      return std::move(**got);
    }
    r.store->close();
    BOOST_REQUIRE(run_until(
        io, [&] { return got->has_value(); }, 2s));
    BOOST_REQUIRE(!got->value());  // closing ends a waiting claim_next with nullopt
    return std::nullopt;
  }
  // `count` claims by `r` (each within `limit`), by conversation.
  std::map<std::string, store::claim> claim_each(replica& r, int count,
                                                 std::chrono::milliseconds limit = 5s) {
    std::map<std::string, store::claim> claims;
    for (int i = 0; i < count; ++i) {
      auto got = claim(r, limit);
      BOOST_REQUIRE(got);
      std::string conversation = got->conversation;
      claims.emplace(std::move(conversation), std::move(*got));
    }
    return claims;
  }
  boost::system::error_code begin_send(replica& r, const store::claim& c,
                                       std::vector<std::string> which) {
    return run(r.store->begin_send(c, which));
  }
  boost::system::error_code finish(replica& r, const store::claim& c,
                                   std::vector<std::string> which) {
    return run(r.store->finish(c, which));
  }
  void release(replica& r, store::claim c) { run(r.store->release(std::move(c))); }

  // A command through the test's own connection.
  redis::reply call(std::initializer_list<std::string_view> args) {
    return answered(run(direct->command(args)));
  }
  long long exists(const std::string& k) { return call({"EXISTS", k}).integer().value_or(-1); }
  long long unfinished() {
    const auto r = call({"GET", std::string(prefix) + ":{cap}:unfinished"});
    return r.is_nil() ? 0 : std::stoll(std::string(*r.text()));
  }
  // Lets the io_context run for `d` (for negative checks: nothing may happen meanwhile).
  void idle(std::chrono::milliseconds d) {
    asio::steady_timer pause(io, d);
    bool over = false;
    pause.async_wait([&](boost::system::error_code) { over = true; });
    run_until(
        io, [&] { return over; }, d + 1s);
  }

  asio::io_context io;
  redis_server server;
  std::shared_ptr<redis::client> direct;
  std::deque<replica> replicas;  // a deque: references to replicas stay valid
};

}  // namespace

BOOST_AUTO_TEST_SUITE(redis_store_suite, *boost::unit_test::timeout(120))

// Verdicts in order; from the first that does not fit on, all is refused and nothing remembered.
BOOST_AUTO_TEST_CASE(admission_verdicts_stop_at_the_first_message_that_does_not_fit) {
  shared_redis r;
  replica& a = r.add("a", {.capacity = 2});
  const auto result =
      r.admit(a, {entry("c1", "m1"), entry("c1", "r1", false), entry("c1", "m1"), entry("c2", "m2"),
                  entry("c1", "m3"), entry("c2", "r2", false), entry("c3", "m4")});
  BOOST_REQUIRE(!result.error);
  using v = store::verdict;
  BOOST_TEST((result.verdicts == std::vector<v>{v::stored, v::remembered, v::duplicate, v::stored,
                                                v::no_room, v::no_room, v::no_room}));
  BOOST_TEST(r.unfinished() == 2);
  // What was refused left nothing behind, so Meta's retry brings it again.
  for (const auto& [customer, id] : {std::pair{"c1", "m3"}, {"c2", "r2"}, {"c3", "m4"}}) {
    BOOST_TEST(r.exists(key(customer, std::string("seen:") + id)) == 0, id);
    BOOST_TEST(r.exists(key(customer, std::string("m:") + id)) == 0, id);
  }
  BOOST_TEST(r.exists(key("c3", "q:" + conversation_of("c3"))) == 0);
  // A retry of what was accepted is a duplicate, remembered messages included.
  const auto again = r.admit(a, {entry("c1", "m1"), entry("c1", "r1", false)});
  BOOST_TEST((again.verdicts == std::vector<v>{v::duplicate, v::duplicate}));
  BOOST_TEST(a.store->stats().refusals == 0u);
}

// Two replicas admitting the same messages at the same moment store each once.
BOOST_AUTO_TEST_CASE(concurrent_duplicate_admissions_from_two_replicas_store_one_copy) {
  shared_redis r;
  replica& a = r.add("a");
  replica& b = r.add("b");
  constexpr int n = 40;
  std::vector<store::admission_result> from_a(n), from_b(n);
  // Each admission's entries, alive until every admission has finished.
  std::vector<std::vector<store::admission_entry>> deliveries;
  deliveries.reserve(2 * n);
  int done = 0;
  for (int i = 0; i < n; ++i) {
    const std::string id = "dup." + std::to_string(i);
    const std::string customer = "c" + std::to_string(i % 7);
    for (auto* target : {&a, &b}) {
      auto& out = target == &a ? from_a[i] : from_b[i];
      deliveries.push_back({entry(customer, id)});
      asio::co_spawn(r.io, target->store->admit(deliveries.back()),
                     [&out, &done](std::exception_ptr, store::admission_result result) {
                       out = std::move(result);
                       ++done;
                     });
    }
  }
  BOOST_REQUIRE(run_until(
      r.io, [&] { return done == 2 * n; }, 15s));
  for (int i = 0; i < n; ++i) {
    BOOST_REQUIRE(!from_a[i].error);
    BOOST_REQUIRE(!from_b[i].error);
    const int stored = (from_a[i].verdicts[0] == store::verdict::stored) +
                       (from_b[i].verdicts[0] == store::verdict::stored);
    const int dups = (from_a[i].verdicts[0] == store::verdict::duplicate) +
                     (from_b[i].verdicts[0] == store::verdict::duplicate);
    BOOST_TEST(stored == 1, "message " << i);
    BOOST_TEST(dups == 1, "message " << i);
  }
  BOOST_TEST(r.unfinished() == n);
}

// A claim takes all waiting messages in order, with a fence; nobody else can claim them meanwhile.
BOOST_AUTO_TEST_CASE(a_claim_takes_the_conversation_in_order_and_nobody_else_can_claim_it) {
  shared_redis r;
  replica& a = r.add("a");
  replica& b = r.add("b");
  BOOST_REQUIRE(!r.admit(a, {entry("c1", "m1"), entry("c1", "m2")}).error);
  BOOST_REQUIRE(!r.admit(b, {entry("c1", "m3")}).error);
  auto held = r.claim(a);
  BOOST_REQUIRE(held);
  BOOST_TEST(held->conversation == conversation_of("c1"));
  BOOST_TEST(held->fence > 0u);
  BOOST_TEST(ids_of(*held) == ids({"m1", "m2", "m3"}));
  BOOST_TEST((doubts_of(*held) == std::vector<bool>(3, false)));
  BOOST_TEST(a.store->stats().owned == 1u);

  BOOST_REQUIRE(!r.admit(b, {entry("c1", "m4"), entry("c1", "m5")}).error);
  // b looks for work several times over (it polls every 25 ms) and finds none.
  BOOST_TEST(!r.claim(b, 400ms));
  BOOST_REQUIRE(!r.run(a.store->take_more(*held)));
  BOOST_TEST(ids_of(*held) == ids({"m1", "m2", "m3", "m4", "m5"}));
  BOOST_REQUIRE(!r.run(a.store->take_more(*held)));
  BOOST_TEST(held->messages.size() == 5u);  // nothing twice

  // Finished and given back: the next claim of the conversation has a higher fence.
  BOOST_REQUIRE(!r.begin_send(a, *held, ids_of(*held)));
  BOOST_REQUIRE(!r.finish(a, *held, ids_of(*held)));
  const auto first_fence = held->fence;
  r.release(a, std::move(*held));
  BOOST_TEST(r.unfinished() == 0);
  BOOST_REQUIRE(!r.admit(a, {entry("c1", "m6")}).error);
  const auto next = r.claim(a);
  BOOST_REQUIRE(next);
  BOOST_TEST(next->fence > first_fence);
  BOOST_TEST(ids_of(*next) == ids({"m6"}));
}

// A stored message is "<accepted unix ms>\n<payload>", framed by the replica that accepted it, and
// a claim gives it back whole with that acceptance time (what the answer's latency counts from).
BOOST_AUTO_TEST_CASE(a_claimed_message_comes_back_whole_with_when_it_was_accepted) {
  using namespace std::chrono;
  shared_redis r;
  replica& a = r.add("a");
  const auto wall_before = duration_cast<milliseconds>(system_clock::now().time_since_epoch());
  const auto steady_before = steady_clock::now();
  BOOST_REQUIRE(!r.admit(a, {entry("c1", "m1")}).error);
  const auto wall_after = duration_cast<milliseconds>(system_clock::now().time_since_epoch());

  const auto value = r.call({"GET", key("c1", "m:m1")});
  BOOST_REQUIRE(value.text());
  const std::string stored(*value.text());
  const auto newline = stored.find('\n');
  BOOST_REQUIRE(newline != std::string::npos);
  const long long accepted_ms = std::stoll(stored.substr(0, newline));
  BOOST_TEST(accepted_ms >= wall_before.count());
  BOOST_TEST(accepted_ms <= wall_after.count());

  const auto held = r.claim(a);
  BOOST_REQUIRE(held);
  BOOST_REQUIRE(held->messages.size() == 1u);
  const auto& m = held->messages.front();
  BOOST_TEST(m.message.id == "m1");
  BOOST_TEST(m.message.text == "text of m1");
  BOOST_TEST(m.message.customer_id == "c1");
  // Milliseconds on the wall clock, turned into this process's steady time: within a few ms of
  // when admit ran, never after the claim.
  BOOST_TEST((m.accepted_at >= steady_before - 5ms));
  BOOST_TEST((m.accepted_at <= steady_clock::now()));
}

// Steps under another fence than the claim's are refused (errc::fenced) and change nothing.
BOOST_AUTO_TEST_CASE(steps_with_the_wrong_fence_are_fenced_and_change_nothing) {
  shared_redis r;
  replica& a = r.add("a");
  replica& b = r.add("b");
  BOOST_REQUIRE(!r.admit(a, {entry("c1", "m1"), entry("c1", "m2")}).error);
  auto held = r.claim(a);
  BOOST_REQUIRE(held);
  for (const std::uint64_t wrong : {held->fence + 1, held->fence - 1}) {
    store::claim forged = *held;
    forged.fence = wrong;
    BOOST_TEST(r.begin_send(a, forged, {"m1"}) == fenced);
    BOOST_TEST(r.finish(a, forged, {"m1"}) == fenced);
    BOOST_TEST(r.run(a.store->take_more(forged)) == fenced);
    r.release(a, forged);
  }
  BOOST_TEST(a.store->stats().fenced == 6u);  // a release under a fence not held does nothing
  BOOST_TEST(r.unfinished() == 2);
  // The conversation is still a's: nobody else can claim it, and a's own steps go through.
  BOOST_TEST(!r.claim(b, 300ms));
  BOOST_TEST(!r.begin_send(a, *held, {"m1"}));
  BOOST_TEST(!r.finish(a, *held, {"m1", "m2"}));
  BOOST_TEST(r.unfinished() == 0);
}

// After the lease another replica takes over: begun sends in doubt, the old owner fenced.
BOOST_AUTO_TEST_CASE(an_expired_lease_is_taken_over_with_begun_sends_in_doubt) {
  log_capture log;
  shared_redis r;
  replica& a = r.add("a", {.lease = 600ms, .timeout = 200ms, .renews = false});
  replica& b = r.add("b", {.lease = 600ms, .timeout = 200ms});
  BOOST_REQUIRE(!r.admit(a, {entry("c1", "m1"), entry("c1", "m2"), entry("c2", "d1")}).error);
  auto first = r.claim(a);
  auto second = r.claim(a);
  BOOST_REQUIRE(first);
  BOOST_REQUIRE(second);
  const auto claimed_at = std::chrono::steady_clock::now();
  store::claim c1 = first->conversation == conversation_of("c1") ? *first : *second;
  BOOST_REQUIRE(c1.conversation == conversation_of("c1"));
  BOOST_REQUIRE(!r.begin_send(a, c1, {"m1"}));
  BOOST_REQUIRE(!r.admit(b, {entry("c1", "m3")}).error);  // waits behind the claim

  const auto taken = r.claim_each(b, 2, 5s);
  BOOST_TEST((std::chrono::steady_clock::now() - claimed_at >= 550ms));
  BOOST_TEST(b.store->stats().takeovers == 2u);
  const store::claim& t1 = taken.at(c1.conversation);
  const store::claim& t2 = taken.at(conversation_of("c2"));
  BOOST_TEST(ids_of(t1) == ids({"m1", "m2", "m3"}));
  BOOST_TEST((doubts_of(t1) == (std::vector<bool>{true, false, false})));
  BOOST_TEST(t1.fence > c1.fence);
  BOOST_TEST(ids_of(t2) == ids({"d1"}));
  BOOST_TEST((doubts_of(t2) == std::vector<bool>{false}));
  const std::string said = log.text();
  BOOST_TEST(said.find("message m1 was being answered by a replica that lost the conversation") !=
             std::string::npos);
  BOOST_TEST(said.find("message m2 was being") == std::string::npos);
  BOOST_TEST(said.find("message d1 was being") == std::string::npos);

  // The old owner is refused every step, and its release does not disturb the new owner.
  BOOST_TEST(r.begin_send(a, c1, {"m2"}) == fenced);
  BOOST_TEST(r.finish(a, c1, {"m1"}) == fenced);
  BOOST_TEST(r.run(a.store->take_more(c1)) == fenced);
  r.release(a, c1);
  BOOST_TEST(a.store->local_backlog() == 1u);  // c2's claim, which a never touched again
  BOOST_TEST(r.exists(key("c1", "lease:" + c1.conversation)) == 1);
  BOOST_TEST(!r.begin_send(b, t1, ids_of(t1)));
  BOOST_TEST(!r.finish(b, t1, ids_of(t1)));
  BOOST_TEST(r.unfinished() == 1);
  BOOST_TEST(r.call({"SCARD", key("c1", "doubt:" + c1.conversation)}).integer().value_or(-1) == 0);
}

// A late release of an old claim leaves the same replica's newer claim alone.
BOOST_AUTO_TEST_CASE(a_late_release_of_an_old_claim_does_not_drop_the_new_one) {
  shared_redis r;
  replica& a = r.add("a", {.lease = 600ms, .timeout = 200ms, .renews = false});
  BOOST_REQUIRE(!r.admit(a, {entry("c1", "m1")}).error);
  const auto old_claim = r.claim(a);
  BOOST_REQUIRE(old_claim);
  BOOST_REQUIRE(!r.begin_send(a, *old_claim, {"m1"}));
  const auto new_claim = r.claim(a, 5s);  // after the lease: a takes it over from itself
  BOOST_REQUIRE(new_claim);
  BOOST_TEST(new_claim->fence > old_claim->fence);
  BOOST_TEST((doubts_of(*new_claim) == std::vector<bool>{true}));
  BOOST_TEST(r.finish(a, *old_claim, {"m1"}) == fenced);
  r.release(a, *old_claim);
  BOOST_TEST(a.store->local_backlog() == 1u);
  BOOST_TEST(!r.begin_send(a, *new_claim, {"m1"}));
  BOOST_TEST(!r.finish(a, *new_claim, {"m1"}));
  r.release(a, *new_claim);
  BOOST_TEST(a.store->local_backlog() == 0u);
  BOOST_TEST(r.unfinished() == 0);
}

// A claim whose begin_send failed is dropped: its lease runs out and another replica answers.
BOOST_AUTO_TEST_CASE(a_claim_whose_begin_send_failed_is_not_kept_alive) {
  shared_redis r;
  replica& a = r.add("a", {.lease = 3s, .timeout = 200ms});
  replica& b = r.add("b", {.lease = 3s, .timeout = 200ms});
  BOOST_REQUIRE(!r.admit(a, {entry("c1", "m1")}).error);
  const auto held = r.claim(a);
  BOOST_REQUIRE(held);
  r.server.pause();
  BOOST_TEST(r.begin_send(a, *held, {"m1"}) == unavailable);
  r.server.resume();
  BOOST_TEST(a.store->local_backlog() == 0u);
  // a renews at a third of the lease; the claim must not be among what it renews.
  const auto taken = r.claim(b, 8s);
  BOOST_REQUIRE(taken);
  BOOST_TEST(ids_of(*taken) == ids({"m1"}));
}

// A begin_send whose reply is lost while Redis is away is retried (the retry policy of the store)
// and goes through once Redis is back, within the lease: the claim stays ours.
BOOST_AUTO_TEST_CASE(a_begin_send_across_a_short_redis_outage_is_retried_and_goes_through) {
  shared_redis r;
  replica& a = r.add("a", {.lease = 6s, .timeout = 200ms});
  BOOST_REQUIRE(!r.admit(a, {entry("c1", "m1")}).error);
  const auto held = r.claim(a);
  BOOST_REQUIRE(held);
  r.server.pause();
  auto result = std::make_shared<std::optional<boost::system::error_code>>();
  const std::vector<std::string> sending = ids({"m1"});  // outlives the coroutine
  asio::co_spawn(r.io, a.store->begin_send(*held, sending),
                 [result](std::exception_ptr, boost::system::error_code ec) { *result = ec; });
  r.idle(700ms);  // several attempts time out meanwhile
  BOOST_TEST(!result->has_value());
  r.server.resume();
  BOOST_REQUIRE(run_until(
      r.io, [&] { return result->has_value(); }, 10s));
  BOOST_TEST(!**result);
  BOOST_TEST(a.store->local_backlog() == 1u);
  BOOST_TEST(
      r.call({"SISMEMBER", key("c1", "begun:" + held->conversation), "m1"}).integer().value_or(0) ==
      1);
  BOOST_TEST(!r.finish(a, *held, {"m1"}));
  r.release(a, *held);
  BOOST_TEST(r.unfinished() == 0);
}

// A conversation handed to a person is no lost claim: begin_send says paused, the claim stays,
// and the worker finishes its messages unanswered and gives the conversation back.
BOOST_AUTO_TEST_CASE(a_paused_conversation_keeps_its_claim_until_finished) {
  shared_redis r;
  replica& a = r.add("a");
  BOOST_REQUIRE(!r.admit(a, {entry("c1", "m1")}).error);
  const auto held = r.claim(a);
  BOOST_REQUIRE(held);
  const auto now = std::chrono::system_clock::now();
  BOOST_REQUIRE(!r.run(a.store->pause(
      store::pause{conversation_of("c1"), now, now + std::chrono::hours(1), "operator"})));
  BOOST_TEST(r.begin_send(a, *held, {"m1"}) == store::make_error_code(store::errc::paused));
  BOOST_TEST(a.store->local_backlog() == 1u);
  BOOST_TEST(!r.finish(a, *held, {"m1"}));
  r.release(a, *held);
  BOOST_TEST(a.store->local_backlog() == 0u);
  BOOST_TEST(r.unfinished() == 0);
  BOOST_TEST(a.store->stats().fenced == 0u);
}

// Release puts unfinished messages back before newer ones (begun ones in doubt), freeing no room.
BOOST_AUTO_TEST_CASE(release_requeues_unfinished_messages_before_newer_ones) {
  shared_redis r;
  replica& a = r.add("a");
  replica& b = r.add("b");
  BOOST_REQUIRE(!r.admit(a, {entry("c1", "m1"), entry("c1", "m2"), entry("c1", "m3")}).error);
  auto held = r.claim(a);
  BOOST_REQUIRE(held);
  BOOST_REQUIRE(!r.admit(a, {entry("c1", "m4")}).error);
  BOOST_REQUIRE(!r.begin_send(a, *held, {"m1", "m2"}));
  BOOST_REQUIRE(!r.finish(a, *held, {"m1"}));
  r.release(a, std::move(*held));
  BOOST_TEST(a.store->local_backlog() == 0u);
  BOOST_TEST(r.unfinished() == 3);
  const auto again = r.claim(b);
  BOOST_REQUIRE(again);
  BOOST_TEST(ids_of(*again) == ids({"m2", "m3", "m4"}));
  BOOST_TEST((doubts_of(*again) == (std::vector<bool>{true, false, false})));
  BOOST_TEST(b.store->stats().takeovers == 0u);
}

// A claim's last batch is finished and the conversation given back in one script: the capacity
// is freed, what arrived meanwhile is claimable by anybody under a higher fence (and not in
// doubt), and the same step under a fence not held changes nothing.
BOOST_AUTO_TEST_CASE(finish_and_release_is_one_fenced_script) {
  shared_redis r;
  replica& a = r.add("a");
  replica& b = r.add("b");
  // A first use loads the script into Redis (NOSCRIPT, then SCRIPT LOAD and EVALSHA again).
  BOOST_REQUIRE(!r.admit(a, {entry("c0", "m0")}).error);
  const auto warm = r.claim(a);
  BOOST_REQUIRE(warm);
  r.run(a.store->finish_and_release(*warm, std::vector<std::string>{"m0"}));
  BOOST_TEST(r.unfinished() == 0);

  BOOST_REQUIRE(!r.admit(a, {entry("c1", "m1"), entry("c1", "m2")}).error);
  auto held = r.claim(a);
  BOOST_REQUIRE(held);
  BOOST_REQUIRE(!r.admit(b, {entry("c1", "m3")}).error);
  const std::vector<std::string> both{"m1", "m2"};
  BOOST_REQUIRE(!r.begin_send(a, *held, both));

  store::claim forged = *held;
  forged.fence = held->fence + 1;
  r.run(a.store->finish_and_release(forged, both));
  BOOST_TEST(a.store->stats().fenced == 1u);
  BOOST_TEST(r.unfinished() == 3);
  BOOST_TEST(!r.claim(b, 300ms));  // still a's (and b is closed by the failed claim)

  const auto round_trips = [&] {
    const auto st = a.redis->stats();
    return st.round_trips_ok + st.round_trips_server_error + st.round_trips_timeout +
           st.round_trips_connection_error;
  };
  const auto before = round_trips();
  r.run(a.store->finish_and_release(*held, both));
  BOOST_TEST(round_trips() - before == 1u);
  BOOST_TEST(r.unfinished() == 1);
  BOOST_TEST(a.store->local_backlog() == 0u);
  BOOST_TEST(a.store->stats().owned == 0u);
  replica& c = r.add("c");
  const auto next = r.claim(c);
  BOOST_REQUIRE(next);
  BOOST_TEST(next->fence > held->fence);
  BOOST_TEST(ids_of(*next) == ids({"m3"}));
  BOOST_TEST((doubts_of(*next) == std::vector<bool>{false}));
}

// The usual end of a claim (everything it holds finished) deletes the conversation's working keys
// in one step: after a takeover that includes the in-doubt marks, which only held messages carry.
BOOST_AUTO_TEST_CASE(a_finished_claim_leaves_nothing_of_its_conversation_behind) {
  shared_redis r;
  replica& a = r.add("a", {.lease = 600ms, .timeout = 200ms, .renews = false});
  replica& b = r.add("b", {.lease = 600ms, .timeout = 200ms});
  BOOST_REQUIRE(!r.admit(a, {entry("c1", "m1"), entry("c1", "m2")}).error);
  const auto lost = r.claim(a);
  BOOST_REQUIRE(lost);
  BOOST_REQUIRE(!r.begin_send(a, *lost, {"m1"}));
  const auto taken = r.claim(b, 5s);  // after a's lease ran out
  BOOST_REQUIRE(taken);
  BOOST_TEST((doubts_of(*taken) == std::vector<bool>{true, false}));
  const std::string conv = conversation_of("c1");
  BOOST_REQUIRE(r.exists(key("c1", "doubt:" + conv)) == 1);
  BOOST_REQUIRE(!r.begin_send(b, *taken, ids_of(*taken)));
  r.run(b.store->finish_and_release(*taken, ids_of(*taken)));

  for (const std::string what : {"held:", "begun:", "doubt:", "lease:", "q:"})
    BOOST_TEST(r.exists(key("c1", what + conv)) == 0, what);
  BOOST_TEST(r.exists(key("c1", "m:m1")) == 0);
  BOOST_TEST(r.exists(key("c1", "m:m2")) == 0);
  BOOST_TEST(r.call({"ZSCORE", key("c1", "leases"), conv}).is_nil());
  BOOST_TEST(r.unfinished() == 0);
  // The next message of the conversation is a fresh claim, in doubt of nothing.
  BOOST_REQUIRE(!r.admit(a, {entry("c1", "m3")}).error);
  const auto next = r.claim(b);
  BOOST_REQUIRE(next);
  BOOST_TEST(ids_of(*next) == ids({"m3"}));
  BOOST_TEST((doubts_of(*next) == std::vector<bool>{false}));
  BOOST_TEST(next->fence > taken->fence);
}

// A fencing number never repeats or falls, even when the partition's last number is ahead of
// Redis's clock (a failover to a server whose clock is behind).
BOOST_AUTO_TEST_CASE(fencing_numbers_rise_past_a_last_number_ahead_of_the_clock) {
  shared_redis r;
  replica& a = r.add("a");
  BOOST_REQUIRE(!r.admit(a, {entry("c1", "m1")}).error);
  // Above any clock in microseconds for centuries, and exact in Lua's doubles (< 2^53).
  r.call({"SET", key("c1", "fence"), "9000000000000000"});
  const auto first = r.claim(a);
  BOOST_REQUIRE(first);
  BOOST_TEST(first->fence == 9000000000000001u);
  r.run(a.store->finish_and_release(*first, ids_of(*first)));
  BOOST_REQUIRE(!r.admit(a, {entry("c1", "m2")}).error);
  const auto second = r.claim(a);
  BOOST_REQUIRE(second);
  BOOST_TEST(second->fence == 9000000000000002u);
}

// A backlog longer than one Redis step takes (1,000 values) is claimed, added to and finished
// whole and in order.
BOOST_AUTO_TEST_CASE(a_backlog_of_thousands_moves_whole_and_in_order) {
  shared_redis r;
  replica& a = r.add("a", {.capacity = 10'000});
  const auto batch = [](int from, int to) {
    std::vector<store::admission_entry> entries;
    for (int i = from; i < to; ++i)
      entries.push_back(entry("c1", "b" + std::to_string(i)));
    return entries;
  };
  BOOST_REQUIRE(!r.admit(a, batch(0, 1500)).error);
  auto held = r.claim(a);
  BOOST_REQUIRE(held);
  BOOST_REQUIRE(held->messages.size() == 1500u);
  BOOST_REQUIRE(!r.admit(a, batch(1500, 4000)).error);
  BOOST_REQUIRE(!r.run(a.store->take_more(*held)));
  BOOST_REQUIRE(held->messages.size() == 4000u);
  for (int i = 0; i < 4000; ++i)
    BOOST_REQUIRE(held->messages[i].message.id == "b" + std::to_string(i));
  BOOST_TEST(r.call({"LLEN", key("c1", "held:" + held->conversation)}).integer().value_or(-1) ==
             4000);
  BOOST_TEST(r.unfinished() == 4000);
  r.run(a.store->finish_and_release(*held, ids_of(*held)));
  BOOST_TEST(r.unfinished() == 0);
  BOOST_TEST(r.exists(key("c1", "held:" + held->conversation)) == 0);
  BOOST_TEST(r.exists(key("c1", "m:b0")) == 0);
  BOOST_TEST(r.exists(key("c1", "m:b3999")) == 0);
}

// The customer's last message time (Meta's 24-hour window) is the newest one's, in whatever order
// the messages are admitted (a retried delivery can bring an older one late).
BOOST_AUTO_TEST_CASE(the_last_message_time_is_the_newest_whatever_the_order) {
  shared_redis r;
  replica& a = r.add("a");
  auto at = [](const char* id, std::int64_t seconds, bool answer) {
    store::admission_entry e = entry("c1", id, answer);
    e.message.message.timestamp = seconds;
    return e;
  };
  const std::string last = key("c1", "last:" + conversation_of("c1"));
  BOOST_REQUIRE(!r.admit(a, {at("m2", 1'700'000'200, true)}).error);
  BOOST_TEST(*r.call({"GET", last}).text() == "1700000200000");
  BOOST_REQUIRE(!r.admit(a, {at("m1", 1'700'000'100, false)}).error);
  BOOST_TEST(*r.call({"GET", last}).text() == "1700000200000");
  BOOST_TEST(r.call({"TTL", last}).integer().value_or(-1) > 0);
  BOOST_REQUIRE(!r.admit(a, {at("m3", 1'700'000'300, true)}).error);
  BOOST_TEST(*r.call({"GET", last}).text() == "1700000300000");
}

// A stored message that cannot be read (damaged, or written by another version) is dropped with a
// log line naming it, under the claim: given back, it would be claimed again forever.
BOOST_AUTO_TEST_CASE(an_unreadable_stored_message_is_dropped_not_claimed_forever) {
  log_capture log;
  shared_redis r;
  replica& a = r.add("a");
  replica& b = r.add("b");
  BOOST_REQUIRE(!r.admit(a, {entry("c1", "m1"), entry("c1", "m2"), entry("c1", "m3")}).error);
  BOOST_REQUIRE(!r.admit(a, {entry("c2", "d1")}).error);
  r.call({"SET", key("c1", "m:m2"), "1700000000000\nnot a message"});
  r.call({"SET", key("c2", "m:d1"), "garbage"});

  const auto claims = r.claim_each(a, 2);
  const store::claim& c1 = claims.at(conversation_of("c1"));
  const store::claim& c2 = claims.at(conversation_of("c2"));
  BOOST_TEST(ids_of(c1) == ids({"m1", "m3"}));
  BOOST_TEST(c2.messages.empty());
  BOOST_TEST(r.unfinished() == 2);  // m2 and d1 are finished: their capacity is free
  const std::string said = log.text();
  BOOST_TEST(said.find("stored message m2 of conversation") != std::string::npos);
  BOOST_TEST(said.find("stored message d1 of conversation") != std::string::npos);

  // An empty claim ends like any other; nothing comes back to be claimed again.
  r.release(a, c2);
  r.run(a.store->finish_and_release(c1, ids_of(c1)));
  BOOST_TEST(r.unfinished() == 0);
  BOOST_TEST(!r.claim(b, 300ms));
  for (const char* customer : {"c1", "c2"}) {
    BOOST_TEST(r.exists(key(customer, "held:" + conversation_of(customer))) == 0, customer);
    BOOST_TEST(r.exists(key(customer, "q:" + conversation_of(customer))) == 0, customer);
  }

  // The same for a message that arrives while the conversation is held (take_more).
  BOOST_REQUIRE(!r.admit(a, {entry("c3", "e1")}).error);
  auto held = r.claim(a);
  BOOST_REQUIRE(held);
  BOOST_REQUIRE(!r.admit(a, {entry("c3", "e2"), entry("c3", "e3")}).error);
  r.call({"SET", key("c3", "m:e2"), "garbage"});
  BOOST_REQUIRE(!r.run(a.store->take_more(*held)));
  BOOST_TEST(ids_of(*held) == ids({"e1", "e3"}));
  BOOST_TEST(r.unfinished() == 2);
}

// A claim says whether its conversation was handed to a person (the worker then asks Robofy
// nothing), and take_more says it again.
BOOST_AUTO_TEST_CASE(a_claim_and_take_more_say_whether_the_conversation_is_paused) {
  shared_redis r;
  replica& a = r.add("a");
  BOOST_REQUIRE(!r.admit(a, {entry("c1", "m1"), entry("c2", "m2")}).error);
  const auto now = std::chrono::system_clock::now();
  BOOST_REQUIRE(!r.run(a.store->pause({conversation_of("c1"), now, now + 1h, "operator"})));
  auto claims = r.claim_each(a, 2);
  store::claim& c1 = claims.at(conversation_of("c1"));
  store::claim& c2 = claims.at(conversation_of("c2"));
  BOOST_TEST(c1.paused);
  BOOST_TEST(!c2.paused);
  BOOST_REQUIRE(!r.run(a.store->pause({conversation_of("c2"), now, now + 1h, "operator"})));
  BOOST_REQUIRE(!r.run(a.store->take_more(c2)));
  BOOST_TEST(c2.paused);
  BOOST_REQUIRE(r.run(a.store->resume(conversation_of("c1"))));
  BOOST_REQUIRE(!r.run(a.store->take_more(c1)));
  BOOST_TEST(!c1.paused);
}

// A drain gives back at once what no reply is being written for; the rest stays until finished.
BOOST_AUTO_TEST_CASE(a_drain_gives_back_at_once_what_is_not_being_written) {
  shared_redis r;
  replica& a = r.add("a");
  replica& b = r.add("b");
  BOOST_REQUIRE(!r.admit(a, {entry("c1", "m1"), entry("c2", "m2")}).error);
  auto first = r.claim(a);
  auto second = r.claim(a);
  BOOST_REQUIRE(first);
  BOOST_REQUIRE(second);
  store::claim writing = first->conversation == conversation_of("c2") ? *first : *second;
  store::claim thinking = first->conversation == conversation_of("c2") ? *second : *first;
  BOOST_REQUIRE(!r.begin_send(a, writing, {"m2"}));
  a.store->begin_drain();
  BOOST_TEST(a.store->local_backlog() == 1u);
  const auto taken = r.claim(b, 5s);  // long before the 30 s lease
  BOOST_REQUIRE(taken);
  BOOST_TEST(taken->conversation == thinking.conversation);
  BOOST_TEST((doubts_of(*taken) == std::vector<bool>{false}));
  // The worker that was thinking finds the claim gone; the one writing finishes normally.
  BOOST_TEST(r.begin_send(a, thinking, {"m1"}) == fenced);
  BOOST_TEST(!r.finish(a, writing, {"m2"}));
  r.release(a, writing);
  BOOST_TEST(a.store->local_backlog() == 0u);
  a.store->close();
  r.run(a.store->hand_back());
  BOOST_TEST(r.unfinished() == 1);
}

// queue.capacity counts the unfinished messages of both replicas; finishing frees room.
BOOST_AUTO_TEST_CASE(capacity_is_shared_by_both_replicas) {
  shared_redis r;
  replica& a = r.add("a", {.capacity = 3});
  replica& b = r.add("b", {.capacity = 3});
  using v = store::verdict;
  BOOST_TEST((r.admit(a, {entry("c1", "m1"), entry("c2", "m2")}).verdicts ==
              std::vector<v>{v::stored, v::stored}));
  BOOST_TEST((r.admit(b, {entry("c3", "m3"), entry("c4", "m4")}).verdicts ==
              std::vector<v>{v::stored, v::no_room}));
  BOOST_TEST((r.admit(a, {entry("c4", "m4")}).verdicts == std::vector<v>{v::no_room}));
  auto held = r.claim(b);
  BOOST_REQUIRE(held);
  r.release(b, *held);
  BOOST_TEST((r.admit(a, {entry("c4", "m4")}).verdicts == std::vector<v>{v::no_room}));
  held = r.claim(b);
  BOOST_REQUIRE(held);
  BOOST_REQUIRE(!r.begin_send(b, *held, ids_of(*held)));
  BOOST_REQUIRE(!r.finish(b, *held, ids_of(*held)));
  BOOST_TEST((r.admit(a, {entry("c4", "m4"), entry("c5", "m5")}).verdicts ==
              std::vector<v>{v::stored, v::no_room}));
  BOOST_TEST(r.unfinished() == 3);
}

// Pacing over two replicas: no second holds more than rate + burst, and the schedule stretches.
BOOST_AUTO_TEST_CASE(pacing_is_shared_no_second_holds_more_than_rate_plus_burst) {
  shared_redis r;
  replica& a = r.add("a");
  replica& b = r.add("b");
  constexpr std::uint32_t rate = 20;
  const std::uint32_t burst = store::send_pacer::burst_for(rate);
  BOOST_REQUIRE(burst == 5u);
  constexpr int n = 90;
  std::vector<std::chrono::steady_clock::time_point> send_at;
  const std::string paced = number;  // outlives the coroutines, which keep a reference to it
  for (int i = 0; i < n; ++i) {
    replica& by = i % 2 == 0 ? a : b;
    asio::co_spawn(r.io, by.store->reserve_send(paced, rate),
                   [&send_at](std::exception_ptr, std::chrono::steady_clock::duration wait) {
                     send_at.push_back(std::chrono::steady_clock::now() + wait);
                   });
  }
  BOOST_REQUIRE(run_until(
      r.io, [&] { return send_at.size() == static_cast<std::size_t>(n); }, 10s));
  std::sort(send_at.begin(), send_at.end());
  // R + burst sends at the limit span exactly one second: a window a few milliseconds short of a
  // second keeps this process's scheduling jitter from counting them together.
  constexpr auto window = 1s - 20ms;
  std::size_t most = 0;
  for (std::size_t i = 0; i < send_at.size(); ++i) {
    const auto end = std::lower_bound(send_at.begin() + i, send_at.end(), send_at[i] + window);
    most = std::max<std::size_t>(most, end - (send_at.begin() + i));
  }
  BOOST_TEST(most <= rate + burst);
  BOOST_TEST((send_at.back() - send_at.front() >=
              std::chrono::milliseconds((n - burst) * 1000 / rate - 100)));
}

// A number's send schedule stays in Redis as far ahead as its reservations reach.
BOOST_AUTO_TEST_CASE(a_long_send_schedule_is_kept_until_it_has_passed) {
  shared_redis r;
  replica& a = r.add("a");
  std::chrono::steady_clock::duration last{};
  for (int i = 0; i < 90; ++i)
    last = r.run(a.store->reserve_send(number, 1));
  BOOST_REQUIRE(last >= 88s);
  const auto ttl = r.call({"PTTL", std::string(prefix) + ":{pace}:" + number}).integer();
  BOOST_REQUIRE(ttl.has_value());
  BOOST_TEST(*ttl >= std::chrono::duration_cast<std::chrono::milliseconds>(last).count());
}

// What an outbound message answered is found from any replica.
BOOST_AUTO_TEST_CASE(the_reply_index_is_shared) {
  shared_redis r;
  replica& a = r.add("a");
  replica& b = r.add("b");
  a.store->remember_reply("wamid.out.1", {"9198******10", "wamid.in.1,wamid.in.2"});
  std::optional<store::reply_origin> found;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!found && std::chrono::steady_clock::now() < deadline) {
    found = r.run(b.store->find_reply("wamid.out.1"));
    if (!found) r.idle(20ms);
  }
  BOOST_REQUIRE(found);
  BOOST_TEST(found->customer == "9198******10");
  BOOST_TEST(found->inbound_ids == "wamid.in.1,wamid.in.2");
  BOOST_TEST(!r.run(b.store->find_reply("wamid.out.unknown")));
  BOOST_TEST(r.call({"TTL", std::string(prefix) + ":{sent}:wamid.out.1"}).integer().value_or(0) >
             6 * 24 * 3600);
}

// With Redis frozen, admit fails within the timeout and writable() is false until it is back.
BOOST_AUTO_TEST_CASE(a_paused_redis_fails_admission_in_time_and_writable_follows_it) {
  shared_redis r;
  replica& a = r.add("a", {.lease = 1s, .timeout = 200ms});
  const auto wait_for = [&](bool want, std::chrono::milliseconds limit) {
    return run_until(
        r.io, [&] { return a.store->writable() == want; }, limit);
  };
  BOOST_REQUIRE(wait_for(true, 3s));
  r.server.pause();
  const auto started = std::chrono::steady_clock::now();
  const auto result = r.admit(a, {entry("c1", "m1")});
  const auto took = std::chrono::steady_clock::now() - started;
  BOOST_TEST(result.error == unavailable);
  BOOST_TEST(result.verdicts.empty());
  BOOST_TEST((took < 200ms + 800ms));  // the timeout, and slack for a loaded machine
  BOOST_TEST(a.store->stats().refusals == 1u);
  BOOST_TEST(wait_for(false, 3s));
  r.server.resume();
  BOOST_TEST(wait_for(true, 10s));
  const auto later = r.admit(a, {entry("c1", "m1")});
  BOOST_TEST(!later.error);
  BOOST_TEST((later.verdicts == std::vector<store::verdict>{store::verdict::stored}));
}

// Redis out of memory refuses a delivery whole: an error, and not one of its keys is left.
BOOST_AUTO_TEST_CASE(redis_out_of_memory_refuses_a_delivery_whole) {
  redis_server_options tiny;
  tiny.config = {"maxmemory 3mb", "maxmemory-policy noeviction"};
  shared_redis r(tiny);
  replica& a = r.add("a");
  const std::string junk(64 * 1024, 'x');
  int filled = 0;
  for (; filled < 200; ++filled) {
    const auto set = r.run(r.direct->command("SET", "junk:" + std::to_string(filled), junk));
    BOOST_REQUIRE(set.has_value());
    if (set->is_error()) break;
  }
  BOOST_REQUIRE_MESSAGE(filled < 200, "redis never ran out of memory");
  const auto result = r.admit(a, {entry("c1", "m1"), entry("c1", "r1", false), entry("c2", "m2")});
  BOOST_TEST(result.error == unavailable);
  for (const auto& [customer, id] : {std::pair{"c1", "m1"}, {"c1", "r1"}, {"c2", "m2"}}) {
    BOOST_TEST(r.exists(key(customer, std::string("seen:") + id)) == 0, id);
    BOOST_TEST(r.exists(key(customer, std::string("m:") + id)) == 0, id);
  }
  BOOST_TEST(r.exists(key("c1", "q:" + conversation_of("c1"))) == 0);
  BOOST_TEST(r.exists(key("c2", "q:" + conversation_of("c2"))) == 0);
  BOOST_TEST(r.unfinished() == 0);

  for (int i = 0; i < filled; ++i)
    r.call({"DEL", "junk:" + std::to_string(i)});
  const auto later = r.admit(a, {entry("c1", "m1"), entry("c1", "r1", false), entry("c2", "m2")});
  BOOST_REQUIRE(!later.error);
  using v = store::verdict;
  BOOST_TEST((later.verdicts == std::vector<v>{v::stored, v::remembered, v::stored}));
  BOOST_TEST(r.unfinished() == 2);
}

// With min_replica_acks a delivery is refused until a Redis replica has it; the retry is then a
// duplicate, accepted once the replica confirms.
BOOST_AUTO_TEST_CASE(min_replica_acks_waits_for_a_redis_replica) {
  shared_redis r;
  r.call({"CONFIG", "SET", "repl-diskless-sync-delay", "0"});  // the follower syncs at once
  redis_server_options follows;
  follows.config = {"replicaof 127.0.0.1 " + std::to_string(r.server.port())};
  redis_server follower(follows);
  const auto online = [&] {
    const auto info = r.call({"INFO", "replication"});
    return info.text() && info.text()->find("state=online") != std::string_view::npos;
  };
  const auto synced_by = std::chrono::steady_clock::now() + 20s;
  while (!online() && std::chrono::steady_clock::now() < synced_by)
    r.idle(50ms);
  BOOST_REQUIRE(online());
  // WAIT gets half the timeout: 2 s, so a busy machine (the follower not scheduled for a while)
  // still acknowledges; only the paused follower below is short.
  replica& a = r.add("a", {.timeout = 4s, .min_replica_acks = 1});
  using v = store::verdict;
  const auto first = r.admit(a, {entry("c1", "m1")});
  BOOST_TEST(!first.error);
  BOOST_TEST((first.verdicts == std::vector<v>{v::stored}));
  BOOST_TEST(a.store->stats().wait_acknowledged == 1u);
  // An operator's pause is replicated before it is done, like an accepted message.
  const auto now = std::chrono::system_clock::now();
  BOOST_TEST(!r.run(a.store->pause({conversation_of("c2"), now, now + 1h, "operator"})));
  BOOST_TEST(a.store->stats().wait_acknowledged == 2u);

  follower.pause();
  const auto refused = r.admit(a, {entry("c1", "m2")});
  BOOST_TEST(refused.error == store::make_error_code(store::errc::not_replicated));
  BOOST_TEST(a.store->stats().wait_short == 1u);
  // Without the replica's confirmation a pause is refused (the operator is told to try again).
  BOOST_TEST(r.run(a.store->pause({conversation_of("c3"), now, now + 1h, "operator"})) ==
             store::make_error_code(store::errc::not_replicated));
  BOOST_TEST(a.store->stats().wait_short == 2u);
  // A resume happened on the primary whatever the replica says: it is done, with a warning.
  {
    log_capture log;
    BOOST_TEST(r.run(a.store->resume(conversation_of("c2"))));
    BOOST_TEST(a.store->stats().wait_short == 3u);
    BOOST_TEST(log.text().find("not confirmed by 1 replica(s)") != std::string::npos);
  }
  follower.resume();
  // Meta retries; once the follower confirms, the retry is accepted as the duplicate it is.
  store::admission_result retried;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    retried = r.admit(a, {entry("c1", "m2")});
  } while (retried.error && std::chrono::steady_clock::now() < deadline);
  BOOST_TEST(!retried.error);
  BOOST_TEST((retried.verdicts == std::vector<v>{v::duplicate}));
  BOOST_TEST(r.unfinished() == 2);
}

BOOST_AUTO_TEST_SUITE_END()
