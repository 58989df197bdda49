#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>

namespace bridge::store {

// Which conversation each reply Meta accepted belongs to, so a later `failed` status (for
// example 131047, which often arrives only after a 200 on the send) names the customer and the
// questions that went unanswered. Bounded: the oldest entries go first. Not thread-safe.
class sent_index {
 public:
  struct entry {
    std::string customer;     // as logged (redacted when configured)
    std::string inbound_ids;  // the wamids this reply answered
  };

  explicit sent_index(std::size_t max_entries = 100'000);
  // Remembers that outbound message `outbound_id` answered `what`.
  void remember(const std::string& outbound_id, entry what);
  // What outbound_id answered, or nullptr when it is not (or no longer) known.
  const entry* find(const std::string& outbound_id) const;
  std::size_t size() const { return entries_.size(); }

 private:
  std::size_t max_entries_;
  std::deque<std::string> order_;
  std::unordered_map<std::string, entry> entries_;
};

}  // namespace bridge::store
