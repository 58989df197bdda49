#include "webhook/io/task_group.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/system/system_error.hpp>

namespace bridge::webhook::io {

namespace asio = boost::asio;

task_group::task_group(asio::any_io_executor executor, std::string name)
    : state_(std::make_shared<state>(state{std::move(executor), std::move(name), {}})) {}

task_group::~task_group() {
  cancel();
}

void task_group::spawn(asio::awaitable<void> task) {
  auto slot = state_->signals.emplace(state_->signals.end());
  asio::co_spawn(
      state_->executor, std::move(task),
      asio::bind_cancellation_slot(slot->slot(), [st = state_, slot](std::exception_ptr e) {
        st->signals.erase(slot);
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const boost::system::system_error& error) {
          if (error.code() == asio::error::operation_aborted) return;  // cancelled: routine
          spdlog::error("{} stopped by an error: {}", st->name, error.what());
        } catch (const std::exception& error) {
          spdlog::error("{} stopped by an error: {}", st->name, error.what());
        }
      }));
}

void task_group::cancel() {
  // co_spawn hands an emitted cancellation on through asio::dispatch, which, outside the
  // executor's thread (a test, a destructor after run() returned), posts it with a pointer into
  // the task's signal. A task that ends before that runs erases its signal, and the post would
  // use freed memory; emitting from the executor makes co_spawn's dispatch run inline instead.
  asio::dispatch(state_->executor, [st = state_] {
    for (auto& signal : st->signals)
      signal.emit(asio::cancellation_type::terminal);
  });
}

std::size_t task_group::running() const {
  return state_->signals.size();
}

}  // namespace bridge::webhook::io
