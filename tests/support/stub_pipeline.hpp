#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "bridge/pipeline.hpp"
#include "tests/support/io_steps.hpp"
#include "tests/support/manual_clock.hpp"
#include "tests/support/stub_services.hpp"

namespace bridge::test {

// A pipeline over the stubs, on an io_context the test drives with poll() and a manual clock: no
// sockets, no threads (unless the store has a spool), no real waiting.
struct stub_pipeline {
  using store_factory =
      std::function<std::shared_ptr<store::message_store>(boost::asio::any_io_executor)>;

  // Runtime settings from `config` changed by `tune`; the store `make_store` makes (by default a
  // memory local_store of queue.capacity), wrapped in a scripted_store. The workers are started.
  explicit stub_pipeline(config::settings config = stub_config(),
                         const std::function<void(runtime_settings&)>& tune = {},
                         const store_factory& make_store = {});
  // Stops the pipeline (unless stop() did) and lets its workers end.
  ~stub_pipeline();

  // Runs pipeline::stop to its end: how many messages it reported left.
  std::size_t stop();

  // Runs pipeline::admit for a delivery of `messages` to its end (within a bounded time, for a
  // store whose writes complete on another thread) and returns its answer.
  webhook::meta::admission admit(std::vector<webhook::meta::inbound_message> messages);
  webhook::meta::admission admit(webhook::meta::delivery delivery);

  quiet_logs quiet;
  boost::asio::io_context io;
  std::shared_ptr<manual_clock> clock;
  std::shared_ptr<stub_chat> chat;
  std::shared_ptr<stub_sender> sender;
  std::shared_ptr<scripted_store> store;
  std::shared_ptr<const runtime_settings> settings;
  std::unique_ptr<pipeline> work;

 private:
  bool stopped_ = false;
};

}  // namespace bridge::test
