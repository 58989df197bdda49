#include "tests/support/fake_upstream.hpp"

#include <boost/algorithm/string/case_conv.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace bridge::test {

namespace asio = boost::asio;
namespace http = webhook::http;

std::string recorded_request::header(const std::string& name) const {
  auto it = headers.find(boost::algorithm::to_lower_copy(name));
  return it == headers.end() ? std::string{} : it->second;
}

struct fake_upstream::shared_state {
  explicit shared_state(asio::any_io_executor executor, responder r)
      : answer(std::move(r)), gate(executor, asio::steady_timer::time_point::max()) {}
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::vector<recorded_request> requests;
  responder answer;
  asio::steady_timer gate;  // held answers wait on it; release_held() cancels it
  bool released = false;    // only touched on the io_context's thread
};

namespace {

class recording_handler final : public webhook::http::request_handler {
 public:
  explicit recording_handler(std::shared_ptr<fake_upstream::shared_state> state)
      : state_(std::move(state)) {}

  asio::awaitable<webhook::http::response> handle(webhook::http::request& req) override {
    recorded_request seen;
    seen.method = std::string(req.method_string());
    seen.target = std::string(req.target());
    for (const auto& field : req) {
      seen.headers[boost::algorithm::to_lower_copy(std::string(field.name_string()))] =
          std::string(field.value());
    }
    seen.body = req.body();
    seen.received_at = std::chrono::steady_clock::now();
    responder answer;
    {
      std::lock_guard lock(state_->mutex);
      answer = state_->answer;
    }
    const canned_reply reply = answer(seen);
    {
      std::lock_guard lock(state_->mutex);
      state_->requests.push_back(seen);
    }
    state_->changed.notify_all();
    if (reply.delay.count() > 0) {
      asio::steady_timer wait(co_await asio::this_coro::executor, reply.delay);
      co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    while (reply.hold && !state_->released) {
      co_await state_->gate.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    webhook::http::response res{static_cast<http::status>(reply.status), req.version()};
    res.set(http::field::content_type, reply.content_type);
    res.body() = reply.body;
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    co_return res;
  }

 private:
  std::shared_ptr<fake_upstream::shared_state> state_;
};

}  // namespace

fake_upstream::fake_upstream(asio::any_io_executor executor, responder answer,
                             std::shared_ptr<asio::ssl::context> tls, std::uint16_t port)
    : state_(std::make_shared<shared_state>(executor, std::move(answer))), tls_(tls != nullptr) {
  webhook::http::listener_limits limits;
  limits.max_body_bytes = 8 * 1024 * 1024;
  // A fake upstream answers when its responder says (a delay, a held reply): the listener's
  // handler deadline, meant for the bridge's own journal and Redis, must not cut a slow fake
  // upstream short with a 503 (the bench's Robofy that holds every answer for 600 s).
  limits.handler_timeout = std::chrono::hours(24);
  listener_ = std::make_unique<webhook::http::http_listener>(
      executor, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
      std::make_shared<recording_handler>(state_), limits, std::move(tls));
}

fake_upstream::~fake_upstream() = default;

std::string fake_upstream::base_url() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port());
}

std::uint16_t fake_upstream::port() const {
  return listener_->local_endpoint().port();
}
void fake_upstream::start() {
  listener_->start();
}
void fake_upstream::stop() {
  listener_->stop();
}

std::vector<recorded_request> fake_upstream::requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->requests;
}

std::size_t fake_upstream::request_count() const {
  std::lock_guard lock(state_->mutex);
  return state_->requests.size();
}

bool fake_upstream::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  return wait_until([n](const auto& requests) { return requests.size() >= n; }, timeout);
}

bool fake_upstream::wait_until(
    const std::function<bool(const std::vector<recorded_request>&)>& pred,
    std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, timeout, [&] { return pred(state_->requests); });
}

void fake_upstream::set_responder(responder answer) {
  std::lock_guard lock(state_->mutex);
  state_->answer = std::move(answer);
}

void fake_upstream::release_held() {
  asio::post(state_->gate.get_executor(), [state = state_] {
    state->released = true;
    state->gate.cancel();
  });
}

}  // namespace bridge::test
