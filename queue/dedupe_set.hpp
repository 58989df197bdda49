#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string_view>
#include <vector>

#include "queue/dedupe_key.hpp"

namespace bridge::queue {

// Message ids seen recently, so each wamid is answered at most once across Meta's retries.
// Bounded twice: an id is forgotten after `retention` (Meta retries for 7 days) or when more than
// `max_entries` newer ids have arrived, whichever comes first. Not thread-safe.
//
// Ids are kept as 128-bit keyed digests (dedupe_key; the collision analysis is in the README):
// ~40 bytes an id at the 1,000,000-id bound instead of ~250 for strings in a node-based map.
// Entries sit oldest first in a deque (key and time, 24 bytes), found through an open-addressing
// table of 8-byte slots (a 32-bit tag of the key and the entry's sequence number), so a lookup of
// a new id, the common case, touches one cache line of the table and no entry.
class dedupe_set {
 public:
  using clock = std::chrono::steady_clock;

  // Keys are made with `secret`; a set that outlives the process (the journal) must be given the
  // same secret again, or the keys it wrote mean nothing.
  dedupe_set(std::size_t max_entries, std::chrono::seconds retention,
             const dedupe_hasher::secret_bytes& secret = dedupe_hasher::random_secret());

  // The key this set keeps for `id`.
  dedupe_key key_of(std::string_view id) const noexcept { return hasher_(id); }
  // Records id as seen at `now`. True when it is new; false when it was seen already.
  bool insert(std::string_view id, clock::time_point now = clock::now()) {
    return insert(key_of(id), now);
  }
  bool insert(const dedupe_key& key, clock::time_point now = clock::now());
  // True when id was seen and not yet forgotten.
  bool contains(std::string_view id) const noexcept { return contains(key_of(id)); }
  bool contains(const dedupe_key& key) const noexcept { return find_slot(key) != no_slot; }
  // Forgets id (its message was refused after all, so a retry must be accepted).
  void erase(std::string_view id) { erase(key_of(id)); }
  void erase(const dedupe_key& key);
  std::size_t size() const noexcept { return size_; }
  // The keys remembered now, oldest first (what a journal compaction must keep).
  std::vector<dedupe_key> keys() const;
  const dedupe_hasher::secret_bytes& secret() const noexcept { return hasher_.secret(); }
  // Bytes this set holds on the heap (table and entries, by capacity). For the footprint figure.
  std::size_t memory_bytes() const noexcept;

 private:
  static constexpr std::size_t no_slot = ~std::size_t{0};
  struct entry {
    dedupe_key key;
    clock::rep seen;  // time_since_epoch().count()
  };

  std::size_t find_slot(const dedupe_key& key) const noexcept;
  // The sequence number a slot refers to.
  std::uint64_t sequence_of(std::uint64_t slot) const noexcept;
  const entry& entry_at(std::uint64_t sequence) const noexcept {
    return order_[sequence - first_sequence_];
  }
  std::size_t home_of(const dedupe_key& key) const noexcept { return key.low & mask_; }
  void place(const dedupe_key& key, std::uint64_t sequence) noexcept;
  void remove_slot(std::size_t slot) noexcept;
  void grow();
  void expire(clock::time_point now);
  // Drops the oldest entry, and its id unless the id was erased (and perhaps seen again) since.
  void pop_oldest();
  // Rewrites the entries without the ones erased, and the table with them.
  void compact();

  dedupe_hasher hasher_;
  std::size_t max_entries_;
  std::chrono::seconds retention_;
  std::deque<entry> order_;           // oldest first; may hold entries erased since
  std::uint64_t first_sequence_ = 0;  // sequence number of order_.front()
  // 0: empty; else tag (high 32 bits, never 0) | sequence number's low 32 bits. The sequences of
  // order_ span fewer than 2^32 numbers, so the low bits name one entry.
  std::vector<std::uint64_t> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;  // live ids (slots in use)
};

}  // namespace bridge::queue
