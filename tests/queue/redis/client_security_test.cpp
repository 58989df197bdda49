// AUTH (requirepass and ACL users) and TLS (rediss://) against real redis-servers: the right
// credentials and CA connect; wrong ones are clear error values, and the password is never logged.
#include <boost/test/unit_test.hpp>
#include <string>

#include "queue/redis/client.hpp"
#include "tests/queue/redis/test_io.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/self_signed.hpp"

namespace asio = boost::asio;
using namespace bridge::queue::redis;
using namespace bridge::queue::redis::test;
using bridge::test::redis_server;
using bridge::test::redis_server_options;
using bridge::test::temp_dir;
using bridge::test::write_self_signed;

namespace {

const std::string default_password = "default-s3cret";
const std::string alice_password = "wonder-land";

redis_server_options with_passwords() {
  redis_server_options options;
  options.password = default_password;
  options.acl_users = {"alice on >" + alice_password + " ~* &* +@all"};
  return options;
}

redis_server_options with_tls(const bridge::test::pem_files& pem, std::string password = {}) {
  redis_server_options options;
  options.tls = pem;
  options.password = std::move(password);
  return options;
}

// The first round trip's outcome for a client made with options.
boost::system::result<reply> first_ping(asio::io_context& io, const client_options& options) {
  auto redis = make_client(io.get_executor(), options);
  return run(io, redis->command({"PING"}));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(client_security_suite, *boost::unit_test::timeout(120))

BOOST_AUTO_TEST_CASE(auth_with_the_default_users_password) {
  redis_server server(with_passwords());
  asio::io_context io;
  client_options options = options_for(server.url());
  options.password = default_password;
  auto redis = make_client(io.get_executor(), options);
  BOOST_TEST(answered(run(io, redis->command({"ACL", "WHOAMI"}))) == reply::make_string("default"));
}

BOOST_AUTO_TEST_CASE(auth_with_an_acl_user) {
  redis_server server(with_passwords());
  asio::io_context io;
  client_options options = options_for("redis://alice@127.0.0.1:" + std::to_string(server.port()));
  options.password = alice_password;
  auto redis = make_client(io.get_executor(), options);
  BOOST_TEST(answered(run(io, redis->command({"ACL", "WHOAMI"}))) == reply::make_string("alice"));
}

BOOST_AUTO_TEST_CASE(wrong_or_missing_credentials_are_auth_failed_and_never_logged) {
  redis_server server(with_passwords());
  asio::io_context io;
  log_capture log;
  const auto auth_failed = make_error_code(errc::auth_failed);

  client_options none = options_for(server.url());
  auto r = first_ping(io, none);
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == auth_failed);  // NOAUTH on the set-up PING

  client_options wrong = options_for(server.url());
  wrong.password = "not-the-" + default_password;
  r = first_ping(io, wrong);
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == auth_failed);

  client_options wrong_user =
      options_for("redis://alice@127.0.0.1:" + std::to_string(server.port()));
  wrong_user.password = default_password;  // the default user's, not alice's
  r = first_ping(io, wrong_user);
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == auth_failed);

  const std::string text = log.text();
  BOOST_TEST(text.find("WRONGPASS") != std::string::npos, text);
  BOOST_TEST(text.find(default_password) == std::string::npos, text);
  BOOST_TEST(text.find(alice_password) == std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(a_password_for_a_server_without_one_is_auth_failed) {
  redis_server server;
  asio::io_context io;
  client_options options = options_for(server.url());
  options.password = "unexpected";
  const auto r = first_ping(io, options);
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == make_error_code(errc::auth_failed));
}

BOOST_AUTO_TEST_CASE(tls_verifies_the_server_against_the_configured_ca) {
  temp_dir certs;
  const auto pem = write_self_signed(certs.path());
  redis_server server(with_tls(pem, default_password));
  asio::io_context io;
  client_options options = options_for(server.url(2));
  BOOST_TEST(options.server.tls);
  options.tls_ca_file = pem.cert_file;
  options.password = default_password;
  auto redis = make_client(io.get_executor(), options);
  BOOST_TEST(answered(run(io, redis->command({"SET", "over", "tls"}))) == reply::make_status("OK"));
  BOOST_TEST(answered(run(io, redis->command({"GET", "over"}))) == reply::make_string("tls"));
  // Pipelines and large values go through the TLS stream's write coalescing too.
  request req;
  const std::string big(200 * 1024, 'z');
  req.push({"SET", "big", big}).push({"STRLEN", "big"});
  const auto replies = run(io, redis->execute(req));
  BOOST_REQUIRE(replies.has_value());
  BOOST_TEST(replies->back() == reply::make_integer(static_cast<long long>(big.size())));

  // By name: SNI, and the certificate's DNS name checked.
  options.server = parse_url("rediss://localhost:" + std::to_string(server.port())).value();
  BOOST_TEST(answered(first_ping(io, options)) == reply::make_status("PONG"));
}

BOOST_AUTO_TEST_CASE(tls_refuses_a_server_the_ca_did_not_sign) {
  temp_dir certs, other;
  const auto pem = write_self_signed(certs.path());
  const auto stranger = write_self_signed(other.path());
  redis_server server(with_tls(pem));
  asio::io_context io;
  log_capture log;
  client_options options = options_for(server.url());
  options.tls_ca_file = stranger.cert_file;
  const auto r = first_ping(io, options);
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == make_error_code(errc::tls_failed));
  BOOST_TEST(log.text().find("certificate") != std::string::npos, log.text());
}

BOOST_AUTO_TEST_CASE(plain_redis_against_a_tls_port_fails_in_time) {
  temp_dir certs;
  redis_server server(with_tls(write_self_signed(certs.path())));
  asio::io_context io;
  client_options options = options_for("redis://127.0.0.1:" + std::to_string(server.port()));
  options.timeout = 500ms;
  const auto started = std::chrono::steady_clock::now();
  const auto r = first_ping(io, options);
  BOOST_TEST(!r.has_value());
  BOOST_TEST(millis(std::chrono::steady_clock::now() - started) < 1500);
}

BOOST_AUTO_TEST_CASE(an_unreadable_ca_file_is_a_start_up_error) {
  asio::io_context io;
  client_options options = options_for("rediss://127.0.0.1:6379");
  options.tls_ca_file = "/nonexistent/ca.pem";
  BOOST_CHECK_THROW(make_client(io.get_executor(), options), std::exception);
}

BOOST_AUTO_TEST_SUITE_END()
