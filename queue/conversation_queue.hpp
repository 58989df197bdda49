#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "queue/dedupe_key.hpp"

namespace bridge::queue {

// Everything waiting in one conversation when a worker took it, oldest first.
template <class Item>
struct conversation_batch {
  std::string conversation;
  std::vector<Item> items;
};

// The bounded in-process queue of DESIGN.md §1. Items are grouped into per-conversation mailboxes;
// a conversation is held by at most one worker at a time, so it is answered strictly in order
// while different conversations are taken by different workers in parallel.
//
// `size()` counts every accepted item not yet finished, including those a worker holds; producers
// try_push and are refused once it reaches the capacity. Conversations ready to be taken travel
// through a channel, so workers simply co_await take().
//
// Mailboxes are found by a 128-bit keyed digest of the conversation's name (the dedupe set's
// SipHash, under a secret of this queue's own), held in the map's slot: a lookup compares 16 bytes
// in place instead of following a pointer to the name (a cache miss per message with many
// conversations, 2 % of ingress CPU), and the ready channel carries the digest, not a copy of the
// name. Two names share a digest with probability 2^-128 (README, "Dedupe memory").
//
// Not thread-safe: every call must come from the one executor the queue was made on.
template <class Item>
class conversation_queue {
 public:
  using batch = conversation_batch<Item>;

  // A queue of at most `capacity` unfinished items; workers wait on `executor`.
  conversation_queue(boost::asio::any_io_executor executor, std::size_t capacity)
      : capacity_(capacity), ready_(executor, max_ready_) {}

  // Adds item to the end of its conversation's mailbox. False, and nothing added, when full.
  bool try_push(std::string_view conversation, Item item) {
    if (!reserve(1)) return false;
    push_reserved(conversation, std::move(item));
    return true;
  }

  // Room for n more items right now.
  bool has_room_for(std::size_t n) const { return !closed_ && size_ + n <= capacity_; }

  // Counts n items against the capacity before they are pushed (for example while they are
  // being journaled). False, and nothing reserved, when they do not fit.
  bool reserve(std::size_t n) {
    if (!has_room_for(n)) return false;
    size_ += n;
    return true;
  }
  // Gives back reserved room that will not be used.
  void unreserve(std::size_t n) { size_ -= std::min(size_, n); }
  // The digest a conversation's mailbox is found by. A caller that keeps more per conversation
  // (the store's last-message times) keys it by the same digest, computed once per message.
  dedupe_key digest_of(std::string_view conversation) const { return hasher_(conversation); }
  // Adds an item whose room was reserved.
  void push_reserved(std::string_view conversation, Item item) {
    push_reserved(digest_of(conversation), conversation, std::move(item));
  }
  // The same, with the conversation's digest_of() at hand. The name is copied only for a new
  // mailbox.
  void push_reserved(const dedupe_key& digest, std::string_view conversation, Item item) {
    auto [it, added] = mailboxes_.try_emplace(digest);
    mailbox& box = it->second;
    if (added) box.conversation.assign(conversation);
    box.pending.push_back(std::move(item));
    if (!box.held && !box.announced) announce(it->first, box);
  }
  // Adds an item whatever the capacity (messages recovered from the journal were accepted
  // already and must not be refused).
  void push_unbounded(std::string_view conversation, Item item) {
    ++size_;
    push_reserved(conversation, std::move(item));
  }

  // Waits for a conversation that has items and no worker, takes all its waiting items, and holds
  // it until finish(). Returns nullopt once the queue is closed.
  boost::asio::awaitable<std::optional<batch>> take() {
    for (;;) {
      auto [ec, key] =
          co_await ready_.async_receive(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec) co_return std::nullopt;
      auto it = mailboxes_.find(key);
      if (it == mailboxes_.end() || it->second.pending.empty()) continue;
      mailbox& box = it->second;
      box.announced = false;
      box.held = true;
      batch taken{box.conversation, std::move(box.pending)};
      box.pending.clear();  // a moved-from vector is valid but unspecified
      co_return taken;
    }
  }

  // Adds to a batch taken by take() the items its conversation received since, in order.
  void take_more(batch& held) {
    auto it = mailboxes_.find(digest_of(held.conversation));
    if (it == mailboxes_.end()) return;
    for (auto& item : it->second.pending)
      held.items.push_back(std::move(item));
    it->second.pending.clear();
  }

  // Ends the work on a batch taken by take(): frees its capacity, and lets the next waiting items
  // of the conversation be taken.
  void finish(const batch& done) { finish(done.conversation, done.items.size()); }
  // The same for a batch of `count` items of `conversation`.
  void finish(const std::string& conversation, std::size_t count) {
    size_ -= std::min(size_, count);
    auto it = mailboxes_.find(digest_of(conversation));
    if (it == mailboxes_.end()) return;
    mailbox& box = it->second;
    box.held = false;
    if (box.pending.empty()) {
      mailboxes_.erase(it);
    } else if (!box.announced) {
      announce(it->first, box);
    }
  }

  // Stops taking items; waiting workers get nullopt. Returns the items no worker had taken yet,
  // conversation by conversation, each in order.
  std::vector<batch> close() {
    closed_ = true;
    ready_.close();
    std::vector<batch> left;
    for (auto& [key, box] : mailboxes_) {
      if (box.pending.empty()) continue;
      batch b{box.conversation, {}};
      for (auto& item : box.pending)
        b.items.push_back(std::move(item));
      box.pending.clear();
      left.push_back(std::move(b));
    }
    return left;
  }

  // Unfinished items, held ones included.
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  // Takes effect for pushes from now on; items already in stay.
  void set_capacity(std::size_t capacity) { capacity_ = capacity; }
  // Conversations with waiting or held items.
  std::size_t conversations() const { return mailboxes_.size(); }

 private:
  struct mailbox {
    std::string conversation;   // its name, for the worker that takes it
    std::vector<Item> pending;  // usually one or two: a vector, not a deque's 1 KiB start
    bool held = false;          // a worker is answering this conversation
    bool announced = false;     // its name is in the ready channel
  };

  void announce(const dedupe_key& key, mailbox& box) {
    // The channel holds each conversation at most once, and never more than max_ready_, so a
    // full channel would mean a broken invariant: keep the item waiting rather than lose it.
    box.announced = ready_.try_send(boost::system::error_code{}, key);
  }

  // A conversation is announced at most once and holds at least one item, so the channel never
  // needs more room than the largest capacity the configuration allows.
  static constexpr std::size_t max_ready_ = 10'000'000;

  std::size_t capacity_;
  std::size_t size_ = 0;
  bool closed_ = false;
  // Open addressing, one probe of a cache line in the common case: with many conversations a
  // node-based map missed the cache on every message (6.6 % of ingress CPU, BENCHMARKS.md).
  dedupe_hasher hasher_{dedupe_hasher::random_secret()};
  boost::unordered_flat_map<dedupe_key, mailbox, dedupe_key_hash> mailboxes_;
  boost::asio::experimental::channel<void(boost::system::error_code, dedupe_key)> ready_;
};

}  // namespace bridge::queue
