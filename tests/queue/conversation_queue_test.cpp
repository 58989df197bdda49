// The bounded conversation queue: order within a conversation, one holder per conversation,
// capacity counting held items, joining of waiting items, close.
#include "queue/conversation_queue.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <set>
#include <string>

namespace asio = boost::asio;
using bridge::queue::conversation_queue;
using queue_type = conversation_queue<int>;

namespace {

// Runs one take() to completion on io and returns what it produced.
std::optional<queue_type::batch> take_now(asio::io_context& io, queue_type& q) {
  std::optional<queue_type::batch> got;
  bool done = false;
  asio::co_spawn(io, q.take(), [&](std::exception_ptr, std::optional<queue_type::batch> b) {
    got = std::move(b);
    done = true;
  });
  io.run_for(std::chrono::seconds(5));
  io.restart();
  BOOST_REQUIRE(done);
  return got;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(conversation_queue_suite)

BOOST_AUTO_TEST_CASE(items_of_one_conversation_come_out_together_and_in_order) {
  asio::io_context io;
  queue_type q(io.get_executor(), 10);
  BOOST_TEST(q.try_push("a", 1));
  BOOST_TEST(q.try_push("a", 2));
  BOOST_TEST(q.try_push("a", 3));
  auto batch = take_now(io, q);
  BOOST_REQUIRE(batch);
  BOOST_TEST(batch->conversation == "a");
  BOOST_TEST(batch->items == (std::vector<int>{1, 2, 3}));
}

BOOST_AUTO_TEST_CASE(a_held_conversation_is_not_given_to_a_second_worker) {
  asio::io_context io;
  queue_type q(io.get_executor(), 10);
  q.try_push("a", 1);
  q.try_push("b", 10);
  auto first = take_now(io, q);
  BOOST_REQUIRE(first);
  BOOST_TEST(first->conversation == "a");
  q.try_push("a", 2);  // arrives while "a" is being answered
  auto second = take_now(io, q);
  BOOST_REQUIRE(second);
  BOOST_TEST(second->conversation == "b");  // not "a": it is held

  // Nothing else is ready until "a" is finished; then its waiting item comes out.
  bool taken = false;
  std::optional<queue_type::batch> third;
  asio::co_spawn(io, q.take(), [&](std::exception_ptr, std::optional<queue_type::batch> b) {
    third = std::move(b);
    taken = true;
  });
  io.poll();
  BOOST_TEST(!taken);
  q.finish(*first);
  io.poll();
  BOOST_REQUIRE(taken);
  BOOST_REQUIRE(third);
  BOOST_TEST(third->conversation == "a");
  BOOST_TEST(third->items == std::vector<int>{2});
}

BOOST_AUTO_TEST_CASE(capacity_counts_held_items_until_finished) {
  asio::io_context io;
  queue_type q(io.get_executor(), 2);
  BOOST_TEST(q.try_push("a", 1));
  BOOST_TEST(q.try_push("b", 2));
  BOOST_TEST(!q.try_push("c", 3));
  BOOST_TEST(!q.has_room_for(1));
  auto batch = take_now(io, q);
  BOOST_REQUIRE(batch);
  BOOST_TEST(q.size() == 2u);       // held, not finished
  BOOST_TEST(!q.try_push("c", 3));  // still full
  q.finish(*batch);
  BOOST_TEST(q.size() == 1u);
  BOOST_TEST(q.try_push("c", 3));
  BOOST_TEST(q.conversations() == 2u);  // "a" left once finished and empty
}

BOOST_AUTO_TEST_CASE(close_wakes_workers_and_returns_what_was_waiting) {
  asio::io_context io;
  queue_type q(io.get_executor(), 10);
  q.try_push("a", 1);
  auto held = take_now(io, q);
  BOOST_REQUIRE(held);
  q.try_push("a", 2);
  q.try_push("b", 3);
  bool woke = false;
  std::optional<queue_type::batch> none;
  // Drain the ready "b" first so the next take() really waits.
  auto b = take_now(io, q);
  BOOST_REQUIRE(b);
  asio::co_spawn(io, q.take(), [&](std::exception_ptr, std::optional<queue_type::batch> got) {
    none = std::move(got);
    woke = true;
  });
  io.poll();
  BOOST_TEST(!woke);
  auto left = q.close();
  io.poll();
  BOOST_TEST(woke);
  BOOST_TEST(!none.has_value());
  BOOST_REQUIRE_EQUAL(left.size(), 1u);
  BOOST_TEST(left.front().conversation == "a");
  BOOST_TEST(left.front().items == std::vector<int>{2});
  BOOST_TEST(!q.try_push("c", 4));
}

BOOST_AUTO_TEST_CASE(many_conversations_each_keep_their_order) {
  asio::io_context io;
  queue_type q(io.get_executor(), 10000);
  for (int round = 0; round < 50; ++round) {
    for (int c = 0; c < 40; ++c)
      BOOST_REQUIRE(q.try_push("c" + std::to_string(c), round));
  }
  std::map<std::string, std::vector<int>> seen;
  // Four workers that each take, record and finish until the queue is empty.
  int finished_workers = 0;
  for (int w = 0; w < 4; ++w) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          while (q.size() > 0) {
            auto batch = co_await q.take();
            if (!batch) break;
            for (int item : batch->items)
              seen[batch->conversation].push_back(item);
            q.finish(*batch);
          }
          ++finished_workers;
          if (q.size() == 0) q.close();
        },
        asio::detached);
  }
  io.run_for(std::chrono::seconds(5));
  BOOST_TEST(finished_workers == 4);
  BOOST_REQUIRE_EQUAL(seen.size(), 40u);
  for (const auto& [conversation, items] : seen) {
    BOOST_TEST(items.size() == 50u, conversation);
    BOOST_TEST(std::is_sorted(items.begin(), items.end()), conversation);
  }
}

// Mailboxes are found by a digest of the name: names that differ in one digit of a long shared
// prefix (as Meta's numbers do) each keep their own mailbox, and a batch carries its own name.
BOOST_AUTO_TEST_CASE(names_alike_keep_their_own_mailboxes_and_come_back_by_name) {
  asio::io_context io;
  constexpr int count = 5000;
  queue_type q(io.get_executor(), 2 * count);
  const auto name = [](int i) { return "106540352242922:91987654" + std::to_string(10000 + i); };
  for (int i = 0; i < count; ++i)
    BOOST_REQUIRE(q.try_push(name(i), i));
  for (int i = 0; i < count; ++i)
    BOOST_REQUIRE(q.try_push(name(i), count + i));
  BOOST_TEST(q.conversations() == static_cast<std::size_t>(count));
  std::set<std::string> taken;
  for (int n = 0; n < count; ++n) {
    auto batch = take_now(io, q);
    BOOST_REQUIRE(batch);
    BOOST_REQUIRE(batch->items.size() == 2u);
    const int i = batch->items[0];
    BOOST_TEST(batch->conversation == name(i));
    BOOST_TEST(batch->items[1] == count + i);
    taken.insert(batch->conversation);
    // An item arriving while the conversation is held joins it by name.
    BOOST_REQUIRE(q.try_push(name(i), 2 * count + i) || q.size() == q.capacity());
    q.take_more(*batch);
    q.finish(*batch);
  }
  BOOST_TEST(taken.size() == static_cast<std::size_t>(count));
  BOOST_TEST(q.size() == 0u);
  BOOST_TEST(q.conversations() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
