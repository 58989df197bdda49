#include "queue/redis/discovery.hpp"

#include <string>
#include <vector>

#include "queue/redis/errc.hpp"
#include "queue/redis/request.hpp"

namespace bridge::queue::redis {

namespace asio = boost::asio;
using asio::awaitable;
using clock_type = std::chrono::steady_clock;

url sentinel_url(const url& primary, const server_address& where) {
  url out;
  out.tls = primary.tls;
  out.host = where.host;
  out.port = where.port;
  return out;
}

url primary_url(const url& primary, const server_address& where) {
  url out = primary;
  out.host = where.host;
  out.port = where.port;
  return out;
}

awaitable<discovery> ask_sentinels(const asio::any_io_executor& executor, asio::ssl::context* tls,
                                   const url& primary, const sentinel_options& sentinels,
                                   std::size_t first, std::chrono::milliseconds timeout,
                                   std::unique_ptr<session>& current) {
  discovery out;
  std::string reasons;
  const std::size_t count = sentinels.addresses.size();
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t index = (first + i) % count;
    const server_address& where = sentinels.addresses[index];
    const auto deadline = clock_type::now() + timeout;
    current = std::make_unique<session>(executor, tls);
    std::optional<setup_error> failed =
        co_await current->open(sentinel_url(primary, where), sentinels.password, deadline);
    std::vector<reply> answer;
    if (!failed) {
      request ask;
      ask.push({"SENTINEL", "GET-MASTER-ADDR-BY-NAME", sentinels.master_name});
      failed = co_await current->round_trip(ask, deadline, answer, "SENTINEL GET-MASTER-ADDR");
    }
    const bool closed = current->stream.closed_by_owner();
    current.reset();
    if (!failed) {
      if (auto named = parse_master_address(answer.front())) {
        out.primary = std::move(*named);
        out.answered_by = index;
        co_return out;
      }
      failed = setup_error{make_error_code(errc::no_primary),
                           answer.front().is_error()
                               ? std::string(answer.front().error_message())
                               : "it does not know master " + sentinels.master_name};
    }
    if (!reasons.empty()) reasons += "; ";
    reasons += "sentinel " + where.to_string() + ": " + failed->detail;
    if (closed) break;  // the owner closed it: stop asking
  }
  out.failure = setup_error{make_error_code(errc::no_primary),
                            reasons.empty() ? "no sentinel configured" : reasons};
  co_return out;
}

awaitable<std::optional<setup_error>> check_primary(session& s, clock_type::time_point deadline) {
  request role;
  role.push({"ROLE"});
  std::vector<reply> answer;
  if (auto failed = co_await s.round_trip(role, deadline, answer, "ROLE")) co_return failed;
  const std::string_view said = role_of(answer.front());
  if (said == "master") co_return std::nullopt;
  co_return setup_error{make_error_code(errc::no_primary),
                        "it is not the primary: ROLE says " +
                            (said.empty() ? answer.front().describe() : std::string(said))};
}

}  // namespace bridge::queue::redis
