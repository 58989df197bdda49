#include "bridge/server_tls.hpp"

#include <openssl/ssl.h>

#include <stdexcept>
#include <string>

namespace bridge {

namespace asio = boost::asio;

namespace {

void apply_protocol_policy(SSL_CTX* native, config::tls_version min_version) {
  const int floor = min_version == config::tls_version::v1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(native, floor) != 1 ||
      SSL_CTX_set_cipher_list(native, tls12_cipher_suites) != 1) {
    throw std::invalid_argument("server.tls: OpenSSL refused the TLS protocol policy");
  }
  // The server's preference decides, so a client cannot steer towards its weakest suite.
  SSL_CTX_set_options(
      native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
}

}  // namespace

std::shared_ptr<asio::ssl::context> make_server_tls(const config::server_settings& server) {
  if (!server.tls) return nullptr;
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  apply_protocol_policy(context->native_handle(), server.tls->min_version);
  boost::system::error_code ec;
  context->use_certificate_chain_file(server.tls->cert_file, ec);
  if (ec) {
    throw std::invalid_argument("server.tls.cert_file: cannot load " + server.tls->cert_file +
                                ": " + ec.message());
  }
  context->use_private_key_file(server.tls->key_file, asio::ssl::context::pem, ec);
  if (ec) {
    throw std::invalid_argument("server.tls.key_file: cannot load " + server.tls->key_file + ": " +
                                ec.message());
  }
  return context;
}

}  // namespace bridge
