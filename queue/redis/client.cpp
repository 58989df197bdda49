#include "queue/redis/client.hpp"

#include <spdlog/spdlog.h>

#include <utility>

namespace bridge::queue::redis {

namespace asio = boost::asio;
using asio::awaitable;
using boost::system::result;

namespace {

// The one reply of a one-command request.
awaitable<result<reply>> only_reply(awaitable<result<std::vector<reply>>> pending) {
  result<std::vector<reply>> replies = co_await std::move(pending);
  if (!replies) co_return replies.error();
  if (replies->size() != 1) co_return make_error_code(errc::protocol_error);
  co_return std::move(replies->front());
}

template <class Strings>
request evalsha(const script& s, const Strings& keys, const Strings& args) {
  const std::string key_count = std::to_string(keys.size());
  std::vector<std::string_view> parts{"EVALSHA", s.sha1(), key_count};
  parts.reserve(parts.size() + keys.size() + args.size());
  parts.insert(parts.end(), keys.begin(), keys.end());
  parts.insert(parts.end(), args.begin(), args.end());
  request call;
  call.push(std::span<const std::string_view>(parts));
  return call;
}

// EVALSHA; after NOSCRIPT, SCRIPT LOAD and the same EVALSHA in one round trip. The retry is safe:
// a script the server does not hold has not run.
awaitable<result<reply>> run_loaded(client& c, script s, request call) {
  result<std::vector<reply>> first = co_await c.execute(call);
  if (!first) co_return first.error();
  if (first->size() != 1) co_return make_error_code(errc::protocol_error);
  if (first->front().error_kind() != server_error::noscript) co_return std::move(first->front());

  request reload;
  reload.push({"SCRIPT", "LOAD", s.source()}).append(call);
  result<std::vector<reply>> second = co_await c.execute(std::move(reload));
  if (!second) co_return second.error();
  if (second->size() != 2) co_return make_error_code(errc::protocol_error);
  // A script that does not compile: its load error says why, the EVALSHA after it only NOSCRIPT.
  if ((*second)[0].is_error()) co_return std::move((*second)[0]);
  spdlog::info("redis: loaded script {} after NOSCRIPT", s.sha1());
  co_return std::move((*second)[1]);
}

}  // namespace

awaitable<result<reply>> client::command(std::initializer_list<std::string_view> args) {
  request req;
  req.push(args);
  return only_reply(execute(std::move(req)));
}

awaitable<result<reply>> client::command(std::span<const std::string_view> args) {
  request req;
  req.push(args);
  return only_reply(execute(std::move(req)));
}

awaitable<result<reply>> client::command(std::span<const std::string> args) {
  request req;
  req.push(args);
  return only_reply(execute(std::move(req)));
}

awaitable<result<reply>> client::run_script(script s, std::initializer_list<std::string_view> keys,
                                            std::initializer_list<std::string_view> args) {
  request call = evalsha(s, keys, args);
  return run_loaded(*this, std::move(s), std::move(call));
}

awaitable<result<reply>> client::run_script(script s, std::span<const std::string> keys,
                                            std::span<const std::string> args) {
  request call = evalsha(s, keys, args);
  return run_loaded(*this, std::move(s), std::move(call));
}

awaitable<result<reply>> client::run_script(script s, std::span<const std::string_view> keys,
                                            std::span<const std::string_view> args) {
  request call = evalsha(s, keys, args);
  return run_loaded(*this, std::move(s), std::move(call));
}

}  // namespace bridge::queue::redis
