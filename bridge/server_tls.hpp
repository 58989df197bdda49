#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "config/settings.hpp"

namespace bridge {

// The cipher suites offered with TLS 1.2: ECDHE key exchange (forward secrecy) with AEAD ciphers
// only, the widely used "intermediate" profile without its finite-field DHE suites. TLS 1.3's
// suites are all AEAD with forward secrecy, and OpenSSL's defaults are kept for it.
inline constexpr const char* tls12_cipher_suites =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// The public listener's TLS context for server.tls: TLS 1.2 and 1.3 (1.3 only with
// min_version 1.3), the suites above in the server's order of preference, no compression or
// renegotiation. Null when server.tls is not set. Throws std::invalid_argument naming the key
// when the certificate or key cannot be loaded.
std::shared_ptr<boost::asio::ssl::context> make_server_tls(const config::server_settings& server);

}  // namespace bridge
