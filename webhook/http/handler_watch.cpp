#include "webhook/http/handler_watch.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "webhook/http/lazy_deadline.hpp"

namespace bridge::webhook::http {

namespace asio = boost::asio;
using clock = handler_watch::clock;

struct detail::handler_watch_state {
  handler_watch_state(asio::any_io_executor executor, std::function<void()> late)
      : deadline(executor, lazy_deadline::clock::duration::max(), [this] { on_deadline_passed(); }),
        written(std::move(executor)),
        on_late(std::move(late)) {}

  // The running handler outlived its deadline (a deadline passes only while one runs: end()
  // clears it, and a passed deadline does not pass again until the next begin()).
  void on_deadline_passed() {
    late = true;
    on_late();
  }

  lazy_deadline deadline;      // of the handler running now (this state owns it)
  asio::steady_timer written;  // cancelled once the late answer is out
  std::function<void()> on_late;
  bool late = false;          // the running (or last) handler outlived its deadline
  bool late_written = false;  // its late answer is out
  bool closed = false;        // the watch is gone
};

handler_watch::handler_watch(asio::any_io_executor executor, std::function<void()> on_late)
    : state_(
          std::make_shared<detail::handler_watch_state>(std::move(executor), std::move(on_late))) {}

handler_watch::~handler_watch() {
  state_->closed = true;
  state_->deadline.clear();  // a wake already queued finds no deadline: on_late is not called
  state_->written.cancel();
}

void handler_watch::begin(clock::duration limit) {
  detail::handler_watch_state& s = *state_;
  s.late = false;
  s.late_written = false;
  s.deadline.set(clock::now() + limit);
}

bool handler_watch::end() {
  state_->deadline.clear();
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
  return state_->deadline.arms();
}

}  // namespace bridge::webhook::http
