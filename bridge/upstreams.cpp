#include "bridge/upstreams.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

namespace bridge {

namespace http = webhook::http;

namespace {

webhook::request json_post(std::string target, std::string body) {
  webhook::request req{http::verb::post, target, 11};
  req.set(http::field::content_type, "application/json");
  req.set(http::field::accept, "application/json");
  req.body() = std::move(body);
  return req;
}

class robofy_chat_service final : public chat_service {
 public:
  explicit robofy_chat_service(std::shared_ptr<http_client> client) : client_(std::move(client)) {}

  boost::asio::awaitable<robofy::chat_reply> ask(const robofy_target& target,
                                                 const robofy::chat_request& request) override {
    webhook::request req =
        json_post(std::string(robofy::chat_path), robofy::build_chat_body(request));
    const robofy::header_field auth = robofy::auth_header_for(target.auth, target.api_key);
    req.set(auth.name, auth.value);
    auto res = co_await client_->send(target.origin, std::move(req), target.timeout);
    if (!res) {
      robofy::chat_reply failed{};
      // An answer over the response limit would be just as large if asked again.
      const bool too_large = res.error() == http::error::body_limit;
      failed.outcome = too_large ? robofy::chat_outcome::permanent : robofy::chat_outcome::retry;
      failed.error_code = too_large ? "answer_too_large" : "transport";
      failed.error_detail = res.error().message();
      co_return failed;
    }
    co_return robofy::parse_chat_reply(static_cast<int>(res->result_int()), res->body());
  }

 private:
  std::shared_ptr<http_client> client_;
};

class graph_message_sender final : public message_sender {
 public:
  explicit graph_message_sender(std::shared_ptr<http_client> client) : client_(std::move(client)) {}

  boost::asio::awaitable<webhook::graph_reply> send_text(const graph_target& target,
                                                         const std::string& recipient,
                                                         bool recipient_is_username,
                                                         const std::string& body) override {
    webhook::request req = json_post(
        messages_path(target), webhook::build_text_message(recipient, recipient_is_username, body));
    co_return co_await post(target, std::move(req));
  }

  boost::asio::awaitable<webhook::graph_reply> mark_read(const graph_target& target,
                                                         const std::string& message_id,
                                                         bool typing) override {
    co_return co_await post(
        target, json_post(messages_path(target), webhook::build_mark_read(message_id, typing)));
  }

 private:
  static std::string messages_path(const graph_target& target) {
    return "/" + target.api_version + "/" + target.phone_number_id + "/messages";
  }

  boost::asio::awaitable<webhook::graph_reply> post(const graph_target& target,
                                                    webhook::request req) {
    req.set(http::field::authorization, "Bearer " + target.access_token);
    auto res = co_await client_->send(target.origin, std::move(req), target.timeout);
    if (!res) {
      webhook::graph_reply failed{};
      failed.outcome = webhook::graph_outcome::retry;
      failed.message = res.error().message();
      co_return failed;
    }
    co_return webhook::parse_graph_reply(static_cast<int>(res->result_int()), res->body());
  }

 private:
  std::shared_ptr<http_client> client_;
};

}  // namespace

std::shared_ptr<chat_service> make_robofy_chat_service(std::shared_ptr<http_client> client) {
  return std::make_shared<robofy_chat_service>(std::move(client));
}

std::shared_ptr<message_sender> make_graph_message_sender(std::shared_ptr<http_client> client) {
  return std::make_shared<graph_message_sender>(std::move(client));
}

}  // namespace bridge
