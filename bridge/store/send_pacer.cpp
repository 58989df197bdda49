#include "bridge/store/send_pacer.hpp"

#include <algorithm>

namespace bridge::store {

std::uint32_t send_pacer::burst_for(std::uint32_t rate) {
  return std::max<std::uint32_t>(1, rate / 4);
}

send_pacer::clock::duration send_pacer::reserve(const std::string& number, std::uint32_t rate,
                                                clock::time_point now) {
  const auto interval = std::chrono::duration_cast<clock::duration>(std::chrono::seconds(1)) /
                        std::max<std::uint32_t>(1, rate);
  const auto tolerance = interval * (burst_for(rate) - 1);
  auto [it, inserted] = next_slot_.try_emplace(number, now);
  clock::time_point& slot = it->second;
  // An idle number earns no more than its burst: its schedule restarts at now.
  const clock::time_point start = std::max(slot, now);
  const clock::time_point send_at = std::max(now, start - tolerance);
  slot = start + interval;
  return send_at - now;
}

}  // namespace bridge::store
