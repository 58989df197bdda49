// Fuzzes the public HTTP request path up to (and just past) the signature check: the input is raw
// bytes from a client. They go through Beast's request parser with the listener's limits, the way
// webhook/http_listener.cpp reads them (up to a few pipelined requests per input), and every
// complete request is answered by webhook_endpoint::handle() on a local io_context.
//
// The invariant that matters: the delivery sink is reached only by a POST to the webhook path
// whose X-Hub-Signature-256 verifies over the exact body. The endpoint's other promises are
// checked too (404 off the path, 401 for a bad signature, 503 + Retry-After when the sink refuses,
// the handshake answers 200 only with the right token, each answer counted once under its name),
// as are the query-string helpers.
//
// Seeds are real signed requests (make_corpus.cpp). So that the fuzzer can also explore what lies
// behind the check, a request whose signature header is exactly "sha256=fuzz" is signed here before
// it is handled; the invariant is checked against the header as handled.
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/write.hpp>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "webhook/http/listener.hpp"
#include "webhook/http/query_string.hpp"
#include "webhook/meta/delivery_sink.hpp"
#include "webhook/meta/endpoint.hpp"
#include "webhook/meta/signature.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace wh = bridge::webhook::meta;
namespace wire = bridge::webhook::http;

constexpr std::string_view app_secret = "fuzz-app-secret";
constexpr std::string_view verify_token = "fuzz-verify-token";
constexpr std::string_view webhook_path = "/webhook";
constexpr std::string_view sign_here_marker = "sha256=fuzz";
constexpr int max_requests_per_input = 4;

void check(bool condition) {
  if (!condition) __builtin_trap();
}

// Counts what reaches it and answers as told.
class counting_sink final : public wh::delivery_sink {
 public:
  explicit counting_sink(wh::admission answer) : answer_(answer) {}

  asio::awaitable<wh::admission> admit(wh::delivery batch) override {
    ++calls;
    for (const wh::inbound_message& m : batch.messages) {
      check(!m.id.empty() && !m.customer_id.empty() && !m.phone_number_id.empty());
    }
    co_return answer_;
  }

  int calls = 0;

 private:
  wh::admission answer_;
};

// Reads one request from the front of `bytes` as the listener would (same limits); the peer is
// taken to close the connection where the bytes end. Returns the bytes used; `out` holds the
// request when one was complete and well-formed.
std::size_t read_request(std::string_view bytes, std::optional<wire::request>& out) {
  const wire::listener_limits limits;
  http::request_parser<http::string_body> parser;
  parser.body_limit(limits.max_body_bytes);
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  parser.eager(true);
  std::size_t used = 0;
  beast::error_code ec;
  while (!parser.is_done()) {
    const std::size_t n = parser.put(asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (ec == http::error::need_more) {
      ec = {};
      if (used < bytes.size() && n > 0) continue;
      parser.put_eof(ec);  // nothing more will arrive
      break;
    }
    if (ec || n == 0) break;
  }
  check(used <= bytes.size());
  if (!ec && parser.is_done()) out.emplace(parser.release());
  return used;
}

// Percent-encodes every byte but the unreserved ones, so query_parameter must give them back.
std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '_' || u == '.' || u == '~') {
      out.push_back(c);
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

void check_query_helpers(std::string_view target) {
  const std::string_view path = wire::target_path(target);
  check(target.substr(0, path.size()) == path);
  check(path.find('?') == std::string_view::npos);
  check(path.size() == target.size() || target[path.size()] == '?');
  for (const std::string_view name : {"hub.mode", "hub.verify_token", "hub.challenge", ""}) {
    const auto value = wire::query_parameter(target, name);
    if (path.size() == target.size()) check(!value);
    if (value) check(value->size() <= target.size());
  }
  // Any value survives encoding into a target and reading back out.
  const std::string_view value = target.substr(0, 256);
  const std::string encoded = "/webhook?x=1&hub.challenge=" + percent_encode(value) + "&y";
  const auto decoded = wire::query_parameter(encoded, "hub.challenge");
  check(decoded && *decoded == value);
  check(wire::target_path(encoded) == webhook_path);
}

std::string_view header_of(const wire::request& req, std::string_view name) {
  const auto it = req.find(name);
  return it == req.end() ? std::string_view{} : std::string_view{it->value()};
}

void handle_and_check(wire::request& req) {
  if (header_of(req, "X-Hub-Signature-256") == sign_here_marker) {
    req.set("X-Hub-Signature-256", wh::sign_body(app_secret, req.body()));
  }
  check_query_helpers(req.target());

  // The sink's answer is picked by the body so all three paths get explored.
  const auto answer = static_cast<wh::admission>(req.body().size() % 3);
  const auto sink = std::make_shared<counting_sink>(answer);
  wh::endpoint_settings settings;
  settings.path = std::string(webhook_path);
  settings.app_secret = std::string(app_secret);
  settings.verify_token = std::string(verify_token);
  wh::webhook_endpoint endpoint(sink, settings);

  // Taken before handle(): parse_delivery pads the body and must leave it as it was.
  const std::string body_before = req.body();
  const bool on_path = wire::target_path(req.target()) == webhook_path;
  const bool is_post = req.method() == http::verb::post;
  const bool signed_ok = wh::verify_signature(app_secret, header_of(req, "X-Hub-Signature-256"),
                                              req.body()) == wh::signature_status::ok;

  asio::io_context io;
  std::exception_ptr failure;
  std::optional<wire::response> res;
  asio::co_spawn(io, endpoint.handle(req), [&](std::exception_ptr e, wire::response r) {
    failure = e;
    if (!e) res.emplace(std::move(r));
  });
  io.run();
  // handle() must not throw: let the fuzzer report it.
  if (failure) std::rethrow_exception(failure);
  check(res.has_value());

  check(req.body() == body_before);
  check(sink->calls <= 1);
  if (sink->calls == 1) check(is_post && on_path && signed_ok);
  const http::status status = res->result();
  if (!on_path) check(status == http::status::not_found);
  if (on_path && is_post && !signed_ok) check(status == http::status::unauthorized);
  if (sink->calls == 1) {
    if (answer == wh::admission::accepted) {
      check(status == http::status::ok);
    } else {
      check(status == http::status::service_unavailable);
      check(res->find(http::field::retry_after) != res->end());
    }
  }
  if (on_path && req.method() == http::verb::get && status == http::status::ok) {
    check(wire::query_parameter(req.target(), "hub.mode") == "subscribe");
    check(wire::query_parameter(req.target(), "hub.verify_token") == verify_token);
    check(wire::query_parameter(req.target(), "hub.challenge") == res->body());
  }
  if (on_path && !is_post && req.method() != http::verb::get) {
    check(status == http::status::method_not_allowed);
  }

  // The metrics count each answer once, under its own name.
  const wh::endpoint_counters& c = endpoint.counters();
  check(c.accepted + c.ignored + c.bad_signature + c.bad_request + c.overloaded + c.draining +
            c.not_found + c.method_not_allowed + c.handshake_accepted + c.handshake_refused +
            c.handshake_bad_request <=
        1);
  check(c.accepted + c.overloaded + c.draining == static_cast<std::uint64_t>(sink->calls));
  check((c.bad_signature == 1) == (status == http::status::unauthorized));
  check((c.not_found == 1) == (status == http::status::not_found));
  check((c.method_not_allowed == 1) == (status == http::status::method_not_allowed));
  check((c.handshake_accepted == 1) ==
        (req.method() == http::verb::get && on_path && status == http::status::ok));

  // The listener writes the answer next: it must serialize.
  res->prepare_payload();
  std::ostringstream wire;
  wire << *res;
  check(!wire.str().empty());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // the endpoint logs every refusal
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The raw bytes as a target too: the helpers take any string.
  check_query_helpers(bytes.substr(0, 4096));
  for (int i = 0; i < max_requests_per_input && !bytes.empty(); ++i) {
    std::optional<wire::request> req;
    const std::size_t used = read_request(bytes, req);
    if (!req) break;  // the listener answers a read error and closes
    handle_and_check(*req);
    if (used == 0) break;
    bytes.remove_prefix(used);
  }
  return 0;
}
