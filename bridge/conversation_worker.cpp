#include "bridge/conversation_worker.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bridge/answer_limits.hpp"
#include "bridge/redact.hpp"
#include "webhook/format/text_split.hpp"
#include "webhook/format/whatsapp_format.hpp"
#include "webhook/util/backoff.hpp"

namespace bridge {

namespace asio = boost::asio;
using asio::awaitable;
using clock_type = std::chrono::steady_clock;

namespace {

awaitable<void> sleep_for(clock_type::duration delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

awaitable<void> wait_before_retry(int retry_number, const runtime_settings& settings,
                                  std::mt19937_64& random) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  co_await sleep_for(webhook::util::backoff_delay(retry_number, settings.retry_base_delay,
                                                  settings.retry_max_delay, unit(random)));
}

// The wamids of a batch, for log lines that must name every message they speak of.
std::string ids_of(const queue::conversation_batch<store::pending_message>& batch) {
  std::string ids;
  for (const auto& item : batch.items) {
    if (!ids.empty()) ids += ",";
    ids += item.message.id;
  }
  return ids;
}

// The Robofy query: every message to answer, in order, one per line.
std::string joined_query(const queue::conversation_batch<store::pending_message>& batch) {
  std::string query;
  for (const auto& item : batch.items) {
    if (item.message.disposition != webhook::meta::disposition::answer) continue;
    if (!query.empty()) query += "\n";
    query += item.message.text;
  }
  return query;
}

// Shows the customer their message was read, and "typing…" while an answer is prepared,
// refreshed until stop() because Meta hides the indicator after 25 s. Runs beside the answer and
// never holds it up; a failure is logged and that is all.
class read_receipt {
 public:
  read_receipt(const asio::any_io_executor& executor) : state_(std::make_shared<state>(executor)) {}
  read_receipt(const read_receipt&) = delete;
  read_receipt& operator=(const read_receipt&) = delete;
  ~read_receipt() { stop(); }

  void start(std::shared_ptr<const runtime_settings> settings, worker_context& context,
             webhook::meta::graph_target target, std::string message_id, bool typing) {
    asio::co_spawn(state_->timer.get_executor(),
                   run(state_, std::move(settings), context.sender, context.counters,
                       std::move(target), std::move(message_id), typing),
                   asio::detached);
  }
  void stop() {
    state_->stopped = true;
    state_->timer.cancel();
  }

 private:
  struct state {
    explicit state(const asio::any_io_executor& executor) : timer(executor) {}
    asio::steady_timer timer;
    bool stopped = false;
  };

  static awaitable<void> run(std::shared_ptr<state> st,
                             std::shared_ptr<const runtime_settings> settings,
                             webhook::meta::message_sender& sender, worker_counters& counters,
                             webhook::meta::graph_target target, std::string message_id,
                             bool typing) {
    for (;;) {
      ++counters.read_marks;
      const webhook::meta::graph_reply reply =
          co_await sender.mark_read(target, message_id, typing);
      if (reply.outcome != webhook::meta::graph_outcome::sent) {
        spdlog::warn("marking {} read failed: HTTP {}, code {}: {}", message_id, reply.http_status,
                     reply.code, reply.message);
      }
      if (!typing || st->stopped) co_return;
      st->timer.expires_after(settings->typing_refresh);
      co_await st->timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (st->stopped) co_return;
    }
  }

  std::shared_ptr<state> state_;
};

constexpr int pair_rate_limit_code = 131056;

const char* robofy_outcome_label(robofy::chat_outcome outcome) {
  switch (outcome) {
    case robofy::chat_outcome::answered:
      return "answered";
    case robofy::chat_outcome::retry:
      return "retryable_error";
    case robofy::chat_outcome::permanent:
      return "permanent_error";
  }
  return "unknown";
}

// Meta's error code, the HTTP status when there is none, or "none" for a message sent.
std::string graph_code_label(const webhook::meta::graph_reply& reply) {
  if (reply.outcome == webhook::meta::graph_outcome::sent) return "none";
  if (reply.code != 0) return std::to_string(reply.code);
  return "http_" + std::to_string(reply.http_status);
}

awaitable<robofy::chat_reply> ask_with_retries(const robofy::chat_request& request,
                                               const runtime_settings& settings,
                                               worker_context& context, const std::string& ids) {
  const int attempts = std::max(1, settings.config.robofy.max_attempts);
  robofy::chat_reply reply{};
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) co_await wait_before_retry(attempt - 1, settings, context.random);
    if (!context.robofy_breaker.allow(clock_type::now())) {
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
    const auto started = clock_type::now();
    reply = co_await context.chat.ask(settings.robofy(), request);
    context.counters.robofy_seconds.observe(clock_type::now() - started);
    ++context.counters.robofy_outcomes[robofy_outcome_label(reply.outcome)];
    if (reply.outcome == robofy::chat_outcome::retry) {
      context.robofy_breaker.on_failure(clock_type::now());
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

// Sends one part; the outbound wamid when Meta accepted it, nullopt when it was given up.
awaitable<std::optional<std::string>> send_with_retries(const webhook::meta::graph_target& target,
                                                        const webhook::meta::inbound_message& to,
                                                        std::uint32_t rate, const std::string& part,
                                                        const runtime_settings& settings,
                                                        worker_context& context,
                                                        const std::string& ids) {
  const int attempts = std::max(1, settings.graph_max_attempts);
  const auto deadline = clock_type::now() + settings.graph_retry_deadline;
  int pair_waits = 0;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) co_await wait_before_retry(attempt - 1, settings, context.random);
    // While the Graph API keeps failing, wait for the breaker instead of calling: the reply is
    // still owed, so it waits (up to the deadline) rather than being dropped.
    while (!context.graph_breaker.allow(clock_type::now())) {
      const auto resume =
          std::max(context.graph_breaker.retry_at(), clock_type::now() + settings.retry_base_delay);
      if (resume > deadline) {
        spdlog::error(
            "graph send for {} abandoned: the Graph API kept failing past the retry "
            "deadline",
            ids);
        co_return std::nullopt;
      }
      co_await sleep_for(resume - clock_type::now());
    }
    // Stay under the number's throughput limit.
    const auto pace = context.pacer.reserve(target.phone_number_id, rate, clock_type::now());
    if (pace > clock_type::duration::zero()) co_await sleep_for(pace);

    ++context.counters.graph_calls;
    const auto started = clock_type::now();
    const webhook::meta::graph_reply reply =
        co_await context.sender.send_text(target, to.customer_id, to.customer_is_username, part);
    context.counters.graph_seconds.observe(clock_type::now() - started);
    ++context.counters.graph_outcomes[{std::string(webhook::meta::to_string(reply.outcome)),
                                       graph_code_label(reply)}];
    if (reply.outcome == webhook::meta::graph_outcome::sent) {
      context.graph_breaker.on_success();
      co_return reply.message_id;
    }
    if (reply.code == pair_rate_limit_code) {
      // Too many messages to this one customer: wait 4^n times the base for them alone; the
      // Graph API itself is fine, and other conversations go on.
      context.graph_breaker.on_success();
      ++context.counters.pair_limited;
      const auto wait = settings.pair_limit_base * (1LL << (2 * std::min(pair_waits, 8)));
      ++pair_waits;
      if (clock_type::now() + wait > deadline) {
        spdlog::error("graph send for {} abandoned: pair rate limit (131056) past the deadline",
                      ids);
        co_return std::nullopt;
      }
      spdlog::warn("pair rate limit (131056) for {}; retrying in {} ms", ids, wait.count());
      co_await sleep_for(wait);
      --attempt;  // waiting out the pair limit is not a failed attempt
      continue;
    }
    if (reply.outcome == webhook::meta::graph_outcome::retry) {
      context.graph_breaker.on_failure(clock_type::now());
    } else {
      context.graph_breaker.on_success();
    }
    const bool final_try = reply.outcome == webhook::meta::graph_outcome::permanent ||
                           attempt == attempts || clock_type::now() >= deadline;
    spdlog::log(final_try ? spdlog::level::err : spdlog::level::warn,
                "graph send for {} failed: HTTP {}, code {}, subcode {}: {} (fbtrace_id {}){}", ids,
                reply.http_status, reply.code, reply.subcode, reply.message, reply.fbtrace_id,
                final_try ? "; giving up" : ", retrying");
    if (final_try) break;
  }
  co_return std::nullopt;
}

}  // namespace

awaitable<void> answer_batch(const queue::conversation_batch<store::pending_message>& batch,
                             std::shared_ptr<const runtime_settings> settings_ptr,
                             worker_context context) {
  if (batch.items.empty()) co_return;
  const runtime_settings& settings = *settings_ptr;
  const webhook::meta::inbound_message& first = batch.items.front().message;
  const webhook::meta::inbound_message& last = batch.items.back().message;
  const bool redact = settings.config.logging.redact_phone_numbers;
  const std::string ids = ids_of(batch);
  const std::string customer = redact_id(first.customer_id, redact);
  const config::route* route = config::find_route(settings.config, first.phone_number_id);
  if (route == nullptr) {
    // The route was removed by a reload after these messages were accepted.
    ++context.counters.unrouted;
    spdlog::warn("no route for business number {} any more; not answering {}",
                 first.phone_number_id, ids);
    co_return;
  }
  const webhook::meta::graph_target target = settings.graph_for(*route, first.phone_number_id);
  const std::string query = joined_query(batch);
  read_receipt receipt(co_await asio::this_coro::executor);

  std::string answer;
  if (query.empty()) {
    // Only messages the bridge cannot read (voice notes, stickers, media without a caption).
    ++context.counters.unsupported;
    if (settings.config.replies.typing_indicator) {
      receipt.start(settings_ptr, context, target, last.id, false);
    }
    answer = settings.config.replies.unsupported_text;
    spdlog::info("{} from {}: nothing the bridge can read; sending the unsupported text", ids,
                 customer);
  } else {
    if (settings.config.replies.typing_indicator) {
      receipt.start(settings_ptr, context, target, last.id, true);
    }
    const robofy::chat_request request{query, route->pid, route->chatbot_id, first.customer_id};
    spdlog::info("asking robofy for {} ({} message(s) from {})", ids, batch.items.size(), customer);
    spdlog::debug("query for {}: {}", ids, request.query);
    const robofy::chat_reply reply = co_await ask_with_retries(request, settings, context, ids);
    if (reply.outcome == robofy::chat_outcome::answered) {
      ++context.counters.answers;
      // Robofy writes Markdown; WhatsApp has its own markup. The operator's own reply texts are
      // sent as written.
      answer = webhook::format::to_whatsapp(reply.answer);
    } else {
      ++context.counters.fallbacks;
      spdlog::warn("robofy could not answer {} (status {}, {}: {}); sending the fallback text", ids,
                   reply.http_status, reply.error_code, reply.error_detail);
      answer = settings.config.replies.fallback_text;
    }
  }
  receipt.stop();

  const answer_split split =
      answer_parts(answer, settings.config.replies.max_parts, settings.config.replies.cut_notice);
  const std::vector<std::string>& parts = split.parts;
  if (split.cut) {
    ++context.counters.answers_cut;
    spdlog::warn("answer for {} cut to {} WhatsApp messages (replies.max_parts)", ids,
                 parts.size());
  }
  std::size_t sent = 0;
  for (const std::string& part : parts) {
    // Parts go one after another, each after Meta accepted the previous, so they arrive in order.
    const auto outbound_id = co_await send_with_retries(target, first, route->messages_per_second,
                                                        part, settings, context, ids);
    if (!outbound_id) break;
    context.sent.remember(*outbound_id, sent_index::entry{customer, ids});
    ++sent;
    ++context.counters.parts_sent;
  }
  if (sent < parts.size()) {
    ++context.counters.send_failures;
    spdlog::error("reply for {} to {} not delivered: {} of {} part(s) sent", ids, customer, sent,
                  parts.size());
    co_return;
  }
  const auto waited = clock_type::now() - batch.items.front().accepted_at;
  context.counters.message_seconds.observe(waited);
  spdlog::info("answered {} to {} in {} part(s), {} ms after acceptance", ids, customer,
               parts.size(), std::chrono::duration_cast<std::chrono::milliseconds>(waited).count());
}

}  // namespace bridge
