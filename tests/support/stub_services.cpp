#include "tests/support/stub_services.hpp"

#include <spdlog/spdlog.h>

#include "robofy/chat_codec.hpp"
#include "webhook/meta/graph_codec.hpp"
#include "webhook/util/json_text.hpp"

namespace bridge::test {

namespace asio = boost::asio;
using webhook::meta::graph_reply;

quiet_logs::quiet_logs() : saved_level(spdlog::get_level()) {
  spdlog::set_level(spdlog::level::off);
}

quiet_logs::~quiet_logs() {
  spdlog::set_level(static_cast<spdlog::level::level_enum>(saved_level));
}

config::settings stub_config() {
  config::settings s;
  s.source_file = "(stub test)";
  s.meta.app_secret = "app-secret";
  s.meta.verify_token = "verify-token";
  s.meta.access_token = "graph-token";
  // Never contacted: the stubs answer instead.
  s.meta.graph_base_url = "https://graph.invalid";
  s.robofy.base_url = "https://robofy.invalid";
  s.robofy.api_key = "robofy-key";
  s.routes.push_back(config::route{"106", "pid-1", "bot-1", std::nullopt, 80});
  s.queue.capacity = 100;
  s.queue.workers = 4;
  s.replies.typing_indicator = false;
  s.logging.level = "off";
  return s;
}

std::shared_ptr<const runtime_settings> tuned(config::settings config,
                                              const std::function<void(runtime_settings&)>& tune) {
  auto settings = std::make_shared<runtime_settings>(*make_runtime_settings(std::move(config)));
  if (tune) tune(*settings);
  return settings;
}

namespace {
webhook::meta::inbound_message message_of(std::string id, std::string customer, std::string number,
                                          webhook::meta::message_kind kind, std::string type,
                                          webhook::meta::disposition disposition) {
  webhook::meta::inbound_message m;
  m.id = std::move(id);
  m.phone_number_id = std::move(number);
  m.customer_id = std::move(customer);
  m.kind = kind;
  m.type = std::move(type);
  m.disposition = disposition;
  return m;
}
}  // namespace

webhook::meta::inbound_message text_message(std::string id, std::string text, std::string customer,
                                            std::string number) {
  auto m =
      message_of(std::move(id), std::move(customer), std::move(number),
                 webhook::meta::message_kind::text, "text", webhook::meta::disposition::answer);
  m.text = std::move(text);
  return m;
}

webhook::meta::inbound_message voice_message(std::string id, std::string customer,
                                             std::string number) {
  return message_of(std::move(id), std::move(customer), std::move(number),
                    webhook::meta::message_kind::audio, "audio",
                    webhook::meta::disposition::unsupported);
}

webhook::meta::inbound_message reaction_message(std::string id, std::string customer,
                                                std::string number) {
  return message_of(std::move(id), std::move(customer), std::move(number),
                    webhook::meta::message_kind::reaction, "reaction",
                    webhook::meta::disposition::ignore);
}

robofy::chat_reply robofy_answer(std::string_view answer) {
  std::string body = R"({"message":"Success","data":{"answer":)";
  webhook::util::append_json_string(body, answer);
  body += "}}";
  return robofy::parse_chat_reply(200, body);
}

robofy::chat_reply robofy_error(int status) {
  return robofy::parse_chat_reply(
      status, R"({"message":"Failed","error":{"code":"stub","detail":"scripted failure"}})");
}

graph_reply graph_accepted(std::string_view outbound_id) {
  std::string body = R"({"messaging_product":"whatsapp","messages":[{"id":)";
  webhook::util::append_json_string(body, outbound_id);
  body += "}]}";
  return webhook::meta::parse_graph_reply(200, body);
}

graph_reply graph_error(int status, int code) {
  std::string body = R"({"error":{"message":"scripted","type":"OAuthException","code":)";
  webhook::util::append_json_number(body, code);
  body += R"(,"fbtrace_id":"trace"}})";
  return webhook::meta::parse_graph_reply(status, body);
}

asio::awaitable<robofy::chat_reply> stub_chat::ask(const robofy::client::chat_target& target,
                                                   const robofy::chat_request& request) {
  calls_.push_back(chat_call{target, request, clock_.now()});
  robofy::chat_reply reply;
  if (!script.empty()) {
    reply = std::move(script.front());
    script.pop_front();
  } else if (respond) {
    reply = respond(request);
  } else {
    reply = robofy_answer("answer to: " + request.query);
  }
  if (hold && hold(request)) co_await held_.park(request.session_id);
  co_return reply;
}

std::size_t stub_chat::release(std::string_view session) {
  return held_.wake_if([&](const std::string& s) { return session.empty() || s == session; });
}

std::size_t stub_chat::held() const {
  std::size_t count = 0;
  held_.for_each_waiting([&](const std::string&) { ++count; });
  return count;
}

std::vector<std::string> stub_chat::queries() const {
  std::vector<std::string> queries;
  for (const chat_call& call : calls_)
    queries.push_back(call.request.query);
  return queries;
}

asio::awaitable<void> stub_sender::maybe_hold(const graph_call& call) {
  if (hold && hold(call)) co_await held_.park(call.label());
}

asio::awaitable<graph_reply> stub_sender::send_text(const webhook::meta::graph_target& target,
                                                    const std::string& recipient,
                                                    bool recipient_is_username,
                                                    const std::string& body) {
  graph_call call;
  call.target = target;
  call.recipient = recipient;
  call.recipient_is_username = recipient_is_username;
  call.body = body;
  call.at = clock_.now();
  calls_.push_back(call);
  graph_reply reply;
  if (!script.empty()) {
    reply = std::move(script.front());
    script.pop_front();
  } else if (respond) {
    reply = respond(call);
  } else {
    reply = graph_accepted("wamid.out." + std::to_string(++accepted_));
  }
  co_await maybe_hold(call);
  co_return reply;
}

asio::awaitable<graph_reply> stub_sender::mark_read(const webhook::meta::graph_target& target,
                                                    const std::string& message_id, bool typing) {
  graph_call call;
  call.read = true;
  call.target = target;
  call.message_id = message_id;
  call.typing = typing;
  call.at = clock_.now();
  calls_.push_back(call);
  co_await maybe_hold(call);
  co_return webhook::meta::parse_graph_reply(200, R"({"success":true})");
}

std::size_t stub_sender::release(std::string_view label) {
  return held_.wake_if([&](const std::string& l) { return label.empty() || l == label; });
}

std::size_t stub_sender::held() const {
  std::size_t count = 0;
  held_.for_each_waiting([&](const std::string&) { ++count; });
  return count;
}

std::vector<graph_call> stub_sender::texts() const {
  std::vector<graph_call> texts;
  for (const graph_call& call : calls_) {
    if (!call.read) texts.push_back(call);
  }
  return texts;
}

std::vector<graph_call> stub_sender::reads() const {
  std::vector<graph_call> reads;
  for (const graph_call& call : calls_) {
    if (call.read) reads.push_back(call);
  }
  return reads;
}

std::vector<std::string> stub_sender::bodies() const {
  std::vector<std::string> bodies;
  for (const graph_call& call : calls_) {
    if (!call.read) bodies.push_back(call.body);
  }
  return bodies;
}

asio::awaitable<store::admission_result> scripted_store::admit(
    std::span<store::admission_entry> entries) {
  if (admit_error) {
    store::admission_result failed;
    failed.verdicts.assign(entries.size(), store::verdict::no_room);
    failed.error = admit_error;
    co_return failed;
  }
  co_return co_await inner_->admit(entries);
}

asio::awaitable<std::optional<store::claim>> scripted_store::claim_next() {
  co_return co_await inner_->claim_next();
}

asio::awaitable<boost::system::error_code> scripted_store::take_more(store::claim& held) {
  co_return co_await inner_->take_more(held);
}

asio::awaitable<boost::system::error_code> scripted_store::begin_send(
    const store::claim& held, std::span<const std::string> ids) {
  begun.emplace_back(ids.begin(), ids.end());
  if (begin_send_error) co_return begin_send_error;
  co_return co_await inner_->begin_send(held, ids);
}

asio::awaitable<boost::system::error_code> scripted_store::finish(
    const store::claim& held, std::span<const std::string> ids) {
  finished.emplace_back(ids.begin(), ids.end());
  co_return co_await inner_->finish(held, ids);
}

asio::awaitable<void> scripted_store::release(store::claim held) {
  released.push_back(held.conversation);
  co_await inner_->release(std::move(held));
}

asio::awaitable<boost::system::error_code> scripted_store::add_dead_letter(store::dead_letter d) {
  dead.push_back(d);
  co_return co_await inner_->add_dead_letter(std::move(d));
}

}  // namespace bridge::test
