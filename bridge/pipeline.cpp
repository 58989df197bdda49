#include "bridge/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bridge/answer_limits.hpp"
#include "bridge/redact.hpp"
#include "bridge/store/message_codec.hpp"

namespace bridge {

namespace asio = boost::asio;
using asio::awaitable;

namespace {
// Meta retries a delivery for up to 7 days; ids are remembered that long unless this many newer
// ones push them out first (about 100 MB at the bound).
constexpr std::size_t dedupe_max_entries = 1'000'000;
constexpr std::chrono::seconds dedupe_retention = std::chrono::hours(24 * 7);
// One accepted message is one journal record; admission's bounds on what a message holds (its
// text, ids and labels) keep every record far below the journal's record limit, whatever
// server.max_body_bytes allows for a whole delivery.
static_assert(2 * webhook::meta::max_text_bytes + 8 * webhook::meta::max_label_bytes <
              queue::max_record_bytes);

}  // namespace

pipeline::pipeline(asio::any_io_executor executor, std::shared_ptr<const runtime_settings> settings,
                   std::shared_ptr<robofy::client::chat_service> chat,
                   std::shared_ptr<webhook::meta::message_sender> sender)
    : executor_(executor),
      settings_(std::move(settings)),
      chat_(std::move(chat)),
      sender_(std::move(sender)),
      queue_(executor, settings_->config.queue.capacity),
      seen_(dedupe_max_entries, dedupe_retention),
      random_(std::random_device{}()),
      robofy_breaker_(settings_->robofy_breaker),
      graph_breaker_(settings_->graph_breaker),
      drained_(executor) {}

awaitable<webhook::meta::admission> pipeline::admit(webhook::meta::delivery batch) {
  note_statuses(batch.statuses);
  note_unreadable(batch);
  admission_counters_.value_errors += batch.value_errors;
  for (const auto& message : batch.messages)
    ++admission_counters_.by_type[message.kind];
  if (draining_) {
    admission_counters_.refused += batch.messages.size();
    co_return webhook::meta::admission::draining;
  }
  const runtime_settings& settings = *settings_;
  const bool redact = settings.config.logging.redact_phone_numbers;
  // Room is reserved and ids remembered before the journal write, so a concurrent POST can
  // neither overfill the queue nor accept the same wamid while this one waits for the disk.
  std::vector<store::pending_message> accepted;
  bool full = false;
  for (std::size_t index = 0; index < batch.messages.size(); ++index) {
    webhook::meta::inbound_message& message = batch.messages[index];
    if (seen_.contains(message.id)) {
      ++admission_counters_.duplicates;
      spdlog::info("duplicate delivery of {} ignored", message.id);
      continue;
    }
    if (message.disposition == webhook::meta::disposition::ignore) {
      // Reactions, edits, revokes, system notices, ...: never answered as a question.
      ++admission_counters_.skipped;
      seen_.insert(message.id);
      spdlog::info("message {} of type {} from {} needs no answer", message.id, message.type,
                   redact_id(message.customer_id, redact));
      continue;
    }
    if (message.text.size() > webhook::meta::max_text_bytes) {
      // No customer can type this much; it would only burden the journal and Robofy.
      ++admission_counters_.oversized;
      seen_.insert(message.id);
      spdlog::warn(
          "message {} refused: its text is {} KiB, over the {} KiB WhatsApp allows; not "
          "answered",
          message.id, message.text.size() / 1024, webhook::meta::max_text_bytes / 1024);
      continue;
    }
    const auto age = std::chrono::system_clock::now() -
                     std::chrono::system_clock::time_point(std::chrono::seconds(message.timestamp));
    if (message.timestamp > 0 && age > settings.config.queue.max_message_age) {
      // After a long outage Meta may still deliver yesterday's questions; an answer now would
      // confuse more than help.
      ++admission_counters_.stale;
      seen_.insert(message.id);
      spdlog::warn("message {} from {} is {} h old (over queue.max_message_age); not answered",
                   message.id, redact_id(message.customer_id, redact),
                   std::chrono::duration_cast<std::chrono::hours>(age).count());
      continue;
    }
    if (config::find_route(settings.config, message.phone_number_id) == nullptr) {
      ++admission_counters_.unrouted;
      seen_.insert(message.id);
      if (const auto held_back = unrouted_log_.admit()) {
        spdlog::warn(
            "message {} for business number {} acknowledged but not forwarded: no route ({} more "
            "since the last report)",
            message.id, message.phone_number_id, *held_back);
      }
      continue;
    }
    if (!queue_.reserve(1)) {
      // Everything before this message stays accepted and remembered, so Meta's retry of the
      // whole POST delivers only the rest, in order.
      full = true;
      const std::size_t refused = batch.messages.size() - index;
      admission_counters_.refused += refused;
      spdlog::warn("queue full ({} messages); refusing {} and the rest of its delivery ({} in all)",
                   queue_.size(), message.id, refused);
      break;
    }
    seen_.insert(message.id);
    accepted.push_back(
        store::pending_message{std::move(message), std::chrono::steady_clock::now()});
  }

  if (spool_ && !accepted.empty()) {
    std::vector<queue::journal_record> records;
    records.reserve(accepted.size());
    for (const store::pending_message& p : accepted) {
      records.push_back(queue::journal_record{queue::record_kind::accepted, p.message.id,
                                              store::conversation_key(p.message),
                                              store::encode_message(p.message)});
    }
    const boost::system::error_code ec = co_await spool_->append_accepted(std::move(records));
    if (ec) {
      // Not journaled means not accepted: Meta gets 503 and delivers these again.
      spdlog::error("journal write failed ({}); refusing {} message(s)", ec.message(),
                    accepted.size());
      for (const store::pending_message& p : accepted)
        seen_.erase(p.message.id);
      queue_.unreserve(accepted.size());
      admission_counters_.refused += accepted.size();
      co_return webhook::meta::admission::unstored;
    }
  }
  for (store::pending_message& p : accepted) {
    spdlog::info("message {} from {} queued", p.message.id,
                 redact_id(p.message.customer_id, redact));
    const std::string key = store::conversation_key(p.message);
    queue_.push_reserved(key, std::move(p));
    ++admission_counters_.accepted;
  }
  co_return full ? webhook::meta::admission::overloaded : webhook::meta::admission::accepted;
}

void pipeline::attach_spool(std::unique_ptr<queue::spool> journal,
                            const queue::spool_recovery& recovered) {
  spool_ = std::move(journal);
  spool_->set_seen_source([this] { return seen_.ids(); });
  for (const std::string& id : recovered.seen)
    seen_.insert(id);
  if (recovered.damaged_bytes > 0) {
    spdlog::warn(
        "journal in {}: {} damaged byte(s) in {} place(s) skipped (a torn write from a "
        "crash); every intact record was kept",
        spool_->directory(), recovered.damaged_bytes, recovered.damaged_regions);
  }
  std::vector<std::string> undecodable;
  for (const queue::recovered_message& r : recovered.pending) {
    auto message = store::decode_message(r.payload);
    if (!message) {
      spdlog::error("journal record for {} cannot be read; it is skipped", r.id);
      undecodable.push_back(r.id);
      continue;
    }
    seen_.insert(message->id);
    if (r.in_doubt) {
      spdlog::warn(
          "message {} was being answered when the bridge stopped; answering it again "
          "(the customer may see the answer twice)",
          r.id);
    }
    queue_.push_unbounded(r.conversation, store::pending_message{std::move(*message),
                                                                 std::chrono::steady_clock::now()});
    ++admission_counters_.recovered;
  }
  spool_->mark_done(undecodable);
  if (!recovered.pending.empty()) {
    spdlog::info("replaying {} accepted message(s) from the journal in {}",
                 admission_counters_.recovered, spool_->directory());
  }
}

std::optional<queue::spool_stats> pipeline::spool_stats() const {
  if (!spool_) return std::nullopt;
  return spool_->stats();
}

void pipeline::note_unreadable(const webhook::meta::delivery& batch) {
  admission_counters_.unreadable += batch.skipped_messages + batch.oversized_ids;
  const std::size_t unreadable = batch.skipped_messages + batch.oversized_ids;
  if (unreadable == 0) return;
  if (const auto held_back = unreadable_log_.admit()) {
    spdlog::warn(
        "{} message(s) of a delivery could not be read ({} without an id, customer or business "
        "number or with a field of the wrong type, {} with an id over {} bytes); acknowledged and "
        "not answered ({} more reports held back)",
        unreadable, batch.skipped_messages, batch.oversized_ids,
        webhook::meta::max_message_id_bytes, *held_back);
  }
}

void pipeline::note_statuses(const std::vector<webhook::meta::status_update>& statuses) {
  admission_counters_.statuses += statuses.size();
  const bool redact = settings_->config.logging.redact_phone_numbers;
  for (const webhook::meta::status_update& status : statuses) {
    // Known statuses only, so a strange value cannot grow the metric's label set.
    static constexpr std::array known = {"sent",   "delivered", "read",   "failed",
                                         "played", "deleted",   "warning"};
    const bool is_known = std::find(known.begin(), known.end(), status.status) != known.end();
    ++admission_counters_.by_status[is_known ? status.status : "other"];
    if (status.status != "failed") continue;
    if (const sent_index::entry* sent = sent_.find(status.id)) {
      ++admission_counters_.failed_statuses_matched;
      spdlog::error("reply {} to {} (answering {}) failed after Meta accepted it: code {} ({})",
                    status.id, sent->customer, sent->inbound_ids, status.error_code,
                    status.error_title);
    } else {
      spdlog::error("message {} to {} failed: code {} ({})", status.id,
                    redact_id(status.recipient_id, redact), status.error_code, status.error_title);
    }
  }
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
    ++busy_workers_;
    // Settings are read per batch, so a reload applies to the next conversation taken.
    const std::shared_ptr<const runtime_settings> settings = settings_;
    for (const auto& item : batch->items)
      in_flight_.insert(item.message.id);
    if (settings->config.queue.coalesce_window.count() > 0) {
      // Give a customer who is still typing the window to add lines to this question.
      asio::steady_timer window(executor_, settings->config.queue.coalesce_window);
      co_await window.async_wait(asio::as_tuple(asio::use_awaitable));
      queue_.take_more(*batch);
    }
    // Usually one query; a long backlog of lines is asked in several, in order.
    const std::vector<std::size_t> ends = query_ends(*batch);
    bool answered = true;
    if (ends.size() <= 1) {
      answered = co_await answer_part(*batch, settings);
    } else {
      std::size_t begin = 0;
      for (std::size_t i = 0; answered && i < ends.size(); begin = ends[i++]) {
        queue::conversation_batch<store::pending_message> part{batch->conversation, {}};
        part.items.assign(batch->items.begin() + static_cast<std::ptrdiff_t>(begin),
                          batch->items.begin() + static_cast<std::ptrdiff_t>(ends[i]));
        answered = co_await answer_part(part, settings);
      }
    }
    if (!answered) {
      --busy_workers_;
      co_return;
    }
    for (const auto& item : batch->items)
      in_flight_.erase(item.message.id);
    queue_.finish(*batch);
    --busy_workers_;
    note_finished();
  }
}

awaitable<bool> pipeline::answer_part(const queue::conversation_batch<store::pending_message>& part,
                                      std::shared_ptr<const runtime_settings> settings) {
  std::vector<std::string> ids;
  for (const auto& item : part.items)
    ids.push_back(item.message.id);
  if (spool_) {
    spool_->mark_started(ids);
    // The started records must be in the file before anything can be sent, or a crash could
    // answer these again after the restart without calling them in doubt. A full disk holds
    // the conversation here until the records are written.
    if (const auto ec = co_await spool_->wait_written()) {
      spdlog::warn("not answering {} now: the journal closed before it recorded the start ({})",
                   part.conversation, ec.message());
      co_return false;
    }
  }
  try {
    co_await answer_batch(part, settings,
                          worker_context{*chat_, *sender_, robofy_breaker_, graph_breaker_, pacer_,
                                         sent_, worker_counters_, random_});
  } catch (const std::exception& e) {
    // One conversation's failure must not take the worker down with it.
    spdlog::error("answering {} failed: {}", part.conversation, e.what());
  }
  if (spool_) spool_->mark_done(ids);
  co_return true;
}

void pipeline::note_finished() {
  if (draining_ && queue_.size() == 0) drained_.cancel();
}

void pipeline::begin_drain() {
  draining_ = true;
}

awaitable<bool> pipeline::drain(std::chrono::milliseconds grace) {
  begin_drain();
  if (queue_.size() == 0) co_return true;
  drained_.expires_after(grace);
  co_await drained_.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return queue_.size() == 0;
}

std::size_t pipeline::stop() {
  std::size_t left = 0;
  auto report = [&](const std::string& id, const char* where) {
    ++left;
    if (spool_) {
      spdlog::warn(
          "message {} {} at shutdown; it stays in the journal and is answered after "
          "the restart",
          id, where);
    } else {
      spdlog::error("message {} dropped at shutdown: {}", id, where);
    }
  };
  for (const auto& id : in_flight_)
    report(id, "was still being answered");
  for (const auto& batch : queue_.close()) {
    for (const auto& item : batch.items)
      report(item.message.id, "was still waiting in the queue");
  }
  return left;
}

void pipeline::update(std::shared_ptr<const runtime_settings> settings) {
  queue_.set_capacity(settings->config.queue.capacity);
  settings_ = std::move(settings);
}

}  // namespace bridge
