#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bridge/runtime_settings.hpp"
#include "bridge/store/message_store.hpp"
#include "robofy/client/chat_service.hpp"
#include "tests/support/parking.hpp"
#include "webhook/io/clock.hpp"
#include "webhook/meta/graph_sender.hpp"

// Scripted stand-ins for the pipeline's I/O services (Robofy, the Graph API, the store), for unit
// tests that drive the workers with a manual clock: each records every call with the clock's time,
// answers from a script, and can hold a call until the test releases it.
namespace bridge::test {

// Turns the default logger off while it lives (the pipeline logs every message it handles).
struct quiet_logs {
  quiet_logs();
  ~quiet_logs();
  quiet_logs(const quiet_logs&) = delete;
  quiet_logs& operator=(const quiet_logs&) = delete;
  int saved_level;
};

// A configuration for the stubs: one route (business number "106", pid-1, bot-1, 80 messages a
// second), upstream URLs that are never contacted, no typing indicator, logging off.
config::settings stub_config();
// Runtime settings from `config`, then changed by `tune` (retry delays, typing refresh, ...).
std::shared_ptr<const runtime_settings> tuned(
    config::settings config, const std::function<void(runtime_settings&)>& tune = {});

// A text message from `customer` to business number `number`, to be answered.
webhook::meta::inbound_message text_message(std::string id, std::string text,
                                            std::string customer = "9198",
                                            std::string number = "106");
// A voice note: nothing the bridge can read (answered with replies.unsupported_text).
webhook::meta::inbound_message voice_message(std::string id, std::string customer = "9198",
                                             std::string number = "106");
// A reaction: never answered.
webhook::meta::inbound_message reaction_message(std::string id, std::string customer = "9198",
                                                std::string number = "106");

// Robofy's replies as the real codec classifies them: 200 with data.answer, or `status` with an
// error body (429 and 5xx retry, other 4xx are permanent).
robofy::chat_reply robofy_answer(std::string_view answer);
robofy::chat_reply robofy_error(int status);
// Graph replies as the real codec classifies them: 200 with an outbound wamid, or Meta's error
// body with `code` (130429 throttling and 131056 pair limit retry, 131047 is permanent, ...).
webhook::meta::graph_reply graph_accepted(std::string_view outbound_id);
webhook::meta::graph_reply graph_error(int status, int code);

// One call to the Robofy stub.
struct chat_call {
  robofy::client::chat_target target;
  robofy::chat_request request;
  webhook::io::clock::time_point at;  // the clock's time when it came
};

// Robofy as a script. Each call is recorded, then answered by the next reply of `script`, or when
// that is used up by `respond` (by default "answer to: <query>"). A call `hold` picks waits, after
// it is recorded and its reply chosen, until release() lets it go.
class stub_chat final : public robofy::client::chat_service {
 public:
  explicit stub_chat(const webhook::io::clock& clock) : clock_(clock) {}

  boost::asio::awaitable<robofy::chat_reply> ask(const robofy::client::chat_target& target,
                                                 const robofy::chat_request& request) override;

  // Lets the held calls of customer `session` (every held call when empty) go, in the order they
  // came; returns how many.
  std::size_t release(std::string_view session = {});
  // Calls held now.
  std::size_t held() const;
  const std::vector<chat_call>& calls() const { return calls_; }
  // The queries asked, in order.
  std::vector<std::string> queries() const;

  std::deque<robofy::chat_reply> script;
  std::function<robofy::chat_reply(const robofy::chat_request&)> respond;
  std::function<bool(const robofy::chat_request&)> hold;

 private:
  const webhook::io::clock& clock_;
  std::vector<chat_call> calls_;
  parking<std::string> held_;  // by session id
};

// One call to the Graph stub: a text send or a mark-read.
struct graph_call {
  bool read = false;  // mark_read; otherwise send_text
  webhook::meta::graph_target target;
  std::string recipient;  // send_text
  bool recipient_is_username = false;
  std::string body;
  std::string message_id;  // mark_read
  bool typing = false;
  webhook::io::clock::time_point at;

  // What release() picks it by: the recipient of a send, the message id of a mark-read.
  const std::string& label() const { return read ? message_id : recipient; }
};

// The Graph API as a script. Every call is recorded; a text send is answered by the next reply of
// `script`, or when that is used up by `respond` (by default accepted, with outbound wamid
// "wamid.out.<n>"); a mark-read is always accepted. A call `hold` picks waits until release().
class stub_sender final : public webhook::meta::message_sender {
 public:
  explicit stub_sender(const webhook::io::clock& clock) : clock_(clock) {}

  boost::asio::awaitable<webhook::meta::graph_reply> send_text(
      const webhook::meta::graph_target& target, const std::string& recipient,
      bool recipient_is_username, const std::string& body) override;
  boost::asio::awaitable<webhook::meta::graph_reply> mark_read(
      const webhook::meta::graph_target& target, const std::string& message_id,
      bool typing) override;

  // Lets the held calls labelled `label` (every held call when empty) go; returns how many.
  std::size_t release(std::string_view label = {});
  std::size_t held() const;
  // Every call, in order.
  const std::vector<graph_call>& calls() const { return calls_; }
  // Only the text sends, or only the mark-reads, in order.
  std::vector<graph_call> texts() const;
  std::vector<graph_call> reads() const;
  // The bodies of the text sends, in order.
  std::vector<std::string> bodies() const;

  std::deque<webhook::meta::graph_reply> script;
  std::function<webhook::meta::graph_reply(const graph_call&)> respond;
  std::function<bool(const graph_call&)> hold;

 private:
  boost::asio::awaitable<void> maybe_hold(const graph_call& call);

  const webhook::io::clock& clock_;
  std::vector<graph_call> calls_;
  std::size_t accepted_ = 0;
  parking<std::string> held_;  // by label
};

// A store that hands every call to `inner` (a local_store, usually) and records it, unless the
// test made it fail: admit_error fails admit() whole, as a journal write or an unreachable store
// does (nothing is stored); begin_send_error fences off begin_send(), as a lost claim does.
class scripted_store final : public store::message_store {
 public:
  explicit scripted_store(std::shared_ptr<store::message_store> inner) : inner_(std::move(inner)) {}

  boost::asio::awaitable<store::admission_result> admit(
      std::span<store::admission_entry> entries) override;
  boost::asio::awaitable<std::optional<store::claim>> claim_next() override;
  boost::asio::awaitable<boost::system::error_code> take_more(store::claim& held) override;
  boost::asio::awaitable<boost::system::error_code> begin_send(
      const store::claim& held, std::span<const std::string> ids) override;
  boost::asio::awaitable<boost::system::error_code> finish(
      const store::claim& held, std::span<const std::string> ids) override;
  boost::asio::awaitable<void> release(store::claim held) override;
  store::leftovers close() override { return inner_->close(); }
  void begin_drain() override { inner_->begin_drain(); }
  boost::asio::awaitable<void> hand_back() override { return inner_->hand_back(); }
  std::size_t local_backlog() const override { return inner_->local_backlog(); }

  boost::asio::awaitable<std::chrono::steady_clock::duration> reserve_send(
      const std::string& number, std::uint32_t rate) override {
    return inner_->reserve_send(number, rate);
  }
  void remember_reply(const std::string& outbound_id, store::reply_origin origin) override {
    inner_->remember_reply(outbound_id, std::move(origin));
  }
  boost::asio::awaitable<std::optional<store::reply_origin>> find_reply(
      const std::string& outbound_id) override {
    return inner_->find_reply(outbound_id);
  }

  boost::asio::awaitable<boost::system::error_code> pause(store::pause p) override {
    return inner_->pause(std::move(p));
  }
  boost::asio::awaitable<bool> is_paused(const std::string& conversation) override {
    return inner_->is_paused(conversation);
  }
  boost::asio::awaitable<bool> resume(const std::string& conversation) override {
    return inner_->resume(conversation);
  }
  boost::asio::awaitable<std::vector<store::pause>> paused() override { return inner_->paused(); }

  boost::asio::awaitable<boost::system::error_code> add_dead_letter(store::dead_letter d) override;
  boost::asio::awaitable<std::vector<store::dead_letter>> dead_letters(
      std::size_t limit, std::string_view after, std::string_view reason) override {
    return inner_->dead_letters(limit, after, reason);
  }
  boost::asio::awaitable<std::optional<store::dead_letter>> find_dead_letter(
      const std::string& wamid) override {
    return inner_->find_dead_letter(wamid);
  }
  boost::asio::awaitable<store::replay_result> replay(const std::string& wamid,
                                                      store::wall_time window_start) override {
    return inner_->replay(wamid, window_start);
  }
  boost::asio::awaitable<bool> delete_dead_letter(const std::string& wamid) override {
    return inner_->delete_dead_letter(wamid);
  }
  void set_dead_letter_limits(std::size_t max, std::chrono::milliseconds max_age) override {
    inner_->set_dead_letter_limits(max, max_age);
  }

  std::size_t unfinished() const override { return inner_->unfinished(); }
  std::size_t capacity() const override { return inner_->capacity(); }
  void set_capacity(std::size_t capacity) override { inner_->set_capacity(capacity); }
  bool writable() const override { return inner_->writable(); }

  boost::system::error_code admit_error;
  boost::system::error_code begin_send_error;
  // The ids of each begin_send and finish call, in order; the conversations released.
  std::vector<std::vector<std::string>> begun;
  std::vector<std::vector<std::string>> finished;
  std::vector<std::string> released;
  // The dead letters added, in order.
  std::vector<store::dead_letter> dead;

 private:
  std::shared_ptr<store::message_store> inner_;
};

}  // namespace bridge::test
