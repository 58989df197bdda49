#include "config/duration.hpp"

#include <boost/test/unit_test.hpp>

using namespace std::chrono_literals;
using ms = bridge::config::duration;

namespace {

// Milliseconds parsed, or -1 when refused (printable in failure messages).
long long parsed_ms(std::string_view text) {
  const auto d = bridge::config::parse_duration(text);
  return d ? d->count() : -1;
}

bool parses(std::string_view text) {
  return bridge::config::parse_duration(text).has_value();
}

std::string format(ms d) {
  return bridge::config::format_duration(d);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(duration)

BOOST_AUTO_TEST_CASE(reads_each_unit) {
  BOOST_TEST(parsed_ms("250ms") == 250);
  BOOST_TEST(parsed_ms("30s") == ms(30s).count());
  BOOST_TEST(parsed_ms("5m") == ms(5min).count());
  BOOST_TEST(parsed_ms("24h") == ms(24h).count());
  BOOST_TEST(parsed_ms("0s") == ms(0).count());
}

BOOST_AUTO_TEST_CASE(reads_compounds) {
  BOOST_TEST(parsed_ms("1h30m") == ms(90min).count());
  BOOST_TEST(parsed_ms("1m30s") == ms(90s).count());
  BOOST_TEST(parsed_ms("2s500ms") == ms(2500ms).count());
  BOOST_TEST(parsed_ms("1h2m3s4ms") == ms(1h + 2min + 3s + 4ms).count());
  BOOST_TEST(parsed_ms("007s") == ms(7s).count());
}

BOOST_AUTO_TEST_CASE(rejects_malformed_text) {
  for (const char* text :
       {"",   "10", "s",    "ms",  "-1s",  "+1s", "1.5s", "1 s",   " 1s",     "1s ", "1d",
        "1S", "1H", "1sec", "1hm", "1m30", "h1",  "1ms5", "1e3ms", "1_000ms", "٣s"}) {
    BOOST_TEST_INFO("text: '" << text << "'");
    BOOST_TEST(!parses(text));
  }
}

BOOST_AUTO_TEST_CASE(rejects_overflow) {
  BOOST_TEST(parses("9223372036854775807ms"));
  BOOST_TEST(!parses("9223372036854775808ms"));
  BOOST_TEST(!parses("99999999999999999999999s"));
  BOOST_TEST(parses("2562047788015h"));
  BOOST_TEST(!parses("2562047788016h"));  // just over int64 milliseconds
  BOOST_TEST(!parses("2562047788015h2562047788015h"));
}

BOOST_AUTO_TEST_CASE(formats_compactly) {
  BOOST_TEST(format(ms(0)) == "0s");
  BOOST_TEST(format(ms(250ms)) == "250ms");
  BOOST_TEST(format(ms(90min)) == "1h30m");
  BOOST_TEST(format(ms(25h + 1s + 1ms)) == "25h1s1ms");
  BOOST_TEST(format(ms(-1500ms)) == "-1s500ms");
}

BOOST_AUTO_TEST_CASE(format_reads_back) {
  for (long long n : {1LL, 999LL, 61'001LL, 86'400'000LL, 123'456'789LL}) {
    BOOST_TEST(parsed_ms(format(ms(n))) == n);
  }
}

BOOST_AUTO_TEST_SUITE_END()
