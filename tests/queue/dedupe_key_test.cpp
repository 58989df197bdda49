// The dedupe key: SipHash-2-4-128 checked against OpenSSL's independent SIPHASH, and the journal's
// 16-byte form.
#include "queue/dedupe_key.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <boost/test/unit_test.hpp>
#include <set>
#include <string>

using bridge::queue::dedupe_hasher;
using bridge::queue::dedupe_key;

namespace {

// OpenSSL's SipHash-2-4 with a 16-byte output, as the key's bytes (low word first).
std::string openssl_siphash(const dedupe_hasher::secret_bytes& secret, const std::string& data) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "SIPHASH", nullptr);
  BOOST_TEST_REQUIRE(mac != nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  unsigned int size = 16;
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_uint(OSSL_MAC_PARAM_SIZE, &size),
                               OSSL_PARAM_construct_end()};
  std::string out(16, '\0');
  std::size_t length = 0;
  const bool ok =
      EVP_MAC_init(ctx, secret.data(), secret.size(), params) == 1 &&
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1 &&
      EVP_MAC_final(ctx, reinterpret_cast<unsigned char*>(out.data()), &length, out.size()) == 1;
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  BOOST_TEST_REQUIRE(ok);
  BOOST_TEST_REQUIRE(length == 16u);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dedupe_key_suite)

// Every length from 0 to 64 (each tail length, several whole blocks) under two secrets.
BOOST_AUTO_TEST_CASE(matches_openssl_siphash_2_4_128) {
  dedupe_hasher::secret_bytes counting{};
  for (std::size_t i = 0; i < counting.size(); ++i)
    counting[i] = static_cast<std::uint8_t>(i);
  for (const auto& secret : {counting, dedupe_hasher::random_secret()}) {
    const dedupe_hasher hash(secret);
    std::string data;
    for (int n = 0; n <= 64; ++n) {
      BOOST_TEST(to_bytes(hash(data)) == openssl_siphash(secret, data), "length " << n);
      data.push_back(static_cast<char>(n));
    }
  }
}

BOOST_AUTO_TEST_CASE(bytes_round_trip_and_other_lengths_are_refused) {
  const dedupe_key key{0x0102030405060708ULL, 0x1112131415161718ULL};
  dedupe_key back;
  BOOST_TEST(from_bytes(to_bytes(key), back));
  BOOST_TEST((back == key));
  BOOST_TEST(!from_bytes(std::string(15, 'x'), back));
  BOOST_TEST(!from_bytes(std::string(17, 'x'), back));
}

BOOST_AUTO_TEST_CASE(the_secret_decides_the_key) {
  const dedupe_hasher a(dedupe_hasher::random_secret());
  const dedupe_hasher b(dedupe_hasher::random_secret());
  const dedupe_hasher a_again(a.secret());
  const std::string id = "wamid.HBgLMTY1MDUwNzY1MjAVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=";
  BOOST_TEST((a(id) == a_again(id)));
  BOOST_TEST(!(a(id) == b(id)));
}

// Ids that differ in one character, like consecutive wamids, get distinct keys (a smoke test of
// the mixing; the README has the collision bound).
BOOST_AUTO_TEST_CASE(similar_ids_get_distinct_keys) {
  const dedupe_hasher hash(dedupe_hasher::random_secret());
  std::set<std::pair<std::uint64_t, std::uint64_t>> keys;
  for (int i = 0; i < 100000; ++i) {
    const dedupe_key k = hash("wamid.bench.1." + std::to_string(i));
    keys.emplace(k.high, k.low);
  }
  BOOST_TEST(keys.size() == 100000u);
}

BOOST_AUTO_TEST_SUITE_END()
