#include "webhook/http/deadline_socket.hpp"

namespace bridge::webhook::http {

detail::deadline_state::deadline_state(boost::asio::ip::tcp::socket s,
                                       std::chrono::steady_clock::duration every)
    : socket(std::move(s)),
      deadline(socket.get_executor(), every, [this] { on_deadline_passed(); }) {}

void detail::deadline_state::on_deadline_passed() {
  timed_out = true;
  // With nothing pending the next read or write fails instead (unless a new deadline comes
  // first), as with beast::tcp_stream, whose timer runs only while an operation does.
  if (pending > 0) {
    boost::system::error_code ignored;
    socket.close(ignored);
  }
}

deadline_socket::deadline_socket(boost::asio::ip::tcp::socket socket, clock::duration check_every)
    : state_(std::make_shared<detail::deadline_state>(std::move(socket), check_every)) {}

deadline_socket::~deadline_socket() {
  if (!state_) return;
  boost::system::error_code ignored;
  state_->socket.close(ignored);
  state_->deadline.clear();
}

void deadline_socket::expires_after(clock::duration timeout) {
  expires_at(clock::now() + timeout);
}

void deadline_socket::expires_at(clock::time_point deadline) {
  state_->timed_out = false;
  state_->deadline.set(deadline);
}

}  // namespace bridge::webhook::http
