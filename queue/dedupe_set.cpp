#include "queue/dedupe_set.hpp"

namespace bridge::queue {

dedupe_set::dedupe_set(std::size_t max_entries, std::chrono::seconds retention)
    : max_entries_(max_entries == 0 ? 1 : max_entries), retention_(retention) {}

bool dedupe_set::insert(std::string_view id, clock::time_point now) {
  expire(now);
  if (ids_.find(id) != ids_.end()) return false;
  const auto it = ids_.emplace(std::string(id), now).first;
  order_.push_back(entry{now, it->first});
  while (ids_.size() > max_entries_ && !order_.empty())
    pop_oldest();
  return true;
}

bool dedupe_set::contains(std::string_view id) const {
  return ids_.find(id) != ids_.end();
}

void dedupe_set::erase(std::string_view id) {
  // The order entry stays until it ages out; pop_oldest() knows to skip it.
  if (const auto it = ids_.find(id); it != ids_.end()) ids_.erase(it);
}

std::vector<std::string> dedupe_set::ids() const {
  std::vector<std::string> out;
  out.reserve(ids_.size());
  for (const entry& e : order_) {
    auto it = ids_.find(e.id);
    if (it != ids_.end() && it->second == e.seen) out.push_back(e.id);
  }
  return out;
}

void dedupe_set::pop_oldest() {
  const entry& oldest = order_.front();
  auto it = ids_.find(oldest.id);
  if (it != ids_.end() && it->second == oldest.seen) ids_.erase(it);
  order_.pop_front();
}

void dedupe_set::expire(clock::time_point now) {
  while (!order_.empty() && now - order_.front().seen >= retention_)
    pop_oldest();
  // Erased ids leave stale order entries; rebuild once they outnumber the live ones.
  if (order_.size() > 2 * ids_.size() + 1024) {
    std::deque<entry> live;
    for (auto& e : order_) {
      auto it = ids_.find(e.id);
      if (it != ids_.end() && it->second == e.seen) live.push_back(std::move(e));
    }
    order_ = std::move(live);
  }
}

}  // namespace bridge::queue
