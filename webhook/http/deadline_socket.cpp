#include "webhook/http/deadline_socket.hpp"

#include <algorithm>

namespace bridge::webhook::http {

namespace {

using state_ptr = std::shared_ptr<detail::deadline_state>;
using clock = std::chrono::steady_clock;

void arm(const state_ptr& s, clock::time_point at);

// The timer woke: the deadline has passed, or it moved on and the timer waits again.
void on_wake(const state_ptr& s) {
  s->wakes_at = clock::time_point::max();
  const auto now = clock::now();
  if (now < s->deadline) {
    arm(s, std::min(s->deadline, now + s->check_every));
    return;
  }
  s->timed_out = true;
  // With nothing pending the next read or write fails instead (unless a new deadline comes
  // first), as with beast::tcp_stream, whose timer runs only while an operation does.
  if (s->pending > 0) {
    boost::system::error_code ignored;
    s->socket.close(ignored);
  }
}

void arm(const state_ptr& s, clock::time_point at) {
  s->wakes_at = at;
  s->timer.expires_at(at);  // cancels a wait already armed; its handler sees operation_aborted
  s->timer.async_wait([s](boost::system::error_code ec) {
    if (ec == boost::asio::error::operation_aborted || !s->socket.is_open()) return;
    on_wake(s);
  });
}

}  // namespace

deadline_socket::deadline_socket(boost::asio::ip::tcp::socket socket, clock::duration check_every)
    : state_(std::make_shared<detail::deadline_state>(std::move(socket),
                                                      std::max(check_every, clock::duration{1}))) {}

deadline_socket::~deadline_socket() {
  if (!state_) return;
  boost::system::error_code ignored;
  state_->socket.close(ignored);
  state_->timer.cancel();
}

void deadline_socket::expires_after(clock::duration timeout) {
  expires_at(clock::now() + timeout);
}

void deadline_socket::expires_at(clock::time_point deadline) {
  detail::deadline_state& s = *state_;
  s.deadline = deadline;
  s.timed_out = false;
  // A timer that wakes no later than the new deadline re-checks it then: nothing to do.
  if (s.deadline < s.wakes_at) arm(state_, std::min(s.deadline, clock::now() + s.check_every));
}

}  // namespace bridge::webhook::http
