#include "queue/dedupe_set.hpp"

#include <boost/test/unit_test.hpp>

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

BOOST_AUTO_TEST_SUITE_END()
