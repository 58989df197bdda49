#include "tests/support/manual_clock.hpp"

#include <algorithm>

#include "tests/support/io_steps.hpp"

namespace bridge::test {

manual_clock::manual_clock(boost::asio::io_context& io, time_point start,
                           std::chrono::system_clock::time_point wall_start)
    : io_(io), start_(start), now_(start), wall_start_(wall_start) {}

std::chrono::system_clock::time_point manual_clock::wall_now() const {
  return wall_start_ +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(now_ - start_);
}

boost::asio::awaitable<void> manual_clock::sleep_until(time_point deadline) {
  if (deadline <= now_) co_return;
  co_await sleepers_.park(deadline);
}

void manual_clock::advance(duration step) {
  const time_point target = now_ + std::max(step, duration::zero());
  settle(io_);
  for (auto next = next_deadline(); next && *next <= target; next = next_deadline()) {
    now_ = std::max(now_, *next);
    wake_due();
  }
  now_ = target;
  settle(io_);
}

bool manual_clock::advance_to_next() {
  settle(io_);
  const auto next = next_deadline();
  if (!next) return false;
  now_ = std::max(now_, *next);
  wake_due();
  return true;
}

std::size_t manual_clock::sleepers() const {
  std::size_t count = 0;
  sleepers_.for_each_waiting([&](time_point) { ++count; });
  return count;
}

std::optional<manual_clock::time_point> manual_clock::next_deadline() const {
  std::optional<time_point> next;
  sleepers_.for_each_waiting([&](time_point deadline) {
    if (!next || deadline < *next) next = deadline;
  });
  return next;
}

void manual_clock::wake_due() {
  // Earliest first, and in the order they went to sleep for equal deadlines.
  for (auto next = next_deadline(); next && *next <= now_; next = next_deadline()) {
    const time_point due = *next;
    sleepers_.wake_if([due](time_point deadline) { return deadline == due; });
  }
  settle(io_);
}

}  // namespace bridge::test
