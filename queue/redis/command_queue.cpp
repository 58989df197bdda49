#include "queue/redis/command_queue.hpp"

#include <utility>

namespace bridge::queue::redis {

pending_request::pending_request(const boost::asio::any_io_executor& executor, request cmds,
                                 std::chrono::steady_clock::time_point deadline)
    : commands(std::move(cmds)), signal(executor, deadline) {
  replies.reserve(commands.size());
}

void pending_request::complete(boost::system::error_code ec) noexcept {
  if (done) return;
  done = true;
  error = ec;
  signal.cancel();
}

void command_queue::push(std::shared_ptr<pending_request> p) {
  unwritten_.push_back(std::move(p));
}

std::vector<std::shared_ptr<pending_request>> command_queue::take_unwritten() {
  std::vector<std::shared_ptr<pending_request>> batch;
  batch.reserve(unwritten_.size());
  for (auto& p : unwritten_) {
    if (p->abandoned) continue;
    awaiting_.push_back(p);
    batch.push_back(std::move(p));
  }
  unwritten_.clear();
  return batch;
}

bool command_queue::deliver(reply r) {
  if (awaiting_.empty()) return false;
  pending_request& front = *awaiting_.front();
  // An abandoned request still owns its place: its replies are read and dropped.
  if (!front.abandoned) front.replies.push_back(std::move(r));
  if (++front_replies_ < front.commands.size()) return true;
  front_replies_ = 0;
  front.complete();
  awaiting_.pop_front();
  return true;
}

void command_queue::fail_all(boost::system::error_code ec) noexcept {
  for (auto& p : awaiting_)
    p->complete(ec);
  for (auto& p : unwritten_)
    p->complete(ec);
  awaiting_.clear();
  unwritten_.clear();
  front_replies_ = 0;
}

}  // namespace bridge::queue::redis
