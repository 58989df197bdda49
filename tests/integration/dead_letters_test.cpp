// Dead letters (DESIGN.md §9), end to end on the local store and on Redis: a message that ended
// without a real answer is kept with its reason; the admin API lists them newest first in pages
// and by reason, replays one (Robofy is asked again, one answer even for two replays at once, never
// outside the 24-hour window) and deletes one; dead_letters.max bounds them.
#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <ctime>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "tests/support/control_client.hpp"
#include "tests/support/fake_services.hpp"
#include "tests/support/meta_payloads.hpp"
#include "tests/support/running_bridge.hpp"

using namespace bridge::test;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace data = boost::unit_test::data;

namespace {

constexpr auto wait_limit = 20s;
const std::vector<store_mode> both_modes{store_mode::local, store_mode::redis};
const std::string fallback = bridge::config::reply_settings{}.fallback_text;

// Robofy per query: "down..." answers 503, "refuse..." answers 400, anything else is echoed.
canned_reply robofy_by_query(const recorded_request& req) {
  const std::string query = parse_robofy_request(req.body).query;
  if (query.starts_with("down")) {
    return canned_reply{503, R"({"message":"down","error":{"code":"UNAVAILABLE","detail":"x"}})"};
  }
  if (query.starts_with("refuse")) {
    return canned_reply{400, R"({"message":"bad","error":{"code":"BAD_REQUEST","detail":"no"}})"};
  }
  return robofy_echo()(req);
}

// The bridge with Robofy answering 503 to everything (two calls per question, no breaker in the
// way) unless a test sets another responder.
bridge_in_mode start_with_robofy_down(store_mode mode,
                                      std::function<void(bridge::config::settings&)> adjust = {}) {
  bridge::app_options options;
  options.tune = [](bridge::runtime_settings& s) {
    // Every failure is the message's own: the breakers stay out of these tests.
    s.robofy_breaker.failure_threshold = s.graph_breaker.failure_threshold = 1000;
    s.graph_max_attempts = 2;
  };
  auto b = start_in_mode(
      mode,
      [adjust = std::move(adjust)](bridge::config::settings& s) {
        s.robofy.max_attempts = 2;
        if (adjust) adjust(s);
      },
      options);
  b->robofy().set_responder([](const recorded_request&) {
    return canned_reply{503, R"({"message":"down","error":{"code":"UNAVAILABLE","detail":"x"}})"};
  });
  return b;
}

client_response say(running_bridge& bridge, const std::string& customer, const std::string& id,
                    const std::string& text, std::int64_t timestamp = 0) {
  text_message m{test_number, customer, id, text};
  m.timestamp = timestamp;
  return post_signed(bridge.webhook(), "/webhook", delivery_body({m}), test_app_secret);
}

// GET /v1/dead-letters with `query` ("?limit=2&after=..."): the whole answer.
json::object list_page(const boost::asio::ip::tcp::endpoint& admin, const std::string& query = {}) {
  const client_response res = admin_request(admin, "GET", "/v1/dead-letters" + query);
  BOOST_TEST_REQUIRE(res.status == 200u, query << ": " << res.body);
  return json::parse(res.body).as_object();
}

std::vector<std::string> wamids_of(const json::object& page) {
  std::vector<std::string> out;
  for (const auto& letter : page.at("dead_letters").as_array())
    out.push_back(std::string(letter.at("wamid").as_string()));
  return out;
}

// Waits until the bridge keeps `wamid` as a dead letter (it is kept just after the fallback is
// sent).
bool wait_for_letter(const boost::asio::ip::tcp::endpoint& admin, const std::string& wamid) {
  return eventually(
      [&] { return admin_request(admin, "GET", "/v1/dead-letters/" + wamid).status == 200u; },
      wait_limit);
}

json::object letter(const boost::asio::ip::tcp::endpoint& admin, const std::string& wamid) {
  const client_response res = admin_request(admin, "GET", "/v1/dead-letters/" + wamid);
  BOOST_TEST_REQUIRE(res.status == 200u, wamid << ": " << res.body);
  return json::parse(res.body).as_object();
}

unsigned replay(const boost::asio::ip::tcp::endpoint& admin, const std::string& wamid) {
  return admin_request(admin, "POST", "/v1/dead-letters/" + wamid + "/replay").status;
}

std::string text_of(const json::object& o, const char* key) {
  return std::string(o.at(key).as_string());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dead_letters)

BOOST_DATA_TEST_CASE(robofy_down_gives_the_fallback_and_a_dead_letter_a_replay_answers_it_once,
                     data::make(both_modes), mode) {
  auto b = start_with_robofy_down(mode);
  running_bridge& bridge = *b.bridge;
  const std::string customer = "919811200001";
  BOOST_REQUIRE_EQUAL(say(bridge, customer, "wamid.dl.1", "when do you open?").status, 200u);
  BOOST_REQUIRE(wait_for_texts(bridge.graph(), customer, 1, wait_limit));
  BOOST_TEST(texts_to(bridge.graph(), customer) == std::vector<std::string>{fallback});
  BOOST_REQUIRE(wait_for_letter(bridge.admin(), "wamid.dl.1"));

  const json::object kept = letter(bridge.admin(), "wamid.dl.1");
  BOOST_TEST(text_of(kept, "reason") == "robofy_unavailable");
  BOOST_TEST(text_of(kept, "query") == "when do you open?");
  BOOST_TEST(text_of(kept, "conversation") == std::string(test_number) + "/" + customer);
  BOOST_TEST(text_of(kept, "customer") == "9198******01");  // redacted as the logs are
  BOOST_TEST(text_of(kept, "detail").find("503") != std::string::npos, text_of(kept, "detail"));
  BOOST_TEST(kept.at("attempts").as_int64() == 2);
  BOOST_TEST(!kept.contains("payload"));  // the stored message stays inside
  const json::object page = list_page(bridge.admin());
  BOOST_TEST(wamids_of(page) == std::vector<std::string>{"wamid.dl.1"});
  BOOST_TEST(page.at("next").is_null());
  BOOST_TEST(page.at("dead_letters").as_array()[0].as_object() == kept);
  BOOST_TEST(metric_sample(fetch_metrics(bridge.admin()), "robofy_wa_bridge_dead_letters_total") ==
             1);

  // Robofy is back: the operator replays the message and the customer gets a real answer.
  bridge.robofy().set_responder(robofy_echo());
  const client_response replayed =
      admin_request(bridge.admin(), "POST", "/v1/dead-letters/wamid.dl.1/replay");
  BOOST_TEST(replayed.status == 202u);
  BOOST_TEST(replayed.body == R"({"queued":true})");
  BOOST_REQUIRE(wait_for_texts(bridge.graph(), customer, 2, wait_limit));
  BOOST_TEST(texts_to(bridge.graph(), customer) ==
             (std::vector<std::string>{fallback, "Echo: when do you open?"}));
  BOOST_TEST(bridge.robofy().request_count() == 3u);  // two failed calls, then the replay's
  BOOST_TEST(admin_request(bridge.admin(), "GET", "/v1/dead-letters/wamid.dl.1").status == 404u);
  BOOST_TEST(replay(bridge.admin(), "wamid.dl.1") == 404u);
  BOOST_TEST(wamids_of(list_page(bridge.admin())).empty());
}

BOOST_DATA_TEST_CASE(two_replays_at_once_queue_the_message_once, data::make(both_modes), mode) {
  auto b = start_with_robofy_down(mode);
  running_bridge& bridge = *b.bridge;
  const std::string customer = "919811200002";
  BOOST_REQUIRE_EQUAL(say(bridge, customer, "wamid.dl.2", "is it in stock?").status, 200u);
  BOOST_REQUIRE(wait_for_letter(bridge.admin(), "wamid.dl.2"));
  bridge.robofy().set_responder(robofy_echo());

  // Two operators press "replay" at the same moment.
  std::atomic<int> ready{0};
  unsigned statuses[2] = {0, 0};
  std::vector<std::thread> operators;
  for (int i = 0; i < 2; ++i) {
    operators.emplace_back([&, i] {
      ++ready;
      while (ready.load() < 2)
        std::this_thread::yield();
      statuses[i] = replay(bridge.admin(), "wamid.dl.2");
    });
  }
  for (auto& t : operators)
    t.join();
  BOOST_TEST(
      (std::multiset<unsigned>{statuses[0], statuses[1]} == std::multiset<unsigned>{202u, 404u}),
      statuses[0] << " and " << statuses[1]);

  BOOST_REQUIRE(wait_for_texts(bridge.graph(), customer, 2, wait_limit));
  // Another conversation answered afterwards: a second replay would have been answered by then.
  BOOST_REQUIRE_EQUAL(say(bridge, "919811200099", "wamid.dl.other", "hello").status, 200u);
  BOOST_REQUIRE(wait_for_texts(bridge.graph(), "919811200099", 1, wait_limit));
  BOOST_TEST(texts_to(bridge.graph(), customer) ==
             (std::vector<std::string>{fallback, "Echo: is it in stock?"}));
}

BOOST_DATA_TEST_CASE(dead_letters_page_newest_first_and_filter_by_reason, data::make(both_modes),
                     mode) {
  auto b = start_with_robofy_down(mode);
  running_bridge& bridge = *b.bridge;
  bridge.robofy().set_responder(robofy_by_query);
  // Graph refuses one customer for good (131026) and keeps failing for another (HTTP 500).
  bridge.graph().set_responder([inner = graph_accepting()](const recorded_request& req) {
    const auto to = parse_graph_request(req.body).to;
    if (to == "919811200013") {
      return canned_reply{
          400,
          R"({"error":{"message":"(#131026) Message undeliverable","type":"OAuthException","code":131026,"fbtrace_id":"Fb1"}})"};
    }
    if (to == "919811200016") {
      return canned_reply{500, R"({"error":{"message":"boom","code":1,"fbtrace_id":"Fb2"}})"};
    }
    return inner(req);
  });
  const std::vector<std::pair<std::string, std::string>> made = {
      {"919811200011", "down, first"},   {"919811200012", "refuse, second"},
      {"919811200013", "third"},         {"919811200014", "down, fourth"},
      {"919811200015", "refuse, fifth"}, {"919811200016", "sixth"},
  };
  std::map<std::string, std::string> reason_of;
  for (std::size_t i = 0; i < made.size(); ++i) {
    const std::string id = "wamid.pg." + std::to_string(i + 1);
    BOOST_REQUIRE_EQUAL(say(bridge, made[i].first, id, made[i].second).status, 200u);
    BOOST_REQUIRE(wait_for_letter(bridge.admin(), id));  // one at a time: they are dated in order
    reason_of[id] = text_of(letter(bridge.admin(), id), "reason");
  }
  BOOST_TEST(reason_of["wamid.pg.1"] == "robofy_unavailable");
  BOOST_TEST(reason_of["wamid.pg.2"] == "robofy_refused");
  BOOST_TEST(reason_of["wamid.pg.3"] == "graph_refused");
  BOOST_TEST(reason_of["wamid.pg.4"] == "robofy_unavailable");
  BOOST_TEST(reason_of["wamid.pg.5"] == "robofy_refused");
  BOOST_TEST(reason_of["wamid.pg.6"] == "graph_gave_up");
  BOOST_TEST(text_of(letter(bridge.admin(), "wamid.pg.3"), "detail").find("131026") !=
             std::string::npos);
  BOOST_TEST(letter(bridge.admin(), "wamid.pg.2").at("attempts").as_int64() == 1);  // 4xx: once

  // Newest first, every time.
  const json::object all = list_page(bridge.admin(), "?limit=500");
  BOOST_TEST(wamids_of(all) ==
             (std::vector<std::string>{"wamid.pg.6", "wamid.pg.5", "wamid.pg.4", "wamid.pg.3",
                                       "wamid.pg.2", "wamid.pg.1"}));
  BOOST_TEST(all.at("next").is_null());
  // Pages of two, following `next`.
  std::vector<std::string> paged;
  std::string query = "?limit=2";
  int pages = 0;
  for (; pages < 10; ++pages) {
    const json::object page = list_page(bridge.admin(), query);
    const auto ids = wamids_of(page);
    BOOST_TEST(ids.size() <= 2u);
    paged.insert(paged.end(), ids.begin(), ids.end());
    if (page.at("next").is_null()) break;
    BOOST_TEST(std::string(page.at("next").as_string()) == ids.back());
    query = "?limit=2&after=" + std::string(page.at("next").as_string());
  }
  BOOST_TEST(pages == 2);  // three pages: 2 + 2 + 2, the last without `next`
  BOOST_TEST(paged == wamids_of(all));

  // By reason, paged too.
  const json::object refused = list_page(bridge.admin(), "?reason=robofy_refused&limit=1");
  BOOST_TEST(wamids_of(refused) == std::vector<std::string>{"wamid.pg.5"});
  BOOST_TEST_REQUIRE(refused.at("next").is_string());
  const json::object refused_next =
      list_page(bridge.admin(), "?reason=robofy_refused&limit=1&after=" +
                                    std::string(refused.at("next").as_string()));
  BOOST_TEST(wamids_of(refused_next) == std::vector<std::string>{"wamid.pg.2"});
  BOOST_TEST(refused_next.at("next").is_null());
  BOOST_TEST(wamids_of(list_page(bridge.admin(), "?reason=graph_gave_up")) ==
             std::vector<std::string>{"wamid.pg.6"});
  BOOST_TEST(wamids_of(list_page(bridge.admin(), "?reason=no_such_reason")).empty());

  for (const char* bad : {"?limit=0", "?limit=501", "?limit=two", "?limit=-1"}) {
    BOOST_TEST(
        admin_request(bridge.admin(), "GET", std::string("/v1/dead-letters") + bad).status == 400u,
        bad);
  }
  BOOST_TEST(metric_sample(fetch_metrics(bridge.admin()), "robofy_wa_bridge_dead_letters_total") ==
             6);
}

BOOST_DATA_TEST_CASE(dead_letters_max_drops_the_oldest_and_delete_discards_one,
                     data::make(both_modes), mode) {
  auto b =
      start_with_robofy_down(mode, [](bridge::config::settings& s) { s.dead_letters.max = 2; });
  running_bridge& bridge = *b.bridge;
  for (int i = 1; i <= 3; ++i) {
    const std::string id = "wamid.max." + std::to_string(i);
    BOOST_REQUIRE_EQUAL(say(bridge, "91981120002" + std::to_string(i), id, "down").status, 200u);
    BOOST_REQUIRE(wait_for_letter(bridge.admin(), id));
  }
  BOOST_TEST(wamids_of(list_page(bridge.admin())) ==
             (std::vector<std::string>{"wamid.max.3", "wamid.max.2"}));
  BOOST_TEST(admin_request(bridge.admin(), "GET", "/v1/dead-letters/wamid.max.1").status == 404u);
  BOOST_TEST(replay(bridge.admin(), "wamid.max.1") == 404u);

  const client_response deleted =
      admin_request(bridge.admin(), "DELETE", "/v1/dead-letters/wamid.max.2");
  BOOST_TEST(deleted.status == 200u);
  BOOST_TEST(deleted.body == R"({"deleted":true})");
  BOOST_TEST(admin_request(bridge.admin(), "GET", "/v1/dead-letters/wamid.max.2").status == 404u);
  BOOST_TEST(admin_request(bridge.admin(), "DELETE", "/v1/dead-letters/wamid.max.2").status ==
             404u);
  BOOST_TEST(replay(bridge.admin(), "wamid.max.2") == 404u);
  BOOST_TEST(admin_request(bridge.admin(), "PUT", "/v1/dead-letters/wamid.max.3").status == 405u);
  BOOST_TEST(admin_request(bridge.admin(), "GET", "/v1/dead-letters/wamid.max.3/replay").status ==
             405u);
  BOOST_TEST(wamids_of(list_page(bridge.admin())) == std::vector<std::string>{"wamid.max.3"});
}

BOOST_DATA_TEST_CASE(a_replay_outside_the_24_hour_window_is_refused, data::make(both_modes), mode) {
  auto b = start_with_robofy_down(
      mode, [](bridge::config::settings& s) { s.queue.max_message_age = 48h; });
  running_bridge& bridge = *b.bridge;
  const std::string customer = "919811200031";
  // Written 30 hours ago and delivered only now (Meta retried it): still answered (within
  // max_message_age), with the fallback since Robofy is down.
  const std::int64_t thirty_hours_ago = std::time(nullptr) - 30 * 3600;
  BOOST_REQUIRE_EQUAL(say(bridge, customer, "wamid.old.1", "down, late", thirty_hours_ago).status,
                      200u);
  BOOST_REQUIRE(wait_for_letter(bridge.admin(), "wamid.old.1"));
  bridge.robofy().set_responder(robofy_echo());
  const std::size_t robofy_calls = bridge.robofy().request_count();

  const client_response refused =
      admin_request(bridge.admin(), "POST", "/v1/dead-letters/wamid.old.1/replay");
  BOOST_TEST(refused.status == 409u, refused.body);
  BOOST_TEST(refused.body.find("outside_service_window") != std::string::npos, refused.body);
  BOOST_TEST(admin_request(bridge.admin(), "GET", "/v1/dead-letters/wamid.old.1").status == 200u);
  BOOST_TEST(bridge.robofy().request_count() == robofy_calls);
  BOOST_TEST(texts_to(bridge.graph(), customer) == std::vector<std::string>{fallback});

  // The customer writes again: the window is open, and the replay goes through.
  BOOST_REQUIRE_EQUAL(say(bridge, customer, "wamid.old.2", "hello again").status, 200u);
  BOOST_REQUIRE(wait_for_texts(bridge.graph(), customer, 2, wait_limit));
  BOOST_TEST(replay(bridge.admin(), "wamid.old.1") == 202u);
  BOOST_REQUIRE(wait_for_texts(bridge.graph(), customer, 3, wait_limit));
  BOOST_TEST(texts_to(bridge.graph(), customer) ==
             (std::vector<std::string>{fallback, "Echo: hello again", "Echo: down, late"}));
}

BOOST_AUTO_TEST_SUITE_END()
