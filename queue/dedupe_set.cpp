#include "queue/dedupe_set.hpp"

namespace bridge::queue {
namespace {

constexpr std::size_t initial_slots = 1024;

// The slot's tag: 32 bits of the key the home position did not use, never 0 (0 is empty).
std::uint64_t tag_of(const dedupe_key& key) noexcept {
  return (key.high >> 32) | 1;
}

}  // namespace

dedupe_set::dedupe_set(std::size_t max_entries, std::chrono::seconds retention,
                       const dedupe_hasher::secret_bytes& secret)
    : hasher_(secret),
      max_entries_(max_entries == 0 ? 1 : max_entries),
      retention_(retention),
      slots_(initial_slots, 0),
      mask_(initial_slots - 1) {}

std::uint64_t dedupe_set::sequence_of(std::uint64_t slot) const noexcept {
  const auto low = static_cast<std::uint32_t>(slot);
  return first_sequence_ +
         static_cast<std::uint32_t>(low - static_cast<std::uint32_t>(first_sequence_));
}

std::size_t dedupe_set::find_slot(const dedupe_key& key) const noexcept {
  const std::uint64_t tag = tag_of(key);
  for (std::size_t i = home_of(key);; i = (i + 1) & mask_) {
    const std::uint64_t slot = slots_[i];
    if (slot == 0) return no_slot;
    if ((slot >> 32) == tag && entry_at(sequence_of(slot)).key == key) return i;
  }
}

void dedupe_set::place(const dedupe_key& key, std::uint64_t sequence) noexcept {
  std::size_t i = home_of(key);
  while (slots_[i] != 0)
    i = (i + 1) & mask_;
  slots_[i] = (tag_of(key) << 32) | static_cast<std::uint32_t>(sequence);
}

// Backward-shift deletion: later slots of the same probe run move up, so no tombstones.
void dedupe_set::remove_slot(std::size_t hole) noexcept {
  for (std::size_t i = (hole + 1) & mask_; slots_[i] != 0; i = (i + 1) & mask_) {
    const std::size_t home = home_of(entry_at(sequence_of(slots_[i])).key);
    // Stays when its home lies cyclically in (hole, i]: moving it would put it before its home.
    const bool stays = hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
    if (stays) continue;
    slots_[hole] = slots_[i];
    hole = i;
  }
  slots_[hole] = 0;
  --size_;
}

void dedupe_set::grow() {
  std::vector<std::uint64_t> old(slots_.size() * 2, 0);
  old.swap(slots_);
  mask_ = slots_.size() - 1;
  for (const std::uint64_t slot : old) {
    if (slot == 0) continue;
    const std::uint64_t sequence = sequence_of(slot);
    place(entry_at(sequence).key, sequence);
  }
}

bool dedupe_set::insert(const dedupe_key& key, clock::time_point now) {
  expire(now);
  if (contains(key)) return false;
  // At most 3/4 full, so probe runs stay short.
  if ((size_ + 1) * 4 > slots_.size() * 3) grow();
  const std::uint64_t sequence = first_sequence_ + order_.size();
  order_.push_back(entry{key, now.time_since_epoch().count()});
  place(key, sequence);
  ++size_;
  while (size_ > max_entries_ && !order_.empty())
    pop_oldest();
  return true;
}

void dedupe_set::erase(const dedupe_key& key) {
  // The entry stays until it ages out; pop_oldest() knows to skip it.
  if (const std::size_t slot = find_slot(key); slot != no_slot) remove_slot(slot);
}

std::vector<dedupe_key> dedupe_set::keys() const {
  std::vector<dedupe_key> out;
  out.reserve(size_);
  for (std::size_t i = 0; i < order_.size(); ++i) {
    const std::size_t slot = find_slot(order_[i].key);
    if (slot != no_slot && sequence_of(slots_[slot]) == first_sequence_ + i) {
      out.push_back(order_[i].key);
    }
  }
  return out;
}

std::size_t dedupe_set::memory_bytes() const noexcept {
  // libstdc++'s deque allocates 512-byte blocks and a map of pointers to them.
  constexpr std::size_t per_block = 512 / sizeof(entry);
  const std::size_t blocks = order_.size() / per_block + 1;
  return slots_.capacity() * sizeof(std::uint64_t) + blocks * (512 + sizeof(void*));
}

void dedupe_set::pop_oldest() {
  const std::size_t slot = find_slot(order_.front().key);
  if (slot != no_slot && sequence_of(slots_[slot]) == first_sequence_) remove_slot(slot);
  order_.pop_front();
  ++first_sequence_;
}

void dedupe_set::expire(clock::time_point now) {
  const clock::rep now_count = now.time_since_epoch().count();
  const clock::rep retention = std::chrono::duration_cast<clock::duration>(retention_).count();
  while (!order_.empty() && now_count - order_.front().seen >= retention)
    pop_oldest();
  // Erased ids leave stale entries; rebuild once they outnumber the live ones.
  if (order_.size() > 2 * size_ + 1024) compact();
}

void dedupe_set::compact() {
  std::deque<entry> live;
  for (std::size_t i = 0; i < order_.size(); ++i) {
    const std::size_t slot = find_slot(order_[i].key);
    if (slot != no_slot && sequence_of(slots_[slot]) == first_sequence_ + i) {
      live.push_back(order_[i]);
    }
  }
  order_ = std::move(live);
  first_sequence_ = 0;
  std::fill(slots_.begin(), slots_.end(), 0);
  for (std::size_t i = 0; i < order_.size(); ++i)
    place(order_[i].key, i);
}

}  // namespace bridge::queue
