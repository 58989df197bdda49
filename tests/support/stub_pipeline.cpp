#include "tests/support/stub_pipeline.hpp"

#include <boost/asio/co_spawn.hpp>
#include <optional>

#include "bridge/store/local_store.hpp"
#include "tests/support/io_steps.hpp"

namespace bridge::test {

stub_pipeline::stub_pipeline(config::settings config,
                             const std::function<void(runtime_settings&)>& tune,
                             const store_factory& make_store)
    : clock(std::make_shared<manual_clock>(io)),
      chat(std::make_shared<stub_chat>(*clock)),
      sender(std::make_shared<stub_sender>(*clock)) {
  settings = tuned(std::move(config), tune);
  std::shared_ptr<store::message_store> inner =
      make_store
          ? make_store(io.get_executor())
          : std::make_shared<store::local_store>(io.get_executor(), settings->config.queue.capacity,
                                                 nullptr, queue::spool_recovery{}, clock);
  store = std::make_shared<scripted_store>(std::move(inner));
  work = std::make_unique<pipeline>(io.get_executor(), settings,
                                    pipeline_services{store, chat, sender, clock});
  work->start();
  settle(io);
}

stub_pipeline::~stub_pipeline() {
  if (!stopped_) stop();
}

std::size_t stub_pipeline::stop() {
  stopped_ = true;
  std::optional<std::size_t> left;
  boost::asio::co_spawn(io, work->stop(), [&](std::exception_ptr e, std::size_t n) {
    if (e) std::rethrow_exception(e);
    left = n;
  });
  settle(io);
  if (!left) throw std::runtime_error("pipeline::stop did not complete");
  return *left;
}

webhook::meta::admission stub_pipeline::admit(
    std::vector<webhook::meta::inbound_message> messages) {
  webhook::meta::delivery delivery;
  delivery.messages = std::move(messages);
  return admit(std::move(delivery));
}

webhook::meta::admission stub_pipeline::admit(webhook::meta::delivery delivery) {
  std::optional<webhook::meta::admission> answer;
  boost::asio::co_spawn(io, work->admit(std::move(delivery)),
                        [&](std::exception_ptr e, webhook::meta::admission a) {
                          if (e) std::rethrow_exception(e);
                          answer = a;
                        });
  if (!run_until(io, [&] { return answer.has_value(); })) {
    throw std::runtime_error("pipeline::admit did not complete");
  }
  settle(io);
  return *answer;
}

}  // namespace bridge::test
