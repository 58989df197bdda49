// The registry of idle connections a listener sheds to make room: oldest first, each closed at
// most once, and a connection that stopped waiting is never closed by it.
#include "webhook/http/idle_connections.hpp"

#include <boost/test/unit_test.hpp>
#include <optional>
#include <vector>

using bridge::webhook::http::idle_connections;

BOOST_AUTO_TEST_SUITE(idle_connections_suite)

// Connections are shed oldest first; one that stopped waiting (its listing ended) is skipped,
// and an empty registry has nothing to shed.
BOOST_AUTO_TEST_CASE(the_longest_waiting_connection_is_shed_first) {
  idle_connections registry;
  std::vector<int> closed;
  std::optional<idle_connections::listing> first(std::in_place, registry,
                                                 [&] { closed.push_back(1); });
  std::optional<idle_connections::listing> second(std::in_place, registry,
                                                  [&] { closed.push_back(2); });
  std::optional<idle_connections::listing> third(std::in_place, registry,
                                                 [&] { closed.push_back(3); });
  BOOST_TEST(registry.size() == 3u);
  first.reset();  // its request began: no longer idle
  BOOST_TEST(registry.size() == 2u);
  BOOST_TEST(registry.close_oldest());
  BOOST_TEST(closed == std::vector<int>{2});
  BOOST_TEST(second->shed());
  BOOST_TEST(!third->shed());
  second.reset();  // a shed listing ends without touching the registry again
  BOOST_TEST(registry.size() == 1u);
  BOOST_TEST(registry.close_oldest());
  BOOST_TEST(!registry.close_oldest());
  BOOST_TEST(closed == (std::vector<int>{2, 3}));
  third.reset();
  BOOST_TEST(registry.size() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
