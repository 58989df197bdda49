#include "queue/redis/script.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace bridge::queue::redis {

std::string sha1_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha1(), nullptr) != 1) {
    throw std::runtime_error("SHA-1 of a redis script failed (OpenSSL EVP_Digest)");
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0x0f];
  }
  return out;
}

script::script(std::string source) {
  std::string digest = sha1_hex(source);
  body_ = std::make_shared<const body>(body{std::move(source), std::move(digest)});
}

}  // namespace bridge::queue::redis
