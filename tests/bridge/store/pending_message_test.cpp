#include "bridge/store/pending_message.hpp"

#include <boost/test/unit_test.hpp>
#include <limits>
#include <string>

using namespace bridge::store;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(pending_message_suite)

BOOST_AUTO_TEST_CASE(the_conversation_is_the_business_number_and_the_customer) {
  bridge::webhook::meta::inbound_message m;
  m.phone_number_id = "106540352242922";
  m.customer_id = "IN.1349";
  BOOST_TEST(conversation_key(m) == "106540352242922/IN.1349");
}

// The name built on the stack is the same as conversation_key's, for short ids and for ids too
// long for its inline room (a username customer's id can be long).
BOOST_AUTO_TEST_CASE(a_conversation_name_reads_as_its_conversation_key) {
  bridge::webhook::meta::inbound_message m;
  m.phone_number_id = "10654035224292217";
  m.customer_id = "919876543210";
  BOOST_TEST(conversation_name(m).view() == "10654035224292217/919876543210");
  for (const std::size_t customer_size : {22u, 23u}) {  // 40 characters in all, then 41
    m.customer_id = std::string(customer_size, '8');
    BOOST_TEST(conversation_name(m).view() == m.phone_number_id + "/" + m.customer_id);
  }
  m.customer_id = "IN." + std::string(200, '7');
  BOOST_TEST(conversation_name(m).view() == conversation_key(m));
  BOOST_TEST(conversation_name(m).view().size() == 17u + 1u + 203u);
  m.phone_number_id.clear();
  m.customer_id.clear();
  BOOST_TEST(conversation_name(m).view() == "/");
}

BOOST_AUTO_TEST_CASE(written_at_is_metas_timestamp_unless_it_is_missing_or_ahead_of_now) {
  const std::chrono::system_clock::time_point now{std::chrono::seconds(1'796'032'800)};
  bridge::webhook::meta::inbound_message m;
  m.timestamp = 1'796'032'800 - 30 * 3600;
  BOOST_TEST((written_at(m, now) == now - 30h));
  m.timestamp = 1'796'032'800;
  BOOST_TEST((written_at(m, now) == now));
  m.timestamp = 0;  // absent or unreadable on the wire
  BOOST_TEST((written_at(m, now) == now));
  m.timestamp = 1'796'032'801;  // a second ahead: nothing to trust
  BOOST_TEST((written_at(m, now) == now));
  m.timestamp = std::numeric_limits<std::int64_t>::max();  // would overflow as nanoseconds
  BOOST_TEST((written_at(m, now) == now));
}

BOOST_AUTO_TEST_SUITE_END()
