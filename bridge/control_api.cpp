#include "bridge/control_api.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <vector>

#include "config/duration.hpp"
#include "webhook/http/errors.hpp"
#include "webhook/http/query_string.hpp"
#include "webhook/util/json_text.hpp"
#include "webhook/util/redact.hpp"
#include "webhook/util/thread_dom_parser.hpp"

namespace bridge {

namespace asio = boost::asio;
namespace http = webhook::http;
using asio::awaitable;

namespace {

constexpr std::size_t default_page = 50;
constexpr std::size_t max_page = 500;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The path's segments after "/v1/", percent-decoded; nullopt for a malformed escape.
std::optional<std::vector<std::string>> segments_of(std::string_view path) {
  std::vector<std::string> out;
  path.remove_prefix(std::string_view("/v1/").size());
  while (!path.empty()) {
    const auto slash = path.find('/');
    const std::string_view raw = path.substr(0, slash);
    std::string decoded;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '%') {
        decoded += raw[i];
        continue;
      }
      if (i + 2 >= raw.size() || hex_digit(raw[i + 1]) < 0 || hex_digit(raw[i + 2]) < 0) {
        return std::nullopt;
      }
      decoded += static_cast<char>(hex_digit(raw[i + 1]) * 16 + hex_digit(raw[i + 2]));
      i += 2;
    }
    out.push_back(std::move(decoded));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

http::response json_answer(http::status status, std::string body, bool keep_alive) {
  return http::make_response(status, "application/json", std::move(body), keep_alive);
}

http::response error(http::status status, std::string_view code, std::string_view detail,
                     const http::request& req) {
  return http::make_error_response(status, code, detail, req.keep_alive());
}

// "for" of an optional JSON body {"for": "2h"}; nullopt (and `bad` set) for a malformed body.
std::optional<config::duration> pause_length(const http::request& req, bool& bad) {
  if (req.body().empty()) return std::nullopt;
  webhook::util::thread_dom_parser parser;
  simdjson::dom::object object;
  if (parser.parse(req.body()).get_object().get(object) != simdjson::SUCCESS) {
    bad = true;
    return std::nullopt;
  }
  std::string_view text;
  const auto field = object.at_key("for");
  if (field.error() == simdjson::NO_SUCH_FIELD) return std::nullopt;
  if (field.get_string().get(text) != simdjson::SUCCESS) {
    bad = true;
    return std::nullopt;
  }
  const auto length = config::parse_duration(text);
  if (!length || length->count() <= 0) {
    bad = true;
    return std::nullopt;
  }
  return length;
}

std::optional<std::size_t> page_size(const http::request& req) {
  const auto text = http::query_parameter(req.target(), "limit");
  if (!text) return default_page;
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end != text->data() + text->size() || value == 0 || value > max_page) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

control_api::control_api(std::shared_ptr<store::message_store> store,
                         std::shared_ptr<webhook::io::clock> clock,
                         std::function<std::shared_ptr<const runtime_settings>()> settings)
    : store_(std::move(store)), clock_(std::move(clock)), settings_(std::move(settings)) {}

bool control_api::serves(std::string_view path) noexcept {
  return path.starts_with("/v1/");
}

awaitable<http::response> control_api::handle(const http::request& req) {
  const auto segments = segments_of(http::target_path(req.target()));
  if (!segments || segments->empty()) {
    co_return error(http::status::bad_request, "bad_path", "malformed path", req);
  }
  const std::vector<std::string>& s = *segments;
  const http::verb method = req.method();
  if (s[0] == "conversations") {
    if (s.size() == 2 && s[1] == "paused" && method == http::verb::get) {
      co_return co_await list_paused(req);
    }
    if (s.size() == 4 && (s[3] == "pause" || s[3] == "resume")) {
      if (method != http::verb::post) {
        co_return error(http::status::method_not_allowed, "method_not_allowed", "use POST", req);
      }
      std::string conversation = s[1] + "/" + s[2];
      if (s[3] == "pause") co_return co_await pause(req, std::move(conversation));
      co_return co_await resume(req, std::move(conversation));
    }
  }
  if (s[0] == "dead-letters") {
    if (s.size() == 1 && method == http::verb::get) co_return co_await list_dead_letters(req);
    if (s.size() == 2 || (s.size() == 3 && s[2] == "replay")) {
      co_return co_await dead_letter_action(req, s[1], s.size() == 3 ? "replay" : "");
    }
  }
  co_return error(http::status::not_found, "not_found", "no such admin path", req);
}

awaitable<http::response> control_api::pause(const http::request& req, std::string conversation) {
  const auto settings = settings_();
  bool bad = false;
  const auto asked = pause_length(req, bad);
  if (bad) {
    co_return error(http::status::bad_request, "bad_body",
                    R"(the body is optional; when present, {"for": "<duration such as 2h>"})", req);
  }
  // Without "for", an operator's pause lasts as long as an echo's (12 h by default).
  const config::duration length =
      asked ? *asked
            : (settings->config.handover.pause_for.count() > 0 ? settings->config.handover.pause_for
                                                               : std::chrono::hours(12));
  const auto now = clock_->wall_now();
  store::pause p{conversation, now, now + length, "operator"};
  if (const auto ec = co_await store_->pause(p)) {
    co_return error(http::status::service_unavailable, "unavailable", ec.message(), req);
  }
  const bool redact = settings->config.logging.redact_phone_numbers;
  spdlog::info("admin: conversation {} paused by an operator until {}",
               webhook::util::redact_conversation(conversation, redact), store::iso_time(p.until));
  co_return json_answer(http::status::ok, store::encode_pause(p), req.keep_alive());
}

awaitable<http::response> control_api::resume(const http::request& req, std::string conversation) {
  const bool was_paused = co_await store_->resume(conversation);
  const bool redact = settings_()->config.logging.redact_phone_numbers;
  if (!was_paused) {
    co_return error(http::status::not_found, "not_paused", "the conversation is not paused", req);
  }
  spdlog::info("admin: conversation {} resumed by an operator; the AI answers its next message",
               webhook::util::redact_conversation(conversation, redact));
  co_return json_answer(http::status::ok, R"({"resumed":true})", req.keep_alive());
}

awaitable<http::response> control_api::list_paused(const http::request& req) {
  const std::vector<store::pause> paused = co_await store_->paused();
  std::string body = R"({"paused":[)";
  for (std::size_t i = 0; i < paused.size(); ++i) {
    if (i > 0) body += ',';
    body += store::encode_pause(paused[i]);
  }
  body += "]}";
  co_return json_answer(http::status::ok, std::move(body), req.keep_alive());
}

awaitable<http::response> control_api::list_dead_letters(const http::request& req) {
  const auto limit = page_size(req);
  if (!limit) {
    co_return error(http::status::bad_request, "bad_limit",
                    "limit must be a whole number from 1 to 500", req);
  }
  const std::string after = http::query_parameter(req.target(), "after").value_or("");
  const std::string reason = http::query_parameter(req.target(), "reason").value_or("");
  const auto letters = co_await store_->dead_letters(*limit + 1, after, reason);
  std::string body = R"({"dead_letters":[)";
  const std::size_t shown = std::min(letters.size(), *limit);
  for (std::size_t i = 0; i < shown; ++i) {
    if (i > 0) body += ',';
    body += store::encode_dead_letter(letters[i], false);
  }
  body += R"(],"next":)";
  // The cursor of the next page, when there is one: pass it as ?after=.
  if (letters.size() > *limit) {
    webhook::util::append_json_string(body, letters[shown - 1].wamid);
  } else {
    body += "null";
  }
  body += '}';
  co_return json_answer(http::status::ok, std::move(body), req.keep_alive());
}

awaitable<http::response> control_api::dead_letter_action(const http::request& req,
                                                          const std::string& wamid,
                                                          std::string_view action) {
  const http::verb method = req.method();
  if (action == "replay") {
    if (method != http::verb::post) {
      co_return error(http::status::method_not_allowed, "method_not_allowed", "use POST", req);
    }
    const auto result = co_await store_->replay(wamid, clock_->wall_now() - store::service_window);
    switch (result) {
      case store::replay_result::queued:
        spdlog::info("admin: dead letter {} replayed: queued for Robofy again", wamid);
        co_return json_answer(http::status::accepted, R"({"queued":true})", req.keep_alive());
      case store::replay_result::not_found:
        co_return error(http::status::not_found, "not_found",
                        "no such dead letter (replayed or deleted already?)", req);
      case store::replay_result::window_closed:
        co_return error(http::status::conflict, "outside_service_window",
                        "the customer's last message is older than 24 hours: WhatsApp would "
                        "refuse a free-form reply (131047); a template message is needed",
                        req);
      case store::replay_result::unavailable:
        break;
    }
    co_return error(http::status::service_unavailable, "unavailable",
                    "the store could not queue it now; try again", req);
  }
  if (method == http::verb::get) {
    const auto letter = co_await store_->find_dead_letter(wamid);
    if (!letter) co_return error(http::status::not_found, "not_found", "no such dead letter", req);
    co_return json_answer(http::status::ok, store::encode_dead_letter(*letter, false),
                          req.keep_alive());
  }
  if (method == http::verb::delete_) {
    if (!co_await store_->delete_dead_letter(wamid)) {
      co_return error(http::status::not_found, "not_found", "no such dead letter", req);
    }
    spdlog::info("admin: dead letter {} deleted", wamid);
    co_return json_answer(http::status::ok, R"({"deleted":true})", req.keep_alive());
  }
  co_return error(http::status::method_not_allowed, "method_not_allowed", "use GET or DELETE", req);
}

}  // namespace bridge
