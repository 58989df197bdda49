#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <exception>

// Driving an io_context from a test without real waiting: run what is ready, or run until a
// condition holds within a bounded time (for work that completes from another thread).
namespace bridge::test {

// A co_spawn completion that lets a coroutine's exception out of io.poll() or io.run(), where
// the test sees it, instead of losing it.
inline constexpr auto rethrow_errors = [](std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
};

// Runs every handler that is ready now, and those they make ready, without blocking; returns how
// many ran. Restarts the context first, so it also works after the context ran out of work.
inline std::size_t settle(boost::asio::io_context& io) {
  io.restart();
  return io.poll();
}

// Runs handlers until `done()` holds or `limit` passes (for completions that come from another
// thread, such as the spool's writer); returns done().
template <class Done>
bool run_until(boost::asio::io_context& io, Done done,
               std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_one_for(std::chrono::milliseconds(10));
  }
  return done();
}

}  // namespace bridge::test
