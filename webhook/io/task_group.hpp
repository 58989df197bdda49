#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <cstddef>
#include <list>
#include <memory>
#include <string>

namespace bridge::webhook::io {

// Coroutines spawned on one executor that belong to an owner who can cancel them together; none
// is ever detached. Each has one top-level catch that logs what ended it (a cancellation is not
// an error). Not thread-safe: one executor.
class task_group {
 public:
  // Tasks run on `executor`; `name` says whose they are in log lines ("worker", "connection").
  task_group(boost::asio::any_io_executor executor, std::string name);
  // Cancels every task still running (they finish on their own executor afterwards).
  ~task_group();
  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;

  // Starts `task`; it can be cancelled through cancel() until it ends.
  void spawn(boost::asio::awaitable<void> task);
  // Asks every running task to stop: their pending operation ends with operation_aborted. Called
  // on the executor's thread it takes effect at once; from elsewhere, when the executor next runs.
  void cancel();
  // Tasks spawned and not yet ended.
  std::size_t running() const;

 private:
  struct state {
    boost::asio::any_io_executor executor;
    std::string name;
    std::list<boost::asio::cancellation_signal> signals;  // one per running task
  };
  std::shared_ptr<state> state_;
};

}  // namespace bridge::webhook::io
