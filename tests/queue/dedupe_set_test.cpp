#include "queue/dedupe_set.hpp"

#include <boost/test/unit_test.hpp>
#include <deque>
#include <random>
#include <set>
#include <string>
#include <vector>

using bridge::queue::dedupe_set;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(dedupe_set_suite)

BOOST_AUTO_TEST_CASE(second_insert_of_an_id_is_a_duplicate) {
  dedupe_set seen(10, 3600s);
  BOOST_TEST(seen.insert("wamid.1"));
  BOOST_TEST(!seen.insert("wamid.1"));
  BOOST_TEST(seen.contains("wamid.1"));
  BOOST_TEST(!seen.contains("wamid.2"));
}

BOOST_AUTO_TEST_CASE(ids_are_forgotten_after_the_retention) {
  dedupe_set seen(10, 60s);
  const auto t0 = dedupe_set::clock::now();
  seen.insert("old", t0);
  seen.insert("newer", t0 + 30s);
  BOOST_TEST(!seen.insert("old", t0 + 59s));    // still remembered
  BOOST_TEST(seen.insert("old", t0 + 61s));     // forgotten, so new again
  BOOST_TEST(!seen.insert("newer", t0 + 61s));  // not yet expired
}

BOOST_AUTO_TEST_CASE(the_oldest_ids_go_first_when_the_count_bound_is_reached) {
  dedupe_set seen(3, 3600s);
  for (const char* id : {"a", "b", "c", "d"})
    seen.insert(id);
  BOOST_TEST(seen.size() == 3u);
  BOOST_TEST(!seen.contains("a"));
  BOOST_TEST(seen.contains("d"));
}

BOOST_AUTO_TEST_CASE(an_erased_then_reinserted_id_is_not_expired_by_its_old_entry) {
  dedupe_set seen(10, 60s);
  const auto t0 = dedupe_set::clock::now();
  seen.insert("x", t0);
  seen.erase("x");
  BOOST_TEST(seen.insert("x", t0 + 50s));
  // The first entry's time has passed, but the id was seen again at t0+50s.
  BOOST_TEST(!seen.insert("x", t0 + 70s));
}

// Many ids against a plain model of the set: inserts, erases and the count bound, so every probe
// run, wrap-around and backward shift of the table is exercised.
BOOST_AUTO_TEST_CASE(agrees_with_a_model_over_many_random_operations) {
  constexpr std::size_t bound = 5000;
  dedupe_set seen(bound, 3600s);
  std::deque<std::string> model_order;  // oldest first, live ids only
  std::set<std::string> model;
  std::mt19937 random(7);
  const auto t0 = dedupe_set::clock::now();
  for (int step = 0; step < 60000; ++step) {
    const std::string id = "wamid." + std::to_string(random() % 20000);
    if (random() % 8 == 0) {
      seen.erase(id);
      if (model.erase(id) > 0) std::erase(model_order, id);
      continue;
    }
    const bool fresh = model.count(id) == 0;
    BOOST_TEST_REQUIRE(seen.insert(id, t0) == fresh, "step " << step);
    if (!fresh) continue;
    model.insert(id);
    model_order.push_back(id);
    if (model.size() > bound) {
      model.erase(model_order.front());
      model_order.pop_front();
    }
  }
  BOOST_TEST(seen.size() == model.size());
  for (int i = 0; i < 20000; ++i) {
    const std::string id = "wamid." + std::to_string(i);
    BOOST_TEST_REQUIRE(seen.contains(id) == (model.count(id) > 0), id);
  }
  std::vector<bridge::queue::dedupe_key> expected;
  for (const std::string& id : model_order)
    expected.push_back(seen.key_of(id));
  BOOST_TEST((seen.keys() == expected));
}

BOOST_AUTO_TEST_CASE(keys_are_oldest_first_without_erased_ids) {
  dedupe_set seen(10, 3600s);
  for (const char* id : {"a", "b", "c"})
    seen.insert(id);
  seen.erase("b");
  seen.insert("b");
  const std::vector<bridge::queue::dedupe_key> expected{seen.key_of("a"), seen.key_of("c"),
                                                        seen.key_of("b")};
  BOOST_TEST((seen.keys() == expected));
}

BOOST_AUTO_TEST_CASE(the_same_secret_gives_the_same_keys) {
  dedupe_set first(10, 3600s);
  dedupe_set second(10, 3600s, first.secret());
  BOOST_TEST((first.key_of("wamid.1") == second.key_of("wamid.1")));
  second.insert(first.key_of("wamid.1"));
  BOOST_TEST(second.contains("wamid.1"));
}

// The footprint of a full window (issue 15: at most 48 bytes a remembered id). Counted from the
// capacities the set holds, so it is exact for the table and the entries whatever the allocator;
// BENCHMARKS.md has the resident memory measured around the same fill.
BOOST_AUTO_TEST_CASE(a_full_window_holds_at_most_48_bytes_an_id) {
  constexpr std::size_t window = 1'000'000;
  dedupe_set seen(window, 3600s);
  const auto t0 = dedupe_set::clock::now();
  for (std::size_t i = 0; i < window + 1000; ++i)
    seen.insert("wamid.HBgLMTY1MDUwNzY1MjAVAgASGBQzQTRBNjU5OUFFRTAzODEw" + std::to_string(i), t0);
  BOOST_TEST(seen.size() == window);
  BOOST_TEST(seen.memory_bytes() <= 48 * window);
}

BOOST_AUTO_TEST_SUITE_END()
