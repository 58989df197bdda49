#include "webhook/http/lazy_deadline.hpp"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>

namespace bridge::webhook::http {

namespace asio = boost::asio;
using clock = lazy_deadline::clock;

struct detail::lazy_deadline_state {
  lazy_deadline_state(asio::any_io_executor executor, clock::duration every,
                      std::function<void()> passed)
      : timer(std::move(executor)), check_every(every), on_passed(std::move(passed)) {}

  asio::steady_timer timer;
  clock::duration check_every;
  std::function<void()> on_passed;
  clock::time_point deadline = clock::time_point::max();  // max: none
  clock::time_point wakes_at = clock::time_point::max();  // max: the timer is not armed
  bool closed = false;                                    // the lazy_deadline is gone
  std::uint64_t arms = 0;
};

namespace {

using state_ptr = std::shared_ptr<detail::lazy_deadline_state>;

// When the timer should wake for the deadline: at it, or after check_every when that is sooner.
clock::time_point next_wake(const detail::lazy_deadline_state& s, clock::time_point now) {
  if (s.check_every == clock::duration::max() || now > clock::time_point::max() - s.check_every) {
    return s.deadline;
  }
  return std::min(s.deadline, now + s.check_every);
}

void arm(const state_ptr& s, clock::time_point at);

// The timer woke: the deadline has passed, or it moved on (or went) and the timer may sleep again.
void on_wake(const state_ptr& s) {
  s->wakes_at = clock::time_point::max();
  if (s->deadline == clock::time_point::max()) return;  // no deadline: the next set() arms
  const auto now = clock::now();
  if (now < s->deadline) {
    arm(s, next_wake(*s, now));
    return;
  }
  s->deadline = clock::time_point::max();  // passed once; the next set() starts another
  s->on_passed();
}

void arm(const state_ptr& s, clock::time_point at) {
  s->wakes_at = at;
  ++s->arms;
  s->timer.expires_at(at);  // cancels a wait already armed; its handler sees operation_aborted
  s->timer.async_wait([s](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted || s->closed) return;
    on_wake(s);
  });
}

}  // namespace

lazy_deadline::lazy_deadline(asio::any_io_executor executor, clock::duration check_every,
                             std::function<void()> on_passed)
    : state_(std::make_shared<detail::lazy_deadline_state>(
          std::move(executor), std::max(check_every, clock::duration{1}), std::move(on_passed))) {}

lazy_deadline::~lazy_deadline() {
  state_->closed = true;
  state_->timer.cancel();
}

void lazy_deadline::set(clock::time_point deadline) {
  detail::lazy_deadline_state& s = *state_;
  s.deadline = deadline;
  // A timer that wakes no later than this deadline re-checks it then: nothing to do.
  if (deadline < s.wakes_at) arm(state_, next_wake(s, clock::now()));
}

void lazy_deadline::clear() {
  state_->deadline = clock::time_point::max();
}

std::uint64_t lazy_deadline::arms() const {
  return state_->arms;
}

}  // namespace bridge::webhook::http
