#include "bridge/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bridge/redact.hpp"

namespace bridge {

namespace asio = boost::asio;
using asio::awaitable;

namespace {
// Meta retries a delivery for up to 7 days; ids are remembered that long unless this many newer
// ones push them out first (about 100 MB at the bound).
constexpr std::size_t dedupe_max_entries = 1'000'000;
constexpr std::chrono::seconds dedupe_retention = std::chrono::hours(24 * 7);
}  // namespace

pipeline::pipeline(asio::any_io_executor executor, std::shared_ptr<const runtime_settings> settings,
                   std::shared_ptr<chat_service> chat, std::shared_ptr<message_sender> sender)
    : executor_(executor),
      settings_(std::move(settings)),
      chat_(std::move(chat)),
      sender_(std::move(sender)),
      queue_(executor, settings_->config.queue.capacity),
      seen_(dedupe_max_entries, dedupe_retention),
      random_(std::random_device{}()),
      drained_(executor) {}

awaitable<webhook::admission> pipeline::admit(webhook::delivery batch) {
  admission_counters_.statuses += batch.statuses.size();
  if (draining_) {
    admission_counters_.refused += batch.messages.size();
    co_return webhook::admission::draining;
  }
  const runtime_settings& settings = *settings_;
  const bool redact = settings.config.logging.redact_phone_numbers;
  for (webhook::inbound_message& message : batch.messages) {
    if (seen_.contains(message.id)) {
      ++admission_counters_.duplicates;
      spdlog::info("duplicate delivery of {} ignored", message.id);
      continue;
    }
    if (message.kind != webhook::message_kind::text) {
      ++admission_counters_.skipped;
      seen_.insert(message.id);
      spdlog::info("message {} of type {} from {} skipped: only text is answered", message.id,
                   message.type, redact_id(message.customer_id, redact));
      continue;
    }
    if (config::find_route(settings.config, message.phone_number_id) == nullptr) {
      ++admission_counters_.unrouted;
      seen_.insert(message.id);
      spdlog::warn("message {} for business number {} acknowledged but not forwarded: no route",
                   message.id, message.phone_number_id);
      continue;
    }
    const std::string key = conversation_key(message);
    const std::string id = message.id;
    const std::string customer = redact_id(message.customer_id, redact);
    if (!queue_.try_push(key, pending_message{std::move(message), std::chrono::steady_clock::now()})) {
      // Everything before this message stays accepted and remembered, so Meta's retry of the
      // whole POST delivers only the rest, in order.
      ++admission_counters_.refused;
      spdlog::warn("queue full ({} messages); refusing {} and the rest of its delivery",
                   queue_.size(), id);
      co_return webhook::admission::overloaded;
    }
    seen_.insert(id);
    ++admission_counters_.accepted;
    spdlog::info("message {} from {} queued", id, customer);
  }
  co_return webhook::admission::accepted;
}

void pipeline::start() {
  const std::size_t workers = settings_->config.queue.workers;
  for (std::size_t i = 0; i < workers; ++i) {
    asio::co_spawn(executor_, run_worker(), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::critical("worker stopped by an error: {}", ex.what());
      }
    });
  }
}

awaitable<void> pipeline::run_worker() {
  for (;;) {
    auto batch = co_await queue_.take();
    if (!batch) co_return;
    // Settings are read per batch, so a reload applies to the next conversation taken.
    const std::shared_ptr<const runtime_settings> settings = settings_;
    for (const auto& item : batch->items) in_flight_.insert(item.message.id);
    try {
      co_await answer_batch(*batch, *settings,
                            worker_context{*chat_, *sender_, worker_counters_, random_});
    } catch (const std::exception& e) {
      // One conversation's failure must not take the worker down with it.
      spdlog::error("answering {} failed: {}", batch->conversation, e.what());
    }
    for (const auto& item : batch->items) in_flight_.erase(item.message.id);
    queue_.finish(*batch);
    note_finished();
  }
}

void pipeline::note_finished() {
  if (draining_ && queue_.size() == 0) drained_.cancel();
}

void pipeline::begin_drain() { draining_ = true; }

awaitable<bool> pipeline::drain(std::chrono::milliseconds grace) {
  begin_drain();
  if (queue_.size() == 0) co_return true;
  drained_.expires_after(grace);
  co_await drained_.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return queue_.size() == 0;
}

std::size_t pipeline::stop() {
  std::size_t dropped = 0;
  for (const auto& id : in_flight_) {
    spdlog::error("message {} dropped at shutdown: its answer was still in progress", id);
    ++dropped;
  }
  for (const auto& batch : queue_.close()) {
    for (const auto& item : batch.items) {
      spdlog::error("message {} dropped at shutdown: it was still waiting in the queue",
                    item.message.id);
      ++dropped;
    }
  }
  return dropped;
}

void pipeline::update(std::shared_ptr<const runtime_settings> settings) {
  queue_.set_capacity(settings->config.queue.capacity);
  settings_ = std::move(settings);
}

}  // namespace bridge
