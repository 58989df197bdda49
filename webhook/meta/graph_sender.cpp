#include "webhook/meta/graph_sender.hpp"

#include "webhook/http/json_request.hpp"

namespace bridge::webhook::meta {

namespace {

class graph_message_sender final : public message_sender {
 public:
  explicit graph_message_sender(std::shared_ptr<http::http_client> client)
      : client_(std::move(client)) {}

  boost::asio::awaitable<graph_reply> send_text(const graph_target& target,
                                                const std::string& recipient,
                                                bool recipient_is_username,
                                                const std::string& body) override {
    http::request req = http::json_post(messages_path(target),
                                        build_text_message(recipient, recipient_is_username, body));
    co_return co_await post(target, std::move(req));
  }

  boost::asio::awaitable<graph_reply> mark_read(const graph_target& target,
                                                const std::string& message_id,
                                                bool typing) override {
    co_return co_await post(
        target, http::json_post(messages_path(target), build_mark_read(message_id, typing)));
  }

 private:
  static std::string messages_path(const graph_target& target) {
    return "/" + target.api_version + "/" + target.phone_number_id + "/messages";
  }

  boost::asio::awaitable<graph_reply> post(const graph_target& target, http::request req) {
    req.set(http::field::authorization, "Bearer " + target.access_token);
    auto res = co_await client_->send(target.origin, std::move(req), target.timeout);
    if (!res) {
      graph_reply failed{};
      failed.outcome = graph_outcome::retry;
      failed.message = res.error().message();
      co_return failed;
    }
    co_return parse_graph_reply(static_cast<int>(res->result_int()), res->body());
  }

  std::shared_ptr<http::http_client> client_;
};

}  // namespace

std::shared_ptr<message_sender> make_graph_message_sender(
    std::shared_ptr<http::http_client> client) {
  return std::make_shared<graph_message_sender>(std::move(client));
}

}  // namespace bridge::webhook::meta
