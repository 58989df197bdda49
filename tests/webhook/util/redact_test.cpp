#include "webhook/util/redact.hpp"

#include <boost/test/unit_test.hpp>

using bridge::webhook::util::redact_id;

BOOST_AUTO_TEST_SUITE(redact)

BOOST_AUTO_TEST_CASE(long_phone_number_keeps_first_four_and_last_two) {
  BOOST_TEST(redact_id("919876543210", true) == "9198******10");
  BOOST_TEST(redact_id("15551234567", true) == "1555*****67");
  BOOST_TEST(redact_id("1234567", true) == "1234*67");
}

BOOST_AUTO_TEST_CASE(short_ids_are_masked_whole) {
  BOOST_TEST(redact_id("123456", true) == "******");
  BOOST_TEST(redact_id("12", true) == "**");
  BOOST_TEST(redact_id("7", true) == "*");
}

BOOST_AUTO_TEST_CASE(username_id_keeps_prefix_and_last_two) {
  BOOST_TEST(redact_id("IN.13491208655302741918", true) == "IN.******************18");
  BOOST_TEST(redact_id("US.1234567", true) == "US.*****67");
  BOOST_TEST(redact_id("US.123456", true) == "US.******");
  BOOST_TEST(redact_id("US.", true) == "US.");
}

BOOST_AUTO_TEST_CASE(redacted_id_hides_the_middle) {
  const std::string id = "919876543210";
  const std::string out = redact_id(id, true);
  BOOST_TEST(out.size() == id.size());
  BOOST_TEST(out.find("876543") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(disabled_returns_input) {
  BOOST_TEST(redact_id("919876543210", false) == "919876543210");
  BOOST_TEST(redact_id("IN.13491208655302741918", false) == "IN.13491208655302741918");
  BOOST_TEST(redact_id("", false) == "");
}

BOOST_AUTO_TEST_CASE(empty_id) {
  BOOST_TEST(redact_id("", true) == "");
}

BOOST_AUTO_TEST_SUITE_END()
