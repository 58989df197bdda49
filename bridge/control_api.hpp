#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>

#include "bridge/runtime_settings.hpp"
#include "bridge/store/message_store.hpp"
#include "webhook/http/types.hpp"
#include "webhook/io/clock.hpp"

namespace bridge {

// The admin API's control paths (DESIGN.md §9), behind admin.token (admin_endpoint checks it):
//   POST   /v1/conversations/{phone_number_id}/{customer}/pause   body optional {"for": "2h"}
//   POST   /v1/conversations/{phone_number_id}/{customer}/resume
//   GET    /v1/conversations/paused
//   GET    /v1/dead-letters?limit=&after=&reason=
//   GET    /v1/dead-letters/{wamid}
//   POST   /v1/dead-letters/{wamid}/replay
//   DELETE /v1/dead-letters/{wamid}
// Answers are JSON; every change is logged with what changed (customers redacted as configured).
class control_api {
 public:
  control_api(std::shared_ptr<store::message_store> store,
              std::shared_ptr<webhook::io::clock> clock,
              std::function<std::shared_ptr<const runtime_settings>()> settings);

  // True for a path this API serves (/v1/...).
  static bool serves(std::string_view path) noexcept;
  // Answers one request to a path it serves. Never throws but std::bad_alloc.
  boost::asio::awaitable<webhook::http::response> handle(const webhook::http::request& req);

 private:
  boost::asio::awaitable<webhook::http::response> pause(const webhook::http::request& req,
                                                        std::string conversation);
  boost::asio::awaitable<webhook::http::response> resume(const webhook::http::request& req,
                                                         std::string conversation);
  boost::asio::awaitable<webhook::http::response> list_paused(const webhook::http::request& req);
  boost::asio::awaitable<webhook::http::response> list_dead_letters(
      const webhook::http::request& req);
  boost::asio::awaitable<webhook::http::response> dead_letter_action(
      const webhook::http::request& req, const std::string& wamid, std::string_view action);

  std::shared_ptr<store::message_store> store_;
  std::shared_ptr<webhook::io::clock> clock_;
  std::function<std::shared_ptr<const runtime_settings>()> settings_;
};

}  // namespace bridge
