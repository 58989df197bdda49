#include "bridge/conversation_worker.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bridge/redact.hpp"
#include "robofy/retry.hpp"
#include "webhook/text_split.hpp"

namespace bridge {

namespace asio = boost::asio;
using asio::awaitable;

std::string conversation_key(const webhook::inbound_message& message) {
  return message.phone_number_id + "/" + message.customer_id;
}

namespace {

awaitable<void> sleep_for(std::chrono::steady_clock::duration delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

awaitable<void> wait_before_retry(int retry_number, const runtime_settings& settings,
                                  std::mt19937_64& random) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const auto delay = robofy::backoff_delay(retry_number, settings.retry_base_delay,
                                           settings.retry_max_delay, unit(random));
  co_await sleep_for(delay);
}

// The wamids of a batch, for log lines that must name every message they speak of.
std::string ids_of(const queue::conversation_batch<pending_message>& batch) {
  std::string ids;
  for (const auto& item : batch.items) {
    if (!ids.empty()) ids += ",";
    ids += item.message.id;
  }
  return ids;
}

std::string joined_query(const queue::conversation_batch<pending_message>& batch) {
  std::string query;
  for (const auto& item : batch.items) {
    if (!query.empty()) query += "\n";
    query += item.message.text;
  }
  return query;
}

awaitable<robofy::chat_reply> ask_with_retries(const robofy::chat_request& request,
                                               const runtime_settings& settings,
                                               worker_context& context, const std::string& ids) {
  const int attempts = std::max(1, settings.config.robofy.max_attempts);
  robofy::chat_reply reply{};
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) co_await wait_before_retry(attempt - 1, settings, context.random);
    if (!context.robofy_breaker.allow(std::chrono::steady_clock::now())) {
      // Robofy has been failing: answer with the fallback now instead of adding to the storm.
      reply = robofy::chat_reply{};
      reply.outcome = robofy::chat_outcome::retry;
      reply.error_code = "circuit_open";
      reply.error_detail = "robofy keeps failing; calls are paused";
      spdlog::warn("robofy calls are paused after repeated failures; not asking for {}", ids);
      break;
    }
    ++context.counters.robofy_calls;
    reply = co_await context.chat.ask(settings.robofy(), request);
    if (reply.outcome == robofy::chat_outcome::retry) {
      context.robofy_breaker.on_failure(std::chrono::steady_clock::now());
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

// Sends one part; true when Meta accepted it.
awaitable<bool> send_with_retries(const graph_target& target, const webhook::inbound_message& to,
                                  const std::string& part, const runtime_settings& settings,
                                  worker_context& context, const std::string& ids) {
  using clock = std::chrono::steady_clock;
  const int attempts = std::max(1, settings.graph_max_attempts);
  const auto deadline = clock::now() + settings.graph_retry_deadline;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) co_await wait_before_retry(attempt - 1, settings, context.random);
    // While the Graph API keeps failing, wait for the breaker instead of calling: the reply is
    // still owed, so it waits (up to the deadline) rather than being dropped.
    while (!context.graph_breaker.allow(clock::now())) {
      const auto resume =
          std::max(context.graph_breaker.retry_at(), clock::now() + settings.retry_base_delay);
      if (resume > deadline) {
        spdlog::error(
            "graph send for {} abandoned: the Graph API kept failing past the retry "
            "deadline",
            ids);
        co_return false;
      }
      co_await sleep_for(resume - clock::now());
    }
    ++context.counters.graph_calls;
    const webhook::graph_reply reply =
        co_await context.sender.send_text(target, to.customer_id, to.customer_is_username, part);
    if (reply.outcome == webhook::graph_outcome::retry) {
      context.graph_breaker.on_failure(clock::now());
    } else {
      context.graph_breaker.on_success();
    }
    if (reply.outcome == webhook::graph_outcome::sent) co_return true;
    const bool final_try = reply.outcome == webhook::graph_outcome::permanent ||
                           attempt == attempts || clock::now() >= deadline;
    spdlog::log(final_try ? spdlog::level::err : spdlog::level::warn,
                "graph send for {} failed: HTTP {}, code {}, subcode {}: {} (fbtrace_id {}){}", ids,
                reply.http_status, reply.code, reply.subcode, reply.message, reply.fbtrace_id,
                final_try ? "; giving up" : ", retrying");
    if (final_try) break;
  }
  co_return false;
}

}  // namespace

awaitable<void> answer_batch(const queue::conversation_batch<pending_message>& batch,
                             const runtime_settings& settings, worker_context context) {
  if (batch.items.empty()) co_return;
  const webhook::inbound_message& first = batch.items.front().message;
  const bool redact = settings.config.logging.redact_phone_numbers;
  const std::string ids = ids_of(batch);
  const config::route* route = config::find_route(settings.config, first.phone_number_id);
  if (route == nullptr) {
    // The route was removed by a reload after these messages were accepted.
    ++context.counters.unrouted;
    spdlog::warn("no route for business number {} any more; not answering {}",
                 first.phone_number_id, ids);
    co_return;
  }

  const robofy::chat_request request{joined_query(batch), route->pid, route->chatbot_id,
                                     first.customer_id};
  spdlog::info("asking robofy for {} ({} message(s) from {})", ids, batch.items.size(),
               redact_id(first.customer_id, redact));
  spdlog::debug("query for {}: {}", ids, request.query);
  const robofy::chat_reply reply = co_await ask_with_retries(request, settings, context, ids);

  std::string answer;
  if (reply.outcome == robofy::chat_outcome::answered) {
    ++context.counters.answers;
    answer = reply.answer;
  } else {
    ++context.counters.fallbacks;
    spdlog::warn("robofy could not answer {} (status {}, {}: {}); sending the fallback text", ids,
                 reply.http_status, reply.error_code, reply.error_detail);
    answer = settings.config.replies.fallback_text;
  }

  const graph_target target = settings.graph_for(*route, first.phone_number_id);
  const std::vector<std::string> parts = webhook::split_text(answer);
  std::size_t sent = 0;
  for (const std::string& part : parts) {
    // Parts go one after another, each after Meta accepted the previous, so they arrive in order.
    if (!co_await send_with_retries(target, first, part, settings, context, ids)) break;
    ++sent;
    ++context.counters.parts_sent;
  }
  if (sent < parts.size()) {
    ++context.counters.send_failures;
    spdlog::error("reply for {} to {} not delivered: {} of {} part(s) sent", ids,
                  redact_id(first.customer_id, redact), sent, parts.size());
    co_return;
  }
  const auto waited = std::chrono::steady_clock::now() - batch.items.front().accepted_at;
  spdlog::info("answered {} to {} in {} part(s), {} ms after acceptance", ids,
               redact_id(first.customer_id, redact), parts.size(),
               std::chrono::duration_cast<std::chrono::milliseconds>(waited).count());
}

}  // namespace bridge
