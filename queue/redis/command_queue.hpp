#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <vector>

#include "queue/redis/reply.hpp"
#include "queue/redis/request.hpp"

namespace bridge::queue::redis {

// One caller's request, from submit until its replies (or its error) are in. Shared by the caller,
// who waits on `signal`, and the queue, which fills it. Internal to the client.
struct pending_request {
  // signal expires at the caller's deadline.
  pending_request(const boost::asio::any_io_executor& executor, request commands,
                  std::chrono::steady_clock::time_point deadline);

  // Marks the request done with ec (or with its replies when ec is empty) and wakes the caller.
  void complete(boost::system::error_code ec = {}) noexcept;

  request commands;            // the bytes; kept until they are written
  std::vector<reply> replies;  // as they arrive
  boost::system::error_code error;
  bool done = false;
  bool abandoned = false;  // the caller gave up (deadline, cancellation): replies are dropped
  boost::asio::steady_timer signal;  // the caller waits here: cancelled when done, else expires
};

// The order requests are written in, and so the order their replies come back in (RESP2 answers
// in order on a connection). Pure bookkeeping, no I/O. Internal to the client.
class command_queue {
 public:
  // Queues p to be written.
  void push(std::shared_ptr<pending_request> p);
  // Every queued request whose caller still waits, moved to "awaiting replies" in order: the
  // caller writes their bytes in this order. Requests abandoned before being written are dropped
  // (never sent).
  std::vector<std::shared_ptr<pending_request>> take_unwritten();
  // Hands r to the oldest request awaiting a reply; false when none awaits one (the server sent a
  // reply nobody asked for: the connection is out of step).
  bool deliver(reply r);
  // Completes every request, written or not, with ec (the connection is gone).
  void fail_all(boost::system::error_code ec) noexcept;

  // True when requests wait to be written.
  bool has_unwritten() const noexcept { return !unwritten_.empty(); }
  // How many written requests wait for replies.
  std::size_t awaiting() const noexcept { return awaiting_.size(); }

 private:
  std::deque<std::shared_ptr<pending_request>> unwritten_;
  std::deque<std::shared_ptr<pending_request>> awaiting_;
  std::size_t front_replies_ = 0;  // replies the oldest awaiting request has got so far
};

}  // namespace bridge::queue::redis
