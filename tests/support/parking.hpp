#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <cstddef>
#include <list>

namespace bridge::test {

// Coroutines parked until the test wakes them, each under a tag the test picks them by. A parked
// coroutine waits on a timer set to never expire; waking it marks it woken and cancels the timer,
// so a wait that ends unmarked was a real cancellation (the awaiting coroutine's cancellation
// slot) and throws operation_aborted as any Asio wait would. Not thread-safe: one executor.
template <class Tag>
class parking {
 public:
  struct spot {
    Tag tag;
    boost::asio::steady_timer* timer = nullptr;
    bool woken = false;
  };

  // Parks the calling coroutine under `tag` until wake_if() picks it. Throws
  // boost::system::system_error(operation_aborted) when the awaiting coroutine is cancelled.
  boost::asio::awaitable<void> park(Tag tag) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor,
                                    boost::asio::steady_timer::time_point::max());
    const auto me = spots_.insert(spots_.end(), spot{std::move(tag), &timer, false});
    auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    const bool woken = me->woken;
    spots_.erase(me);
    if (!woken) {
      throw boost::system::system_error(
          ec ? ec : make_error_code(boost::asio::error::operation_aborted));
    }
  }

  // Wakes the parked coroutines whose tag satisfies `pick`, in the order they parked (they resume
  // when their executor runs next); returns how many.
  template <class Pick>
  std::size_t wake_if(Pick pick) {
    std::size_t woken = 0;
    for (spot& s : spots_) {
      if (s.woken || !pick(s.tag)) continue;
      s.woken = true;
      s.timer->cancel();
      ++woken;
    }
    return woken;
  }

  // Every parked coroutine not yet woken, in the order they parked.
  template <class Visit>
  void for_each_waiting(Visit visit) const {
    for (const spot& s : spots_) {
      if (!s.woken) visit(s.tag);
    }
  }

 private:
  std::list<spot> spots_;
};

}  // namespace bridge::test
