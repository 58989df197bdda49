#include "webhook/meta/signature.hpp"

#include <boost/test/unit_test.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace bridge::webhook::meta {
// Lets Boost.Test print a failed comparison; internal linkage keeps it private to this test.
static std::ostream& operator<<(std::ostream& out, signature_status status) {
  return out << to_string(status);
}
}  // namespace bridge::webhook::meta

namespace {

using bridge::webhook::meta::sign_body;
using bridge::webhook::meta::signature_status;
using bridge::webhook::meta::verify_signature;

std::string read_fixture(const std::string& name) {
  // In steps: GCC 12 misjudges `std::string(literal) + "..." + name` here (-Warray-bounds).
  std::string path = BRIDGE_FIXTURES_DIR;
  path += "/payloads/";
  path += name;
  std::ifstream in(path, std::ios::binary);
  BOOST_TEST_REQUIRE(in.good(), "fixture " << name << " is readable");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string upper(std::string text) {
  for (char& c : text) {
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

constexpr std::string_view secret = "0123456789abcdef0123456789abcdef";

}  // namespace

BOOST_AUTO_TEST_SUITE(signature)

BOOST_AUTO_TEST_CASE(rfc4231_test_case_2) {
  BOOST_TEST(sign_body("Jefe", "what do ya want for nothing?") ==
             "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  BOOST_TEST(verify_signature(
                 "Jefe", "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                 "what do ya want for nothing?") == signature_status::ok);
}

BOOST_AUTO_TEST_CASE(rfc4231_test_case_1) {
  const std::string key(20, '\x0b');
  BOOST_TEST(sign_body(key, "Hi There") ==
             "sha256=b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

BOOST_AUTO_TEST_CASE(rfc4231_test_case_6_key_longer_than_block) {
  const std::string key(131, '\xaa');
  BOOST_TEST(sign_body(key, "Test Using Larger Than Block-Size Key - Hash Key First") ==
             "sha256=60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

BOOST_AUTO_TEST_CASE(empty_body_signs_and_verifies) {
  const std::string header = sign_body(secret, "");
  BOOST_TEST(header.size() == 7u + 64u);
  BOOST_TEST(verify_signature(secret, header, "") == signature_status::ok);
  BOOST_TEST(verify_signature(secret, header, " ") == signature_status::mismatch);
}

BOOST_AUTO_TEST_CASE(sample_payload_signed_and_verified) {
  const std::string body = read_fixture("text.json");
  const std::string header = sign_body(secret, body);
  BOOST_TEST(header.starts_with("sha256="));
  BOOST_TEST(header.find_first_not_of("0123456789abcdef", 7) == std::string::npos);
  BOOST_TEST(verify_signature(secret, header, body) == signature_status::ok);
}

BOOST_AUTO_TEST_CASE(every_fixture_verifies_over_its_raw_bytes) {
  int count = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(BRIDGE_FIXTURES_DIR) + "/payloads")) {
    if (entry.path().extension() != ".json") continue;
    const std::string body = read_fixture(entry.path().filename().string());
    BOOST_TEST(verify_signature(secret, sign_body(secret, body), body) == signature_status::ok,
               entry.path().filename());
    ++count;
  }
  BOOST_TEST(count >= 15);
}

BOOST_AUTO_TEST_CASE(uppercase_and_mixed_case_hex_accepted) {
  const std::string body = read_fixture("text.json");
  const std::string header = sign_body(secret, body);
  const std::string upper_header = "sha256=" + upper(header.substr(7));
  BOOST_TEST(upper_header != header);
  BOOST_TEST(verify_signature(secret, upper_header, body) == signature_status::ok);
  std::string mixed = header;
  for (std::size_t i = 7; i < mixed.size(); i += 2)
    mixed[i] = upper(std::string(1, mixed[i]))[0];
  BOOST_TEST(verify_signature(secret, mixed, body) == signature_status::ok);
}

BOOST_AUTO_TEST_CASE(wrong_secret_is_mismatch) {
  const std::string body = read_fixture("text.json");
  BOOST_TEST(verify_signature("another-secret", sign_body(secret, body), body) ==
             signature_status::mismatch);
}

BOOST_AUTO_TEST_CASE(body_changed_by_one_byte_is_mismatch) {
  const std::string body = read_fixture("text.json");
  const std::string header = sign_body(secret, body);
  for (std::size_t i = 0; i < body.size(); ++i) {
    std::string changed = body;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    BOOST_TEST_REQUIRE(verify_signature(secret, header, changed) == signature_status::mismatch,
                       "byte " << i);
  }
  BOOST_TEST(verify_signature(secret, header, body + " ") == signature_status::mismatch);
  BOOST_TEST(verify_signature(secret, header, body.substr(1)) == signature_status::mismatch);
}

BOOST_AUTO_TEST_CASE(reserialised_body_is_mismatch) {
  // Meta escapes "/" as "\/": a parser that re-serialises the body changes the signed bytes.
  const std::string body = read_fixture("image-caption.json");
  const std::string header = sign_body(secret, body);
  std::string reserialised = body;
  for (std::size_t at = reserialised.find("\\/"); at != std::string::npos;
       at = reserialised.find("\\/", at)) {
    reserialised.erase(at, 1);
  }
  BOOST_TEST(reserialised != body);
  BOOST_TEST(verify_signature(secret, header, reserialised) == signature_status::mismatch);
}

BOOST_AUTO_TEST_CASE(empty_header_is_missing) {
  BOOST_TEST(verify_signature(secret, "", "{}") == signature_status::missing);
  BOOST_TEST(verify_signature(secret, std::string_view{}, "{}") == signature_status::missing);
}

BOOST_AUTO_TEST_CASE(malformed_headers) {
  const std::string body = read_fixture("text.json");
  const std::string header = sign_body(secret, body);
  const std::string hex = header.substr(7);
  BOOST_TEST(verify_signature(secret, header.substr(0, header.size() - 1), body) ==
             signature_status::malformed);  // truncated
  BOOST_TEST(verify_signature(secret, header + "0", body) == signature_status::malformed);  // long
  BOOST_TEST(verify_signature(secret, "sha256=", body) == signature_status::malformed);
  BOOST_TEST(verify_signature(secret, "sha1=" + hex.substr(0, 40), body) ==
             signature_status::malformed);
  BOOST_TEST(verify_signature(secret, "sha1=" + hex, body) == signature_status::malformed);
  BOOST_TEST(verify_signature(secret, hex, body) == signature_status::malformed);  // no prefix
  BOOST_TEST(verify_signature(secret, "SHA256=" + hex, body) == signature_status::malformed);
  BOOST_TEST(verify_signature(secret, " " + header, body) == signature_status::malformed);
  BOOST_TEST(verify_signature(secret, "sha256 =" + hex, body) == signature_status::malformed);
  std::string non_hex = header;
  non_hex[20] = 'g';
  BOOST_TEST(verify_signature(secret, non_hex, body) == signature_status::malformed);
  non_hex[20] = ' ';
  BOOST_TEST(verify_signature(secret, non_hex, body) == signature_status::malformed);
  std::string with_nul = header;
  with_nul[30] = '\0';
  BOOST_TEST(verify_signature(secret, with_nul, body) == signature_status::malformed);
}

// Every byte at the first, a middle and the last digit: only 0-9, a-f and A-F read as hex digits
// (then the digest is merely wrong), everything else makes the header malformed.
BOOST_AUTO_TEST_CASE(only_hex_digits_in_either_case_are_read_as_digits) {
  const std::string body = "{}";
  const std::string header = sign_body(secret, body);
  std::string upper = header;
  for (std::size_t i = 7; i < upper.size(); ++i)
    upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
  BOOST_TEST(verify_signature(secret, upper, body) == signature_status::ok);
  for (const std::size_t at : {std::size_t{7}, std::size_t{38}, header.size() - 1}) {
    for (int byte = 0; byte < 256; ++byte) {
      std::string changed = header;
      changed[at] = static_cast<char>(byte);
      const bool digit = std::isxdigit(byte) != 0;
      const signature_status status = verify_signature(secret, changed, body);
      if (digit) {
        BOOST_TEST((status == signature_status::ok || status == signature_status::mismatch),
                   "byte " << byte << " at " << at);
      } else {
        BOOST_TEST((status == signature_status::malformed), "byte " << byte << " at " << at);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(well_formed_but_wrong_digest_is_mismatch) {
  BOOST_TEST(verify_signature(secret, "sha256=" + std::string(64, '0'), "{}") ==
             signature_status::mismatch);
}

BOOST_AUTO_TEST_CASE(empty_secret_never_verifies) {
  const std::string header = sign_body("", "{}");
  BOOST_TEST(header.size() == 7u + 64u);
  BOOST_TEST(verify_signature("", header, "{}") == signature_status::mismatch);
}

// The keyed context is restarted for each check: the same key gives the same answers however
// many checks (passing, failing, signing) ran before, and a failed check leaves nothing behind.
BOOST_AUTO_TEST_CASE(one_key_serves_many_checks) {
  bridge::webhook::meta::signature_key key(secret);
  const std::string body = R"({"object":"whatsapp_business_account","entry":[]})";
  const std::string header = sign_body(secret, body);
  BOOST_TEST(key.sign(body) == header);
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(key.verify(header, body) == signature_status::ok);
    BOOST_TEST(key.verify(header, body + " ") == signature_status::mismatch);
    BOOST_TEST(key.verify(header, "") == signature_status::mismatch);
    BOOST_TEST(key.sign("") == sign_body(secret, ""));
  }
}

BOOST_AUTO_TEST_CASE(a_moved_key_keeps_its_secret) {
  bridge::webhook::meta::signature_key first(secret);
  bridge::webhook::meta::signature_key second("other");
  second = std::move(first);
  BOOST_TEST(second.verify(sign_body(secret, "x"), "x") == signature_status::ok);
  BOOST_TEST(second.verify(sign_body("other", "x"), "x") == signature_status::mismatch);
}

BOOST_AUTO_TEST_CASE(status_names) {
  BOOST_TEST(to_string(signature_status::ok) == "ok");
  BOOST_TEST(to_string(signature_status::missing) == "missing");
  BOOST_TEST(to_string(signature_status::malformed) == "malformed");
  BOOST_TEST(to_string(signature_status::mismatch) == "mismatch");
}

// A body fed to a signature_check in pieces of any size gives the one-shot answer: ok for the
// right header, mismatch for a wrong one, missing and malformed as verify() says them.
BOOST_AUTO_TEST_CASE(a_check_fed_in_pieces_matches_the_one_shot_verify) {
  bridge::webhook::meta::signature_key key(secret);
  const std::string body = read_fixture("text.json");
  const std::string header = sign_body(secret, body);
  for (const std::size_t piece : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{64},
                                  std::size_t{1000}, body.size()}) {
    bridge::webhook::meta::signature_check check = key.begin();
    for (std::size_t at = 0; at < body.size(); at += piece)
      check.update(std::string_view(body).substr(at, piece));
    BOOST_TEST(check.finish(header) == signature_status::ok, "pieces of " << piece);

    bridge::webhook::meta::signature_check wrong = key.begin();
    for (std::size_t at = 0; at < body.size(); at += piece)
      wrong.update(std::string_view(body).substr(at, piece));
    wrong.update(" ");
    BOOST_TEST(wrong.finish(header) == signature_status::mismatch, "pieces of " << piece);
  }
  bridge::webhook::meta::signature_check empty_body = key.begin();
  BOOST_TEST(empty_body.finish(sign_body(secret, "")) == signature_status::ok);
  bridge::webhook::meta::signature_check no_header = key.begin();
  no_header.update(body);
  BOOST_TEST(no_header.finish("") == signature_status::missing);
  bridge::webhook::meta::signature_check bad_header = key.begin();
  bad_header.update(body);
  BOOST_TEST(bad_header.finish("sha256=xyz") == signature_status::malformed);
}

// Checks reuse pooled contexts: after many checks, finished or abandoned half-way, in any order,
// every new check still starts from the key alone; a second finish() never passes.
BOOST_AUTO_TEST_CASE(pooled_checks_start_clean_however_many_ran_before) {
  bridge::webhook::meta::signature_key key(secret);
  const std::string body = R"({"object":"whatsapp_business_account","entry":[]})";
  const std::string header = sign_body(secret, body);
  for (int round = 0; round < 300; ++round) {
    {
      // Abandoned after part of a body: its context goes back to the pool mid-way.
      bridge::webhook::meta::signature_check abandoned = key.begin();
      abandoned.update("leftover bytes that must not leak into the next check");
    }
    // More checks alive at once than the pool keeps.
    std::vector<bridge::webhook::meta::signature_check> open;
    for (int i = 0; i < 70; ++i)
      open.push_back(key.begin());
    for (auto& check : open)
      check.update(body);
    BOOST_TEST_REQUIRE(open.front().finish(header) == signature_status::ok, "round " << round);
    BOOST_TEST_REQUIRE(open.back().finish(header) == signature_status::ok, "round " << round);
    BOOST_TEST_REQUIRE(open.back().finish(header) == signature_status::mismatch, "round " << round);
    open.clear();
    bridge::webhook::meta::signature_check next = key.begin();
    next.update(body);
    BOOST_TEST_REQUIRE(next.finish(header) == signature_status::ok, "round " << round);
    BOOST_TEST_REQUIRE(key.verify(header, body) == signature_status::ok, "round " << round);
  }
}

// A check moved elsewhere (the observer that carries it is moved into the handler) finishes
// where it went; the one it left verifies nothing, and a check moved over another gives the
// other's context back to the pool, so the next check still starts clean.
BOOST_AUTO_TEST_CASE(a_moved_check_finishes_where_it_went_and_the_one_left_passes_nothing) {
  bridge::webhook::meta::signature_key key(secret);
  const std::string body = R"({"object":"whatsapp_business_account","entry":[]})";
  const std::string header = sign_body(secret, body);
  bridge::webhook::meta::signature_check first = key.begin();
  first.update(body.substr(0, 5));
  bridge::webhook::meta::signature_check moved = std::move(first);
  moved.update(body.substr(5));
  first.update(body);  // NOLINT(bugprone-use-after-move): what a moved-from check does is the test
  BOOST_TEST(first.finish(header) == signature_status::mismatch);
  bridge::webhook::meta::signature_check other = key.begin();
  other.update("half of another body");
  other = std::move(moved);
  BOOST_TEST(other.finish(header) == signature_status::ok);
  bridge::webhook::meta::signature_check next = key.begin();
  next.update(body);
  BOOST_TEST(next.finish(header) == signature_status::ok);
}

// A check begun before the key is replaced (a configuration reload while a body arrives) or
// destroyed finishes against the key it began with.
BOOST_AUTO_TEST_CASE(a_check_outlives_its_key) {
  const std::string body = "a body that arrives while the secret is rotated";
  std::optional<bridge::webhook::meta::signature_check> check;
  {
    bridge::webhook::meta::signature_key old_key(secret);
    check.emplace(old_key.begin());
    check->update(body.substr(0, 10));
    old_key = bridge::webhook::meta::signature_key("the new secret");
    check->update(body.substr(10));
    BOOST_TEST(old_key.verify(sign_body("the new secret", body), body) == signature_status::ok);
  }  // the new key is gone too
  BOOST_TEST(check->finish(sign_body(secret, body)) == signature_status::ok);
  check.reset();  // gives its context back to a key nobody else holds
  // An empty secret never verifies, in pieces either.
  bridge::webhook::meta::signature_key empty("");
  bridge::webhook::meta::signature_check never = empty.begin();
  never.update("{}");
  BOOST_TEST(never.finish(sign_body("", "{}")) == signature_status::mismatch);
}

BOOST_AUTO_TEST_SUITE_END()
