#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bridge::queue {

// What the dedupe set keeps of a message id: a 128-bit keyed digest (SipHash-2-4-128), 16 bytes
// in place of the id's ~60 characters and the string and node around them. Two distinct ids share
// a key with probability 2^-128; among the dedupe window's 1,000,000 ids the chance of any such
// pair is below 1.5 * 10^-27 (README, "Dedupe memory"), far below the chance of a lost disk.
struct dedupe_key {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  friend bool operator==(const dedupe_key&, const dedupe_key&) = default;
};

// For hash maps keyed by a dedupe_key: its halves are already uniformly spread (avalanching), so
// the map need not mix them again.
struct dedupe_key_hash {
  using is_avalanching = void;
  std::size_t operator()(const dedupe_key& key) const noexcept {
    return static_cast<std::size_t>(key.low);
  }
};

// The key's 16 bytes, little-endian low then high (the journal's `seen_key` record).
std::string to_bytes(const dedupe_key& key);
// The key of 16 bytes written by to_bytes; false for any other length.
bool from_bytes(std::string_view bytes, dedupe_key& out);

// SipHash-2-4 with 128-bit output under a 128-bit secret: a pseudorandom function, so without the
// secret nobody can choose ids that collide, and ids that merely look alike (Meta's wamids share
// long prefixes) collide no more often than random keys would.
class dedupe_hasher {
 public:
  using secret_bytes = std::array<std::uint8_t, 16>;

  explicit dedupe_hasher(const secret_bytes& secret) noexcept;
  // 16 bytes from the system's random source (std::random_device). Throws what it throws.
  static secret_bytes random_secret();

  // The key of `id`. Never throws.
  dedupe_key operator()(std::string_view id) const noexcept;
  const secret_bytes& secret() const noexcept { return secret_; }

 private:
  secret_bytes secret_;
  std::uint64_t k0_;
  std::uint64_t k1_;
};

}  // namespace bridge::queue
