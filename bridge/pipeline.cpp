#include "bridge/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/container/small_vector.hpp>

#include "bridge/answer_limits.hpp"
#include "bridge/store/errc.hpp"
#include "bridge/store/message_codec.hpp"
#include "queue/journal_format.hpp"
#include "webhook/io/log_event.hpp"
#include "webhook/util/redact.hpp"

namespace bridge {

namespace asio = boost::asio;
using asio::awaitable;
using webhook::io::log_event;
using webhook::meta::admission;

namespace {
// One accepted message is one journal record; admission's bounds on what a message holds (its
// text, ids and labels) keep every record far below the journal's record limit, whatever
// server.max_body_bytes allows for a whole delivery.
static_assert(2 * webhook::meta::max_text_bytes + 8 * webhook::meta::max_label_bytes <
              queue::max_record_bytes);

// The message as the store gets it: moved whole, or, when `keep_ids`, a copy of its ids and labels
// (short strings) with the bulk moved (the text, the profile name and the replied-to id), so the
// delivery still names it after the store took it.
webhook::meta::inbound_message for_store(webhook::meta::inbound_message& message, bool keep_ids) {
  if (!keep_ids) return std::move(message);
  std::string text = std::move(message.text);
  std::string profile_name = std::move(message.profile_name);
  std::string context_id = std::move(message.context_id);
  webhook::meta::inbound_message copy = message;
  copy.text = std::move(text);
  copy.profile_name = std::move(profile_name);
  copy.context_id = std::move(context_id);
  return copy;
}
}  // namespace

pipeline::pipeline(asio::any_io_executor executor, std::shared_ptr<const runtime_settings> settings,
                   pipeline_services services)
    : executor_(executor),
      settings_(std::move(settings)),
      services_(std::move(services)),
      random_(std::random_device{}()),
      robofy_breaker_(settings_->robofy_breaker),
      graph_breaker_(settings_->graph_breaker),
      drained_(executor),
      workers_(executor, "worker") {}

awaitable<admission> pipeline::admit(webhook::meta::delivery batch) {
  // Most deliveries carry neither: no coroutine frame for nothing.
  if (!batch.statuses.empty()) co_await note_statuses(std::move(batch.statuses));
  note_unreadable(batch);
  note_fields(batch);
  if (!batch.echoes.empty()) co_await note_echoes(batch.echoes);
  admission_counters_.value_errors += batch.value_errors;
  for (const auto& message : batch.messages)
    ++admission_counters_.by_type[message.kind];
  if (draining_) {
    admission_counters_.refused += batch.messages.size();
    co_return admission::draining;
  }
  // Classify first (pure), then let the store decide dedupe, capacity and storage in one step.
  const auto now = services_.clock->wall_now();
  const auto accepted_at = services_.clock->now();
  // Every message is moved to the store, which takes the ones it stores. At info level a stored
  // message's line names it, so the delivery keeps a copy of its ids (not at the usual warn
  // level: an allocation per message for a line that is not written).
  const bool info = spdlog::should_log(spdlog::level::info);
  boost::container::small_vector<message_class, 8> classes;  // no allocation for a few
  boost::container::small_vector<store::admission_entry, 1> entries;
  classes.reserve(batch.messages.size());
  entries.reserve(batch.messages.size());
  for (webhook::meta::inbound_message& message : batch.messages) {
    classes.push_back(classify(message, settings_->config, now));
    const bool answer = classes.back() == message_class::answer;
    entries.push_back(store::admission_entry{
        store::pending_message{for_store(message, answer && info), accepted_at, false}, answer});
  }
  const store::admission_result result =
      co_await services_.store->admit(std::span(entries.data(), entries.size()));
  if (result.error) {
    // Not stored means not accepted: Meta gets 503 and delivers these again.
    spdlog::error("storing a delivery failed ({}); refusing {} message(s)", result.error.message(),
                  batch.messages.size());
    admission_counters_.refused += batch.messages.size();
    co_return admission::unstored;
  }
  note_verdicts(batch, entries, classes, result);
  const bool full = std::find(result.verdicts.begin(), result.verdicts.end(),
                              store::verdict::no_room) != result.verdicts.end();
  co_return full ? admission::overloaded : admission::accepted;
}

void pipeline::note_verdicts(const webhook::meta::delivery& batch,
                             std::span<const store::admission_entry> entries,
                             std::span<const message_class> classes,
                             const store::admission_result& result) {
  const bool redact = settings_->config.logging.redact_phone_numbers;
  // The conversation's (redacted) name is built only for a line that will be written: at the
  // usual warn level, two strings per accepted message for nothing.
  const bool info = spdlog::should_log(spdlog::level::info);
  for (std::size_t i = 0; i < batch.messages.size(); ++i) {
    // The store took what it stored: its ids stayed in the delivery at info level, where a line
    // names it (nothing reads them otherwise). Every other message is in its entry still.
    const webhook::meta::inbound_message& message = result.verdicts[i] == store::verdict::stored
                                                        ? batch.messages[i]
                                                        : entries[i].message.message;
    const bool logged = info || result.verdicts[i] == store::verdict::no_room;
    const std::string conversation =
        logged ? webhook::util::redact_conversation(store::conversation_key(message), redact)
               : std::string();
    switch (result.verdicts[i]) {
      case store::verdict::duplicate:
        ++admission_counters_.duplicates;
        log_event(spdlog::level::info, {"duplicate", message.id, conversation},
                  "duplicate delivery of {} ignored", message.id);
        break;
      case store::verdict::stored:
        ++admission_counters_.accepted;
        if (info) {
          log_event(spdlog::level::info, {"queued", message.id, conversation},
                    "message {} from {} queued", message.id,
                    webhook::util::redact_id(message.customer_id, redact));
        }
        break;
      case store::verdict::no_room: {
        // Everything before this message stays accepted and remembered, so Meta's retry of the
        // whole POST delivers only the rest, in order.
        const std::size_t refused = batch.messages.size() - i;
        admission_counters_.refused += refused;
        log_event(spdlog::level::warn, {"refused", message.id, conversation},
                  "queue full ({} messages); refusing {} and the rest of its delivery ({} in all)",
                  services_.store->unfinished(), message.id, refused);
        return;
      }
      case store::verdict::paused:
        ++admission_counters_.paused;
        log_event(
            spdlog::level::info, {"paused", message.id, conversation},
            "message {} from {} accepted and not answered: the conversation is handed to a person",
            message.id, webhook::util::redact_id(message.customer_id, redact));
        break;
      case store::verdict::remembered:
        switch (classes[i]) {
          case message_class::no_answer:
            ++admission_counters_.skipped;
            log_event(spdlog::level::info, {"no_answer", message.id, conversation},
                      "message {} of type {} from {} needs no answer", message.id, message.type,
                      webhook::util::redact_id(message.customer_id, redact));
            break;
          case message_class::oversized:
            ++admission_counters_.oversized;
            spdlog::warn(
                "message {} refused: its text is {} KiB, over the {} KiB WhatsApp allows; not "
                "answered",
                message.id, message.text.size() / 1024, webhook::meta::max_text_bytes / 1024);
            break;
          case message_class::stale:
            ++admission_counters_.stale;
            spdlog::warn(
                "message {} from {} is {} h old (over queue.max_message_age); not answered",
                message.id, webhook::util::redact_id(message.customer_id, redact),
                std::chrono::duration_cast<std::chrono::hours>(
                    services_.clock->wall_now() -
                    std::chrono::system_clock::time_point(std::chrono::seconds(message.timestamp)))
                    .count());
            break;
          case message_class::unrouted:
            ++admission_counters_.unrouted;
            if (const auto held_back = unrouted_log_.admit()) {
              spdlog::warn(
                  "message {} for business number {} acknowledged but not forwarded: no route ({} "
                  "more since the last report)",
                  message.id, message.phone_number_id, *held_back);
            }
            break;
          case message_class::answer:
            break;
        }
        break;
    }
  }
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

awaitable<void> pipeline::note_statuses(std::vector<webhook::meta::status_update> statuses) {
  admission_counters_.statuses += statuses.size();
  const bool redact = settings_->config.logging.redact_phone_numbers;
  for (const webhook::meta::status_update& status : statuses) {
    // Known statuses only, so a strange value cannot grow the metric's label set.
    static constexpr std::array known = {"sent",   "delivered", "read",   "failed",
                                         "played", "deleted",   "warning"};
    const bool is_known = std::find(known.begin(), known.end(), status.status) != known.end();
    ++admission_counters_.by_status[is_known ? status.status : "other"];
    if (status.status != "failed") continue;
    if (const auto sent = co_await services_.store->find_reply(status.id)) {
      ++admission_counters_.failed_statuses_matched;
      spdlog::error("reply {} to {} (answering {}) failed after Meta accepted it: code {} ({})",
                    status.id, sent->customer, sent->inbound_ids, status.error_code,
                    status.error_title);
    } else {
      spdlog::error("message {} to {} failed: code {} ({})", status.id,
                    webhook::util::redact_id(status.recipient_id, redact), status.error_code,
                    status.error_title);
    }
  }
}

void pipeline::start() {
  const std::size_t workers = settings_->config.queue.workers;
  for (std::size_t i = 0; i < workers; ++i)
    workers_.spawn(run_worker());
}

awaitable<void> pipeline::run_worker() {
  for (;;) {
    std::optional<store::claim> held = co_await services_.store->claim_next();
    if (!held) co_return;
    ++busy_workers_;
    // Settings are read per conversation, so a reload applies to the next one taken.
    const std::shared_ptr<const runtime_settings> settings = settings_;
    if (settings->config.queue.coalesce_window.count() > 0) {
      // Give a customer who is still typing the window to add lines to this question.
      co_await services_.clock->sleep_for(settings->config.queue.coalesce_window);
      if (const auto ec = co_await services_.store->take_more(*held)) {
        // The claim is lost (another replica answers the conversation now): ask nothing.
        spdlog::warn("not answering {} now: the store could not add to the claim ({})",
                     held->conversation, ec.message());
        --busy_workers_;
        note_finished();
        continue;
      }
    }
    // Usually one query; a long backlog of lines is asked in several, in order.
    const std::span<const store::pending_message> messages(held->messages);
    const std::vector<std::size_t> ends = query_ends(messages);
    std::size_t begin = 0;
    bool owned = true;
    for (std::size_t i = 0; i < ends.size() && owned; ++i) {
      owned = co_await answer_part(*held, messages.subspan(begin, ends[i] - begin), settings,
                                   i == 0, i + 1 == ends.size());
      begin = ends[i];
    }
    // The last part gave the conversation back as it finished; a claim without parts gives it
    // back here.
    if (owned && ends.empty()) co_await services_.store->release(std::move(*held));
    --busy_workers_;
    note_finished();
  }
}

awaitable<bool> pipeline::answer_part(const store::claim& held,
                                      std::span<const store::pending_message> part,
                                      std::shared_ptr<const runtime_settings> settings, bool first,
                                      bool last) {
  std::vector<std::string> ids;
  ids.reserve(part.size());
  for (const auto& item : part)
    ids.push_back(item.message.id);
  // Handed to a person before the AI began: not even Robofy is asked. The claim says so for its
  // first part (one store step fewer per message); a later part asks again.
  const bool paused = first ? held.paused : co_await services_.store->is_paused(held.conversation);
  if (paused) {
    co_await hold_back_for_person(held, part, ids, *settings, last);
    co_return true;
  }
  const worker_context context{
      *services_.chat, *services_.sender, *services_.clock, robofy_breaker_,
      graph_breaker_,  *services_.store,  worker_counters_, random_};
  // The reply is made first (Robofy may take long); the store is asked whether the claim is still
  // ours right before anything is sent, so a replica that lost it meanwhile (frozen, cut off
  // from Redis past its lease) sends nothing, and only a send in flight can be in doubt.
  answer_outcome outcome;
  const auto reply = co_await prepare_reply(part, settings, context, outcome);
  if (reply) {
    if (const auto ec = co_await services_.store->begin_send(held, ids)) {
      if (ec == store::errc::paused) {
        // A person took the conversation over while Robofy thought: the AI stays quiet. Not a
        // failure (no dead letter) and not counted as paused: these were answered, by a person.
        const std::string joined = ids_of(part);
        log_event(spdlog::level::info,
                  {"paused", joined,
                   webhook::util::redact_conversation(
                       held.conversation, settings->config.logging.redact_phone_numbers)},
                  "not sending the answer for {}: the conversation was handed to a person", joined);
        co_await finish_part(held, ids, last);
        co_return true;
      }
      spdlog::warn("not answering {} now: the store could not record the start ({})",
                   held.conversation, ec.message());
      co_return false;
    }
    co_await send_reply(part, *reply, settings, context, outcome);
  }
  if (!outcome.real_answer) co_await keep_dead_letters(part, outcome);
  co_await finish_part(held, ids, last);
  co_return true;
}

awaitable<void> pipeline::finish_part(const store::claim& held, const std::vector<std::string>& ids,
                                      bool last) {
  if (last) {
    co_await services_.store->finish_and_release(held, ids);
  } else {
    co_await services_.store->finish(held, ids);
  }
}

awaitable<void> pipeline::hold_back_for_person(const store::claim& held,
                                               std::span<const store::pending_message> part,
                                               const std::vector<std::string>& ids,
                                               const runtime_settings& settings, bool last) {
  admission_counters_.paused += ids.size();
  const std::string joined = ids_of(part);
  const bool redact = settings.config.logging.redact_phone_numbers;
  log_event(spdlog::level::info,
            {"paused", joined, webhook::util::redact_conversation(held.conversation, redact)},
            "not answering {}: the conversation was handed to a person", joined);
  co_await finish_part(held, ids, last);
}

void pipeline::note_fields(const webhook::meta::delivery& batch) {
  for (const auto& [field, count] : batch.changes_by_field) {
    std::size_t& seen = admission_counters_.changes_by_field[field];
    if (seen == 0 && field != "messages") {
      spdlog::debug("first webhook change of field {}: counted, not acted on", field);
    }
    seen += count;
  }
}

awaitable<void> pipeline::note_echoes(const std::vector<webhook::meta::echo>& echoes) {
  const auto pause_for = settings_->config.handover.pause_for;
  const bool redact = settings_->config.logging.redact_phone_numbers;
  for (const webhook::meta::echo& echo : echoes) {
    ++admission_counters_.echoes;
    if (pause_for.count() == 0) continue;  // automatic pauses are off
    const auto now = services_.clock->wall_now();
    const std::string conversation = echo.phone_number_id + "/" + echo.customer_id;
    const store::pause p{conversation, now, now + pause_for, "echo"};
    if (const auto ec = co_await services_.store->pause(p)) {
      spdlog::error("the business answered {} itself, but pausing the AI failed ({})",
                    webhook::util::redact_id(echo.customer_id, redact), ec.message());
      continue;
    }
    spdlog::info(
        "the business answered {} on number {} itself (message {}): the AI is paused for that "
        "conversation for {} min",
        webhook::util::redact_id(echo.customer_id, redact), echo.phone_number_id, echo.id,
        std::chrono::duration_cast<std::chrono::minutes>(pause_for).count());
  }
}

awaitable<void> pipeline::keep_dead_letters(std::span<const store::pending_message> part,
                                            const answer_outcome& outcome) {
  const bool redact = settings_->config.logging.redact_phone_numbers;
  for (const store::pending_message& p : part) {
    const webhook::meta::inbound_message& m = p.message;
    store::dead_letter letter{m.id,
                              store::conversation_key(m),
                              webhook::util::redact_id(m.customer_id, redact),
                              outcome.query,
                              outcome.reason,
                              outcome.detail,
                              services_.clock->wall_now(),
                              outcome.robofy_calls,
                              store::encode_message(m)};
    if (const auto ec = co_await services_.store->add_dead_letter(std::move(letter))) {
      spdlog::error("message {} ended without a real answer ({}), and keeping it failed: {}", m.id,
                    outcome.reason, ec.message());
      continue;
    }
    ++worker_counters_.dead_letters;
    log_event(spdlog::level::warn,
              {"dead_letter", m.id,
               webhook::util::redact_conversation(store::conversation_key(m), redact)},
              "message {} ended without a real answer ({}); kept as a dead letter", m.id,
              outcome.reason);
  }
}

void pipeline::note_finished() {
  if (draining_ && services_.store->local_backlog() == 0) drained_.cancel();
}

void pipeline::begin_drain() {
  draining_ = true;
  services_.store->begin_drain();
}

awaitable<bool> pipeline::drain(std::chrono::milliseconds grace) {
  using namespace asio::experimental::awaitable_operators;
  begin_drain();
  if (services_.store->local_backlog() == 0) co_return true;
  // The grace runs on the pipeline's clock like every other wait; drained_ never expires and
  // is cancelled when the last message finishes.
  drained_.expires_at(asio::steady_timer::time_point::max());
  co_await (services_.clock->sleep_for(grace) ||
            drained_.async_wait(asio::as_tuple(asio::use_awaitable)));
  co_return services_.store->local_backlog() == 0;
}

awaitable<std::size_t> pipeline::stop() {
  const store::leftovers left = services_.store->close();
  workers_.cancel();
  co_await services_.store->hand_back();
  const auto report = [&](const std::string& id, const char* where) {
    if (left.kept_in == "Redis") {
      spdlog::warn("conversation {} {} at shutdown; another replica answers it", id, where);
    } else if (left.kept) {
      spdlog::warn("message {} {} at shutdown; it stays in {} and is answered after the restart",
                   id, where, left.kept_in);
    } else {
      spdlog::error("message {} dropped at shutdown: {}", id, where);
    }
  };
  for (const auto& id : left.answering)
    report(id, "was still being answered");
  for (const auto& id : left.waiting)
    report(id, "was still waiting in the queue");
  co_return left.answering.size() + left.waiting.size();
}

void pipeline::update(std::shared_ptr<const runtime_settings> settings) {
  services_.store->set_capacity(settings->config.queue.capacity);
  settings_ = std::move(settings);
}

}  // namespace bridge
