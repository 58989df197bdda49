#include "bridge/conversation_worker.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>
#include <limits>

#include "bridge/answer_limits.hpp"
#include "bridge/send_retry.hpp"
#include "webhook/format/whatsapp_format.hpp"
#include "webhook/io/log_event.hpp"
#include "webhook/util/ascii.hpp"
#include "webhook/util/backoff.hpp"
#include "webhook/util/redact.hpp"

namespace bridge {

namespace asio = boost::asio;
using asio::awaitable;
using webhook::io::log_event;
using webhook::meta::graph_outcome;
using webhook::meta::graph_reply;
using webhook::meta::graph_target;

namespace {

double unit_random(std::mt19937_64& random) {
  return std::uniform_real_distribution<double>(0.0, 1.0)(random);
}

// The conversation of `messages` as logged: the business number and the (redacted) customer.
std::string conversation_of(std::span<const store::pending_message> messages,
                            const std::string& customer) {
  return messages.front().message.phone_number_id + "/" + customer;
}

// The Robofy query: every message to answer, in order, one per line.
std::string joined_query(std::span<const store::pending_message> messages) {
  std::string query;
  for (const auto& item : messages) {
    if (item.message.disposition != webhook::meta::disposition::answer) continue;
    if (!query.empty()) query += "\n";
    query += item.message.text;
  }
  return query;
}

// Marks `message_id` read, showing "typing…" when asked. A failure is logged and that is all.
awaitable<void> mark_read(worker_context& context, const graph_target& target,
                          const std::string& message_id, bool typing) {
  ++context.counters.read_marks;
  const graph_reply reply = co_await context.sender.mark_read(target, message_id, typing);
  if (reply.outcome != graph_outcome::sent) {
    spdlog::warn("marking {} read failed: HTTP {}, code {}: {}", message_id, reply.http_status,
                 reply.code, reply.message);
  }
}

// Shows "typing…" again every typing_refresh (Meta hides it after 25 s) until cancelled, once
// the answer is ready. Never completes on its own.
awaitable<void> refresh_typing(const runtime_settings& settings, worker_context& context,
                               graph_target target, std::string message_id) {
  for (;;) {
    co_await context.clock.sleep_for(settings.typing_refresh);
    co_await mark_read(context, target, message_id, true);
  }
}

awaitable<robofy::chat_reply> ask_with_retries(const robofy::chat_request& request,
                                               const runtime_settings& settings,
                                               worker_context& context, const std::string& ids,
                                               int& calls) {
  const int attempts = std::max(1, settings.config.robofy.max_attempts);
  robofy::chat_reply reply{};
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) {
      co_await context.clock.sleep_for(
          webhook::util::backoff_delay(attempt - 1, settings.retry_base_delay,
                                       settings.retry_max_delay, unit_random(context.random)));
    }
    if (!context.robofy_breaker.allow(context.clock.now())) {
      // Robofy has been failing: answer with the fallback now instead of adding to the storm.
      reply = robofy::chat_reply{};
      reply.outcome = robofy::chat_outcome::retry;
      reply.error_code = "circuit_open";
      reply.error_detail = "robofy keeps failing; calls are paused";
      ++context.counters.robofy_outcomes["circuit_open"];
      spdlog::warn("robofy calls are paused after repeated failures; not asking for {}", ids);
      break;
    }
    ++context.counters.robofy_calls;
    ++calls;
    const auto started = context.clock.now();
    reply = co_await context.chat.ask(settings.robofy(), request);
    // Cut off because the bridge stops past shutdown.grace: Robofy did not fail (no outcome, no
    // breaker, no retry, no fallback), and nothing is to be sent now (pipeline::stop() says what
    // becomes of these messages). Ends like any cancelled operation.
    if ((co_await asio::this_coro::cancellation_state).cancelled() !=
        asio::cancellation_type::none) {
      throw boost::system::system_error(asio::error::operation_aborted);
    }
    context.counters.robofy_seconds.observe(context.clock.now() - started);
    ++context.counters.robofy_outcomes[std::string(robofy::to_string(reply.outcome))];
    if (reply.outcome == robofy::chat_outcome::retry) {
      context.robofy_breaker.on_failure(context.clock.now());
    } else {
      context.robofy_breaker.on_success();  // any answer, even a 4xx, means it is up
    }
    if (reply.outcome != robofy::chat_outcome::retry) break;
    spdlog::warn("robofy call {}/{} for {} failed (status {}, {}: {}){}", attempt, attempts, ids,
                 reply.http_status, reply.error_code, reply.error_detail,
                 attempt < attempts ? ", retrying" : "");
  }
  co_return reply;
}

// Waits while the Graph API's breaker is open: the reply is still owed, so it waits (up to the
// retry deadline) rather than being dropped. False when the deadline would pass first.
awaitable<bool> wait_for_graph(const runtime_settings& settings, worker_context& context,
                               const send_retry& policy, const std::string& ids) {
  while (!context.graph_breaker.allow(context.clock.now())) {
    const auto resume =
        std::max(context.graph_breaker.retry_at(), context.clock.now() + settings.retry_base_delay);
    if (!policy.in_time(resume)) {
      spdlog::error(
          "graph send for {} abandoned: the Graph API kept failing past the retry deadline", ids);
      co_return false;
    }
    co_await context.clock.sleep_until(resume);
  }
  co_return true;
}

// What became of one part: the outbound wamid when Meta accepted it; else Meta's last answer.
struct part_result {
  std::optional<std::string> message_id;
  graph_reply last;
};

// Sends one part, retrying as send_retry decides.
awaitable<part_result> send_with_retries(const graph_target& target,
                                         const webhook::meta::inbound_message& to,
                                         std::uint32_t rate, const std::string& part,
                                         const runtime_settings& settings, worker_context& context,
                                         const std::string& ids) {
  send_retry policy(settings, context.clock.now());
  for (;;) {
    if (!co_await wait_for_graph(settings, context, policy, ids)) {
      graph_reply abandoned{};
      abandoned.outcome = graph_outcome::retry;
      abandoned.message = "the Graph API kept failing past the retry deadline";
      co_return part_result{std::nullopt, abandoned};
    }
    // Stay under the number's throughput limit.
    const auto pace = co_await context.store.reserve_send(target.phone_number_id, rate);
    if (pace > webhook::io::clock::duration::zero()) co_await context.clock.sleep_for(pace);

    ++context.counters.graph_calls;
    const auto started = context.clock.now();
    const graph_reply reply =
        co_await context.sender.send_text(target, to.customer_id, to.customer_is_username, part);
    context.counters.graph_seconds.observe(context.clock.now() - started);
    ++context.counters.graph_outcomes[{std::string(webhook::meta::to_string(reply.outcome)),
                                       webhook::meta::error_label(reply)}];
    const send_retry::decision next =
        policy.after(reply, context.clock.now(), unit_random(context.random));
    if (reply.outcome == graph_outcome::sent) {
      context.graph_breaker.on_success();
      co_return part_result{reply.message_id, reply};
    }
    // A failure of the API itself counts against its breaker; a 4xx or one customer's pair
    // limit means it is up.
    if (reply.outcome == graph_outcome::retry && reply.code != send_retry::pair_rate_limit_code) {
      context.graph_breaker.on_failure(context.clock.now());
    } else {
      context.graph_breaker.on_success();
    }
    if (next.pair_limited) {
      ++context.counters.pair_limited;
      spdlog::warn("pair rate limit (131056) for {}; retrying in {} ms", ids,
                   std::chrono::duration_cast<std::chrono::milliseconds>(next.wait).count());
    } else if (next.what == send_retry::decision::action::give_up &&
               reply.code == send_retry::pair_rate_limit_code) {
      ++context.counters.pair_limited;
      spdlog::error("graph send for {} abandoned: {}", ids, next.reason);
      co_return part_result{std::nullopt, reply};
    } else {
      const bool final_try = next.what == send_retry::decision::action::give_up;
      spdlog::log(final_try ? spdlog::level::err : spdlog::level::warn,
                  "graph send for {} failed: HTTP {}, code {}, subcode {}: {} (fbtrace_id {}){}",
                  ids, reply.http_status, reply.code, reply.subcode, reply.message,
                  reply.fbtrace_id, final_try ? "; giving up" : ", retrying");
    }
    if (next.what == send_retry::decision::action::give_up)
      co_return part_result{std::nullopt, reply};
    co_await context.clock.sleep_for(next.wait);
  }
}

// The answer to send: Robofy's (as WhatsApp markup), or the fallback text when it cannot
// answer. The customer sees "typing…" meanwhile.
awaitable<std::string> robofy_answer(std::span<const store::pending_message> messages,
                                     const config::route& route, const graph_target& target,
                                     const runtime_settings& settings, worker_context& context,
                                     const std::string& ids, const std::string& customer,
                                     answer_outcome& outcome) {
  using namespace asio::experimental::awaitable_operators;
  const webhook::meta::inbound_message& first = messages.front().message;
  const robofy::chat_request request{joined_query(messages), route.pid, route.chatbot_id,
                                     first.customer_id};
  log_event(spdlog::level::info, {"asking_robofy", ids, conversation_of(messages, customer)},
            "asking robofy for {} ({} message(s) from {})", ids, messages.size(), customer);
  spdlog::debug("query for {}: {}", ids, request.query);
  robofy::chat_reply reply;
  if (settings.config.replies.typing_indicator) {
    // The customer sees the message read and "typing…" while Robofy thinks: the first mark goes
    // out beside the question, refreshes run until the answer is in.
    const std::string& last_id = messages.back().message.id;
    auto raced =
        co_await ((ask_with_retries(request, settings, context, ids, outcome.robofy_calls) ||
                   refresh_typing(settings, context, target, last_id)) &&
                  mark_read(context, target, last_id, true));
    reply = std::move(std::get<0>(raced));
  } else {
    reply = co_await ask_with_retries(request, settings, context, ids, outcome.robofy_calls);
  }
  if (reply.outcome == robofy::chat_outcome::answered) {
    // Robofy writes Markdown; WhatsApp has its own markup. The operator's own reply texts are
    // sent as written.
    std::string answer = webhook::format::to_whatsapp(reply.answer);
    // An answer that shows nothing once rendered (a rule, an HTML comment) would be split into
    // no message at all: the customer would get silence.
    if (!webhook::util::trim(answer).empty()) {
      ++context.counters.answers;
      co_return answer;
    }
    reply.error_code = "empty_answer";
    reply.error_detail = "the answer has no text to show on WhatsApp";
  }
  ++context.counters.fallbacks;
  log_event(spdlog::level::warn, {"fallback", ids, conversation_of(messages, customer)},
            "robofy could not answer {} (status {}, {}: {}); sending the fallback text", ids,
            reply.http_status, reply.error_code, reply.error_detail);
  outcome.real_answer = false;
  outcome.reason = reply.outcome == robofy::chat_outcome::answered    ? "empty_answer"
                   : reply.outcome == robofy::chat_outcome::permanent ? "robofy_refused"
                                                                      : "robofy_unavailable";
  outcome.detail = "HTTP " + std::to_string(reply.http_status) + ", " + reply.error_code + ": " +
                   reply.error_detail;
  co_return settings.config.replies.fallback_text;
}

}  // namespace

std::string ids_of(std::span<const store::pending_message> messages) {
  std::string ids;
  for (const auto& item : messages) {
    if (!ids.empty()) ids += ",";
    ids += item.message.id;
  }
  return ids;
}

awaitable<answer_outcome> answer_messages(std::span<const store::pending_message> messages,
                                          std::shared_ptr<const runtime_settings> settings,
                                          worker_context context) {
  answer_outcome outcome;
  const auto reply = co_await prepare_reply(messages, settings, context, outcome);
  if (reply) co_await send_reply(messages, *reply, settings, context, outcome);
  co_return outcome;
}

awaitable<std::optional<prepared_reply>> prepare_reply(
    std::span<const store::pending_message> messages,
    std::shared_ptr<const runtime_settings> settings_ptr, worker_context context,
    answer_outcome& outcome) {
  if (messages.empty()) co_return std::nullopt;
  const runtime_settings& settings = *settings_ptr;
  const webhook::meta::inbound_message& first = messages.front().message;
  const webhook::meta::inbound_message& last = messages.back().message;
  const bool redact = settings.config.logging.redact_phone_numbers;
  const std::string ids = ids_of(messages);
  const std::string customer = webhook::util::redact_id(first.customer_id, redact);
  const config::route* route = config::find_route(settings.config, first.phone_number_id);
  if (route == nullptr) {
    // The route was removed by a reload after these messages were accepted.
    ++context.counters.unrouted;
    spdlog::warn("no route for business number {} any more; not answering {}",
                 first.phone_number_id, ids);
    co_return std::nullopt;
  }
  const graph_target target = settings.graph_for(*route, first.phone_number_id);

  std::string answer;
  outcome.query = joined_query(messages);
  if (outcome.query.empty()) {
    // Only messages the bridge cannot read (voice notes, stickers, media without a caption).
    ++context.counters.unsupported;
    if (settings.config.replies.typing_indicator) {
      co_await mark_read(context, target, last.id, false);
    }
    answer = settings.config.replies.unsupported_text;
    log_event(spdlog::level::info, {"unsupported", ids, conversation_of(messages, customer)},
              "{} from {}: nothing the bridge can read; sending the unsupported text", ids,
              customer);
  } else {
    answer =
        co_await robofy_answer(messages, *route, target, settings, context, ids, customer, outcome);
  }
  answer_split split =
      answer_parts(answer, settings.config.replies.max_parts, settings.config.replies.cut_notice);
  if (split.cut) {
    ++context.counters.answers_cut;
    spdlog::warn("answer for {} cut to {} WhatsApp messages (replies.max_parts)", ids,
                 split.parts.size());
  }
  co_return prepared_reply{target, route->messages_per_second, std::move(split.parts)};
}

awaitable<void> send_reply(std::span<const store::pending_message> messages,
                           const prepared_reply& reply,
                           std::shared_ptr<const runtime_settings> settings_ptr,
                           worker_context context, answer_outcome& outcome) {
  if (messages.empty()) co_return;
  const runtime_settings& settings = *settings_ptr;
  const webhook::meta::inbound_message& first = messages.front().message;
  const std::string ids = ids_of(messages);
  const std::string customer =
      webhook::util::redact_id(first.customer_id, settings.config.logging.redact_phone_numbers);
  const std::vector<std::string>& parts = reply.parts;
  std::size_t sent = 0;
  graph_reply failure;
  for (const std::string& part : parts) {
    // Parts go one after another, each after Meta accepted the previous, so they arrive in order.
    const part_result result =
        co_await send_with_retries(reply.target, first, reply.rate, part, settings, context, ids);
    if (!result.message_id) {
      failure = result.last;
      break;
    }
    context.store.remember_reply(*result.message_id, store::reply_origin{customer, ids});
    ++sent;
    ++context.counters.parts_sent;
  }
  if (sent < parts.size()) {
    ++context.counters.send_failures;
    log_event(spdlog::level::err, {"send_failed", ids, conversation_of(messages, customer)},
              "reply for {} to {} not delivered: {} of {} part(s) sent", ids, customer, sent,
              parts.size());
    if (outcome.real_answer) {  // a Robofy failure stays the reason when the fallback failed too
      outcome.real_answer = false;
      outcome.reason =
          failure.outcome == graph_outcome::permanent ? "graph_refused" : "graph_gave_up";
      outcome.detail = "code " + std::to_string(failure.code) + " (HTTP " +
                       std::to_string(failure.http_status) + "): " + failure.message;
    }
    co_return;
  }
  const auto waited = context.clock.now() - messages.front().accepted_at;
  context.counters.message_seconds.observe(waited);
  log_event(spdlog::level::info, {"answered", ids, conversation_of(messages, customer)},
            "answered {} to {} in {} part(s), {} ms after acceptance", ids, customer, parts.size(),
            std::chrono::duration_cast<std::chrono::milliseconds>(waited).count());
}

}  // namespace bridge
