#include "webhook/http/handler_watch.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace bridge::webhook::http {

namespace asio = boost::asio;
using clock = handler_watch::clock;

struct detail::handler_watch_state {
  handler_watch_state(asio::any_io_executor executor, std::function<void()> late)
      : timer(executor), written(std::move(executor)), on_late(std::move(late)) {}

  asio::steady_timer timer;    // wakes at a deadline (at wakes_at)
  asio::steady_timer written;  // cancelled once the late answer is out
  std::function<void()> on_late;
  clock::time_point deadline = clock::time_point::max();  // of the handler running now
  clock::time_point wakes_at = clock::time_point::max();  // max: the timer is not armed
  bool running = false;                                   // a handler runs
  bool late = false;          // the running (or last) handler outlived its deadline
  bool late_written = false;  // its late answer is out
  bool closed = false;        // the watch is gone
  std::uint64_t arms = 0;
};

namespace {

using state_ptr = std::shared_ptr<detail::handler_watch_state>;

void arm(const state_ptr& s, clock::time_point at);

// The timer woke: the running handler's deadline has passed, or the handler it was armed for
// ended and another (with a later deadline) may be running, or none is.
void on_wake(const state_ptr& s) {
  s->wakes_at = clock::time_point::max();
  if (!s->running || s->late) return;  // the next begin() arms the timer again
  if (clock::now() < s->deadline) {
    arm(s, s->deadline);
    return;
  }
  s->late = true;
  s->on_late();
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

handler_watch::handler_watch(asio::any_io_executor executor, std::function<void()> on_late)
    : state_(
          std::make_shared<detail::handler_watch_state>(std::move(executor), std::move(on_late))) {}

handler_watch::~handler_watch() {
  state_->closed = true;
  state_->timer.cancel();
  state_->written.cancel();
}

void handler_watch::begin(clock::duration limit) {
  detail::handler_watch_state& s = *state_;
  s.running = true;
  s.late = false;
  s.late_written = false;
  s.deadline = clock::now() + limit;
  // A timer that wakes no later than this deadline re-checks it then: nothing to do.
  if (s.deadline < s.wakes_at) arm(state_, s.deadline);
}

bool handler_watch::end() {
  state_->running = false;
  return state_->late;
}

void handler_watch::late_answer_done() {
  state_->late_written = true;
  state_->written.cancel();
}

asio::awaitable<void> handler_watch::late_answer_written() {
  const auto s = state_;
  while (s->late && !s->late_written && !s->closed) {
    s->written.expires_at(asio::steady_timer::time_point::max());
    co_await s->written.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

std::uint64_t handler_watch::timer_arms() const {
  return state_->arms;
}

}  // namespace bridge::webhook::http
