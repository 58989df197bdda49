#include "bridge/store/sent_index.hpp"

namespace bridge::store {

sent_index::sent_index(std::size_t max_entries)
    : max_entries_(max_entries == 0 ? 1 : max_entries) {}

void sent_index::remember(const std::string& outbound_id, entry what) {
  if (outbound_id.empty()) return;
  auto [it, inserted] = entries_.insert_or_assign(outbound_id, std::move(what));
  if (!inserted) return;
  order_.push_back(outbound_id);
  while (entries_.size() > max_entries_) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
}

const sent_index::entry* sent_index::find(const std::string& outbound_id) const {
  auto it = entries_.find(outbound_id);
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace bridge::store
