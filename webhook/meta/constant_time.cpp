#include "webhook/meta/constant_time.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>

namespace bridge::webhook::meta {

namespace {
using digest = std::array<unsigned char, EVP_MAX_MD_SIZE>;

digest sha256(std::string_view data) {
  digest out{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &length, EVP_sha256(), nullptr);
  return out;
}
}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) {
  const digest da = sha256(a);
  const digest db = sha256(b);
  // Equal digests with different lengths are impossible in practice; the length check is a
  // formality after the constant-time comparison.
  return CRYPTO_memcmp(da.data(), db.data(), 32) == 0 && a.size() == b.size();
}

}  // namespace bridge::webhook::meta
