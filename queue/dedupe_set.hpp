#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "queue/string_key_hash.hpp"

namespace bridge::queue {

// Message ids seen recently, so each wamid is answered at most once across Meta's retries.
// Bounded twice: an id is forgotten after `retention` (Meta retries for 7 days) or when more than
// `max_entries` newer ids have arrived, whichever comes first. Not thread-safe.
class dedupe_set {
 public:
  using clock = std::chrono::steady_clock;

  dedupe_set(std::size_t max_entries, std::chrono::seconds retention);

  // Records id as seen at `now`. True when it is new; false when it was seen already.
  bool insert(std::string_view id, clock::time_point now = clock::now());
  // True when id was seen and not yet forgotten.
  bool contains(std::string_view id) const;
  // Forgets id (its message was refused after all, so a retry must be accepted).
  void erase(std::string_view id);
  std::size_t size() const { return ids_.size(); }
  // The ids remembered now, oldest first (what a journal compaction must keep).
  std::vector<std::string> ids() const;

 private:
  void expire(clock::time_point now);
  // Drops the oldest order entry, and its id unless the id was seen again since.
  void pop_oldest();

  struct entry {
    clock::time_point seen;
    std::string id;
  };
  std::size_t max_entries_;
  std::chrono::seconds retention_;
  std::deque<entry> order_;  // oldest first; may hold ids erased or seen again since
  // id -> when it was recorded
  std::unordered_map<std::string, clock::time_point, string_key_hash, std::equal_to<>> ids_;
};

}  // namespace bridge::queue
