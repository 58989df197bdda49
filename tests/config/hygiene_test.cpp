// The checks behind the configuration's warnings: which base URLs send credentials over the
// network in clear text, and which files group or others may read.
#include "config/hygiene.hpp"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <random>

namespace cfg = bridge::config;

BOOST_AUTO_TEST_SUITE(hygiene)

// Plain http:// is fine to loopback (a local proxy or sidecar) and nowhere else; https:// is
// always fine. Only address literals count as loopback: a name that starts with "127." may
// resolve to any host.
BOOST_AUTO_TEST_CASE(cleartext_means_plain_http_to_a_host_that_is_not_a_loopback_literal) {
  for (const char* local :
       {"http://127.0.0.1", "http://127.0.0.1:8080", "http://127.8.9.10:1", "http://localhost",
        "http://localhost:9", "http://[::1]", "http://[::1]:8443", "http://[0:0:0:0:0:0:0:1]:80"}) {
    BOOST_TEST(!cfg::is_cleartext_remote(local), local);
  }
  for (const char* remote :
       {"http://10.1.2.3", "http://graph.facebook.com", "http://128.0.0.1",
        "http://127.attacker.example", "http://127.0.0.1.nip.io:80", "http://localhost.example",
        "http://[::2]:80", "http://[::ffff:10.0.0.1]"}) {
    BOOST_TEST(cfg::is_cleartext_remote(remote), remote);
  }
  for (const char* secure : {"https://graph.facebook.com", "https://10.1.2.3:8443"})
    BOOST_TEST(!cfg::is_cleartext_remote(secure), secure);
}

// A file is exposed when its group or others may read it; its mode is given in octal.
BOOST_AUTO_TEST_CASE(readable_by_others_reports_the_mode_of_an_exposed_file) {
  namespace fs = std::filesystem;
  const fs::path file =
      fs::temp_directory_path() / ("hygiene-test-" + std::to_string(std::random_device{}()));
  std::ofstream(file) << "secret";
  const auto set = [&](fs::perms mode) { fs::permissions(file, mode, fs::perm_options::replace); };
  set(fs::perms::owner_read | fs::perms::owner_write);
  BOOST_TEST(!cfg::readable_by_others(file.string()).has_value());
  set(fs::perms::owner_read | fs::perms::group_read);
  BOOST_TEST(cfg::readable_by_others(file.string()).value_or("") == "0440");
  set(fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  BOOST_TEST(cfg::readable_by_others(file.string()).value_or("") == "0604");
  fs::remove(file);
  BOOST_TEST(!cfg::readable_by_others(file.string()).has_value());  // missing: nothing to say
}

BOOST_AUTO_TEST_SUITE_END()
