#include "robofy/client/chat_service.hpp"

#include "webhook/http/json_request.hpp"

namespace bridge::robofy::client {

namespace {

namespace http = webhook::http;

class http_chat_service final : public chat_service {
 public:
  explicit http_chat_service(std::shared_ptr<http::http_client> client)
      : client_(std::move(client)) {}

  boost::asio::awaitable<chat_reply> ask(const chat_target& target,
                                         const chat_request& request) override {
    http::request req = http::json_post(std::string(chat_path), build_chat_body(request));
    const header_field auth = auth_header_for(target.auth, target.api_key);
    req.set(auth.name, auth.value);
    auto res = co_await client_->send(target.origin, std::move(req), target.timeout);
    if (!res) {
      chat_reply failed{};
      // An answer over the response limit would be just as large if asked again.
      const bool too_large = res.error() == http::error::body_limit;
      failed.outcome = too_large ? chat_outcome::permanent : chat_outcome::retry;
      failed.error_code = too_large ? "answer_too_large" : "transport";
      failed.error_detail = res.error().message();
      co_return failed;
    }
    co_return parse_chat_reply(static_cast<int>(res->result_int()), res->body());
  }

 private:
  std::shared_ptr<http::http_client> client_;
};

}  // namespace

std::shared_ptr<chat_service> make_chat_service(
    std::shared_ptr<webhook::http::http_client> client) {
  return std::make_shared<http_chat_service>(std::move(client));
}

}  // namespace bridge::robofy::client
