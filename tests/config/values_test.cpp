#include "config/values.hpp"

#include <boost/test/unit_test.hpp>

using namespace bridge::config;

BOOST_AUTO_TEST_SUITE(values)

BOOST_AUTO_TEST_CASE(listen_addresses) {
  auto v4 = parse_listen_address("0.0.0.0:8443");
  BOOST_TEST_REQUIRE(v4.value.has_value());
  BOOST_TEST(v4.value->host == "0.0.0.0");
  BOOST_TEST(v4.value->port == 8443);
  auto v6 = parse_listen_address("[::1]:0");
  BOOST_TEST_REQUIRE(v6.value.has_value());
  BOOST_TEST(v6.value->host == "::1");
  BOOST_TEST(v6.value->port == 0);
  BOOST_TEST(parse_listen_address("127.0.0.1:65535").value.has_value());
  BOOST_TEST(parse_listen_address("[::]:9090").value.has_value());
  BOOST_TEST(parse_listen_address("localhost:9090").value.value().host == "localhost");
  for (const char* bad : {"", "8443", ":8443", "0.0.0.0", "0.0.0.0:", "0.0.0.0:65536", "0.0.0.0:-1",
                          "0.0.0.0:80a", "::1:8443", "[::1]8443", "[::1:8443", "[127.0.0.1]:80",
                          "example.com:80", "[localhost]:80", "256.0.0.1:80", "0.0.0.0:0000080"}) {
    BOOST_TEST_INFO("text: '" << bad << "'");
    auto p = parse_listen_address(bad);
    BOOST_TEST(!p.value.has_value());
    BOOST_TEST(!p.error.empty());
  }
  BOOST_TEST(parse_listen_address("::1:8443").error.find("brackets") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(server_addresses) {
  auto name = parse_server_address(
      "robofy-wa-bridge-redis-sentinel-0.robofy-wa-bridge-redis-sentinel:26379");
  BOOST_TEST_REQUIRE(name.value.has_value());
  BOOST_TEST(name.value->host ==
             "robofy-wa-bridge-redis-sentinel-0.robofy-wa-bridge-redis-sentinel");
  BOOST_TEST(name.value->port == 26379);
  BOOST_TEST(parse_server_address("sentinel_0:1").value.has_value());
  BOOST_TEST(parse_server_address("10.0.0.7:26379").value.value().host == "10.0.0.7");
  BOOST_TEST(parse_server_address("[fd00::7]:26379").value.value().host == "fd00::7");
  for (const char* bad :
       {"", "sentinel-0", "sentinel-0:", ":26379", "sentinel-0:0", "sentinel-0:65536",
        "sentinel 0:26379", "-sentinel:26379", ".sentinel:26379", "fd00::7:26379", "[fd00::7]:0",
        "[fd00::7]", "sentinel-0:26379x", "séntinel:26379", "26379", "a/b:1"}) {
    BOOST_TEST_INFO("text: '" << bad << "'");
    auto p = parse_server_address(bad);
    BOOST_TEST(!p.value.has_value());
    BOOST_TEST(!p.error.empty());
  }
}

BOOST_AUTO_TEST_CASE(base_urls) {
  BOOST_TEST(normalize_base_url("https://graph.facebook.com").value.value() ==
             "https://graph.facebook.com");
  BOOST_TEST(normalize_base_url("https://graph.facebook.com/").value.value() ==
             "https://graph.facebook.com");
  BOOST_TEST(normalize_base_url("http://127.0.0.1:8080/").value.value() == "http://127.0.0.1:8080");
  BOOST_TEST(normalize_base_url("http://[::1]:8080").value.value() == "http://[::1]:8080");
  for (const char* bad :
       {"", "graph.facebook.com", "ftp://x", "https://", "https:///", "https://x/v1", "https://x//",
        "https://x?y", "https://u:p@x", "https://x:0", "https://x:99999",
        "https://x:", "https://:80", "https://x y", "https://[zz]:80", "HTTPS://x"}) {
    BOOST_TEST_INFO("text: '" << bad << "'");
    BOOST_TEST(!normalize_base_url(bad).value.has_value());
  }
  BOOST_TEST(normalize_base_url("https://u:pw@x").error.find("pw") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(graph_api_versions) {
  BOOST_TEST(is_graph_api_version("v21.0"));
  BOOST_TEST(is_graph_api_version("v3.10"));
  for (const char* bad : {"", "v", "21.0", "v21", "v21.", "v.0", "V21.0", "v21.0.1", "v21.0 "}) {
    BOOST_TEST_INFO("text: '" << bad << "'");
    BOOST_TEST(!is_graph_api_version(bad));
  }
}

BOOST_AUTO_TEST_CASE(webhook_paths) {
  BOOST_TEST(is_webhook_path("/"));
  BOOST_TEST(is_webhook_path("/webhook"));
  for (const char* bad : {"", "webhook", "/web hook", "/webhook?x=1", "/a#b"}) {
    BOOST_TEST_INFO("text: '" << bad << "'");
    BOOST_TEST(!is_webhook_path(bad));
  }
}

BOOST_AUTO_TEST_SUITE_END()
