// The public listener's TLS policy (bridge/server_tls.hpp) as clients see it, through an HTTP
// listener serving make_server_tls's context as the app's public listener does: TLS 1.2 only with
// ECDHE key exchange and AEAD ciphers, chosen in the server's order; TLS 1.1 and below refused;
// TLS 1.3 alone with server.tls.min_version 1.3.
#include "bridge/server_tls.hpp"

#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/test/unit_test.hpp>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "config/settings.hpp"
#include "tests/support/self_signed.hpp"
#include "webhook/http/errors.hpp"
#include "webhook/http/listener.hpp"

using namespace bridge::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// What a client got from its handshake: the suite and protocol, or nothing.
struct handshake_result {
  bool connected = false;
  std::string cipher;
  std::string version;
};

// One TLS handshake with the listener by a client that `configure` restricts (OpenSSL's security
// level 0, so it can offer anything OpenSSL knows). Bounded: a hung handshake is a failure.
handshake_result handshake(const asio::ip::tcp::endpoint& to,
                           const std::function<bool(SSL_CTX*)>& configure) {
  handshake_result result;
  asio::io_context io;
  asio::ssl::context context(asio::ssl::context::tls_client);
  SSL_CTX_set_security_level(context.native_handle(), 0);
  if (!configure(context.native_handle())) return result;
  asio::ssl::stream<asio::ip::tcp::socket> stream(io, context);
  boost::system::error_code ec;
  stream.next_layer().connect(to, ec);
  BOOST_REQUIRE_MESSAGE(!ec, "connect: " << ec.message());
  stream.async_handshake(asio::ssl::stream_base::client,
                         [&](boost::system::error_code hs) { result.connected = !hs; });
  io.run_for(5s);
  if (result.connected) {
    result.cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(stream.native_handle()));
    result.version = SSL_get_version(stream.native_handle());
  }
  return result;
}

// A client speaking exactly `version` and offering `ciphers` (TLS 1.2 and below) in that order.
std::function<bool(SSL_CTX*)> offering(int version, const std::string& ciphers = "") {
  return [version, ciphers](SSL_CTX* ctx) {
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    return ciphers.empty() || SSL_CTX_set_cipher_list(ctx, (ciphers + ":@SECLEVEL=0").c_str()) == 1;
  };
}

// Every TLS 1.2 (and older) cipher suite this OpenSSL knows, by name.
std::vector<std::string> every_tls12_cipher() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_security_level(ctx, 0);
  BOOST_REQUIRE(SSL_CTX_set_cipher_list(ctx, "ALL:COMPLEMENTOFALL:@SECLEVEL=0") == 1);
  std::vector<std::string> names;
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx);
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(ciphers, i);
    if (std::string(SSL_CIPHER_get_version(cipher)) == "TLSv1.3") continue;
    names.emplace_back(SSL_CIPHER_get_name(cipher));
  }
  SSL_CTX_free(ctx);
  return names;
}

// The configured TLS 1.2 suites a certificate of the given type can serve.
std::set<std::string> configured_suites_for(key_type type) {
  std::set<std::string> suites;
  std::string list = bridge::tls12_cipher_suites;
  for (std::size_t at = 0; at < list.size();) {
    const std::size_t end = std::min(list.find(':', at), list.size());
    const std::string suite = list.substr(at, end - at);
    const bool ecdsa = suite.find("-ECDSA-") != std::string::npos;
    if (ecdsa == (type == key_type::ec_p256)) suites.insert(suite);
    at = end + 1;
  }
  return suites;
}

// Answers every request 200 (the handshake is what the tests look at).
class ok_handler final : public bridge::webhook::http::request_handler {
 public:
  asio::awaitable<bridge::webhook::http::response> handle(
      bridge::webhook::http::request& req) override {
    co_return bridge::webhook::http::make_response(bridge::webhook::http::status::ok, "text/plain",
                                                   "ok", req.keep_alive());
  }
};

// The TLS settings of server.tls for a fresh certificate of the given key type in `dir`.
bridge::config::server_settings tls_server_settings(const temp_dir& dir, key_type type,
                                                    bridge::config::tls_version min_version) {
  const pem_files pem = write_self_signed(dir.path(), type);
  bridge::config::server_settings server;
  server.tls = bridge::config::tls_settings{pem.cert_file, pem.key_file, min_version};
  return server;
}

// A listener on an ephemeral loopback port serving TLS with make_server_tls's context for a
// fresh certificate of the given key type, on its own thread.
struct tls_listener {
  temp_dir dir;
  asio::io_context io;
  bridge::webhook::http::http_listener listener;
  std::thread loop;

  explicit tls_listener(key_type type,
                        bridge::config::tls_version min_version = bridge::config::tls_version::v1_2)
      : listener(io.get_executor(), asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                 std::make_shared<ok_handler>(), bridge::webhook::http::listener_limits{},
                 bridge::make_server_tls(tls_server_settings(dir, type, min_version))) {
    listener.start();
    loop = std::thread([this] { io.run(); });
  }
  ~tls_listener() {
    io.stop();
    loop.join();
  }
  asio::ip::tcp::endpoint endpoint() const { return listener.local_endpoint(); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(server_tls)

// With an ECDSA certificate: CBC suites (with or without ECDHE) and static RSA are refused, an
// ECDHE+AEAD suite is served, a client preferring CHACHA20 gets the server's first choice
// (AES-128-GCM), TLS 1.1 is refused and TLS 1.3 is served.
BOOST_AUTO_TEST_CASE(only_ecdhe_aead_suites_in_the_servers_order_with_an_ecdsa_certificate) {
  tls_listener server(key_type::ec_p256);
  const auto at = server.endpoint();
  for (const char* weak : {"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384",
                           "ECDHE-ECDSA-AES128-SHA256", "AES128-SHA", "AES256-SHA256"}) {
    BOOST_TEST(!handshake(at, offering(TLS1_2_VERSION, weak)).connected, weak);
  }
  const auto aead = handshake(at, offering(TLS1_2_VERSION, "ECDHE-ECDSA-AES256-GCM-SHA384"));
  BOOST_TEST(aead.connected);
  BOOST_TEST(aead.cipher == "ECDHE-ECDSA-AES256-GCM-SHA384");
  const auto chosen = handshake(
      at, offering(TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256"));
  BOOST_TEST(chosen.connected);
  BOOST_TEST(chosen.cipher == "ECDHE-ECDSA-AES128-GCM-SHA256");
  BOOST_TEST(!handshake(at, offering(TLS1_1_VERSION)).connected);
  BOOST_TEST(!handshake(at, offering(TLS1_VERSION)).connected);
  const auto modern = handshake(at, offering(TLS1_3_VERSION));
  BOOST_TEST(modern.connected);
  BOOST_TEST(modern.version == "TLSv1.3");
}

// With an RSA certificate: static RSA key exchange (no forward secrecy) and CBC are refused;
// ECDHE-RSA with AES-GCM is served, again in the server's order.
BOOST_AUTO_TEST_CASE(static_rsa_and_cbc_suites_are_refused_with_an_rsa_certificate) {
  tls_listener server(key_type::rsa_2048);
  const auto at = server.endpoint();
  for (const char* weak : {"AES128-SHA", "AES256-SHA256", "AES128-GCM-SHA256",
                           "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384"}) {
    BOOST_TEST(!handshake(at, offering(TLS1_2_VERSION, weak)).connected, weak);
  }
  const auto chosen = handshake(at, offering(TLS1_2_VERSION,
                                             "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES256-GCM-"
                                             "SHA384:ECDHE-RSA-AES128-GCM-SHA256"));
  BOOST_TEST(chosen.connected);
  BOOST_TEST(chosen.cipher == "ECDHE-RSA-AES128-GCM-SHA256");
}

// server.tls.min_version 1.3: a client limited to TLS 1.2 is refused, a TLS 1.3 one is served.
BOOST_AUTO_TEST_CASE(min_version_1_3_refuses_tls_1_2_clients) {
  tls_listener server(key_type::ec_p256, bridge::config::tls_version::v1_3);
  const auto at = server.endpoint();
  BOOST_TEST(!handshake(at, offering(TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256")).connected);
  const auto modern = handshake(at, offering(TLS1_3_VERSION));
  BOOST_TEST(modern.connected);
  BOOST_TEST(modern.version == "TLSv1.3");
}

// Every TLS 1.2 suite OpenSSL knows, offered alone: exactly the configured ECDHE+AEAD suites
// that the certificate's key type can serve are accepted, nothing else.
BOOST_AUTO_TEST_CASE(of_every_tls_1_2_suite_only_the_configured_ones_are_accepted) {
  const std::vector<std::string> every = every_tls12_cipher();
  BOOST_TEST_MESSAGE(every.size() << " TLS 1.2 suites known");
  BOOST_REQUIRE_GT(every.size(), 30u);
  for (const key_type type : {key_type::ec_p256, key_type::rsa_2048}) {
    tls_listener server(type);
    std::set<std::string> accepted;
    for (const std::string& cipher : every) {
      const auto result = handshake(server.endpoint(), offering(TLS1_2_VERSION, cipher));
      if (result.connected) accepted.insert(result.cipher);
    }
    BOOST_TEST(accepted == configured_suites_for(type),
               (type == key_type::ec_p256 ? "ECDSA" : "RSA") << " certificate");
  }
}

BOOST_AUTO_TEST_SUITE_END()
