// robofy-wa-simulator: plays Meta, Robofy and the Graph API on loopback so the bridge can be run
// and watched without any credentials. It serves a fake Robofy and a fake Graph API, then sends
// signed webhook deliveries to the bridge as Meta would, and prints every reply the bridge sends.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "webhook/util/redact.hpp"
#include "config/duration.hpp"
#include "tests/support/fake_services.hpp"
#include "tests/support/fake_upstream.hpp"
#include "tests/support/meta_payloads.hpp"
#include "webhook/http/client.hpp"
#include "webhook/meta/signature.hpp"

namespace asio = boost::asio;
namespace http = bridge::webhook::http;
using namespace bridge::test;

namespace {

struct options {
  std::vector<std::string> bridge_urls{"http://127.0.0.1:8080/webhook"};  // spread round-robin
  std::vector<std::string> ready_urls{"http://127.0.0.1:9090/readyz"};    // each must be ready
  std::uint16_t robofy_port = 18081;
  std::uint16_t graph_port = 18082;
  std::string app_secret = "simulator-app-secret";
  std::chrono::milliseconds interval{3000};
  int messages = 0;  // 0: keep sending until stopped
};

const char* usage =
    "Usage: robofy-wa-simulator [--bridge-url URL[,URL...]] [--ready-url URL[,URL...]]\n"
    "                           [--robofy-port N]\n"
    "                           [--graph-port N] [--app-secret S] [--interval 3s] [--messages N]\n"
    "Serves a fake Robofy (--robofy-port) and a fake Graph API (--graph-port) on 127.0.0.1,\n"
    "waits for the bridge's --ready-url, then POSTs signed WhatsApp messages to --bridge-url "
    "every\n"
    "--interval (--messages N stops after N answered messages; 0 runs until Ctrl-C). Several\n"
    "bridge URLs (replicas) take the deliveries in turn; every ready URL must answer 200 first.\n";

// The comma-separated items of `text`.
std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    const auto comma = text.find(',');
    if (comma != 0) items.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

bool parse_port(std::string_view text, std::uint16_t& port) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
    return false;
  }
  port = static_cast<std::uint16_t>(value);
  return true;
}

std::optional<options> parse_options(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help") return std::nullopt;
    if (i + 1 >= argc) {
      std::cerr << "robofy-wa-simulator: " << arg << " needs a value\n";
      return std::nullopt;
    }
    const std::string_view value = argv[++i];
    bool ok = true;
    if (arg == "--bridge-url") {
      o.bridge_urls = split_list(value);
      ok = !o.bridge_urls.empty();
    } else if (arg == "--ready-url") {
      o.ready_urls = split_list(value);
      ok = !o.ready_urls.empty();
    } else if (arg == "--robofy-port") {
      ok = parse_port(value, o.robofy_port);
    } else if (arg == "--graph-port") {
      ok = parse_port(value, o.graph_port);
    } else if (arg == "--app-secret") {
      o.app_secret = value;
    } else if (arg == "--interval") {
      auto d = bridge::config::parse_duration(value);
      ok = d && d->count() > 0;
      if (ok) o.interval = *d;
    } else if (arg == "--messages") {
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), o.messages);
      ok = ec == std::errc{} && end == value.data() + value.size() && o.messages >= 0;
    } else {
      std::cerr << "robofy-wa-simulator: unknown argument " << arg << "\n";
      return std::nullopt;
    }
    if (!ok) {
      std::cerr << "robofy-wa-simulator: bad value for " << arg << ": " << value << "\n";
      return std::nullopt;
    }
  }
  return o;
}

void say(const std::string& line) {
  std::cout << "[simulator] " << line << std::endl;
}

// Splits "http://host:port/path" into the origin and the path.
std::pair<bridge::webhook::http::upstream_origin, std::string> split_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  const auto path_start = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  const std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  auto origin = bridge::webhook::http::parse_base_url(url.substr(0, path_start));
  if (!origin) throw std::invalid_argument("not an http(s) URL: " + url);
  return {*origin, path};
}

const std::vector<std::pair<std::string, std::string>> customers = {
    {"919876543210", "Asha"}, {"447700900123", "Tom"}, {"5511987654321", "Lucia"}};
const std::vector<std::string> questions = {
    "Hi! What are your opening hours?", "Do you deliver on Sundays?", "How much is the Pro plan?",
    "Can I change my booking to Friday?", "Thanks, that's all!"};

asio::awaitable<bool> wait_until_ready(bridge::webhook::http::http_client& client,
                                       const std::string& ready_url) {
  auto [origin, path] = split_url(ready_url);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int attempt = 0; attempt < 600; ++attempt) {
    auto res = co_await client.send(
        origin, bridge::webhook::http::request{http::verb::get, path, 11}, std::chrono::seconds(2));
    if (res && res->result() == http::status::ok) co_return true;
    timer.expires_after(std::chrono::milliseconds(100));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return false;
}

asio::awaitable<void> play_meta(const options& o, bridge::webhook::http::http_client& client,
                                fake_upstream& graph, asio::io_context& io, int& exit_code) {
  for (const std::string& ready_url : o.ready_urls) {
    say("waiting for the bridge at " + ready_url);
    if (!co_await wait_until_ready(client, ready_url)) {
      say("the bridge never became ready; giving up");
      exit_code = 1;
      io.stop();
      co_return;
    }
  }
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int n = 0; o.messages == 0 || n < o.messages; ++n) {
    const auto& [wa_id, name] = customers[n % customers.size()];
    const std::string& question = questions[n % questions.size()];
    const std::string wamid = "wamid.sim." + std::to_string(n);
    const std::string& bridge_url = o.bridge_urls[n % o.bridge_urls.size()];
    auto [origin, path] = split_url(bridge_url);
    const std::string body =
        delivery_body({text_message{"106540352242922", wa_id, wamid, question}});
    bridge::webhook::http::request req{http::verb::post, path, 11};
    req.set(http::field::content_type, "application/json");
    req.set("X-Hub-Signature-256", bridge::webhook::meta::sign_body(o.app_secret, body));
    req.body() = body;
    say("Meta -> bridge" +
        (o.bridge_urls.size() > 1 ? " " + std::to_string(n % o.bridge_urls.size() + 1) : "") +
        ": " + name + " (" + bridge::webhook::util::redact_id(wa_id, true) + ") writes \"" + question + "\" [" +
        wamid + "]");
    auto res = co_await client.send(origin, std::move(req), std::chrono::seconds(5));
    if (!res) {
      say("bridge did not answer the webhook: " + res.error().message());
    } else {
      say("bridge -> Meta: HTTP " + std::to_string(res->result_int()));
    }
    timer.expires_after(o.interval);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  // Give the last answer the same interval to arrive, then report and stop.
  const std::size_t answered = text_sends(graph.requests()).size();
  const bool all_answered = answered >= static_cast<std::size_t>(o.messages);
  say(std::to_string(answered) + " of " + std::to_string(o.messages) +
      " messages answered on WhatsApp");
  exit_code = all_answered ? 0 : 1;
  io.stop();
}

}  // namespace

int main(int argc, char** argv) {
  const auto parsed = parse_options(argc, argv);
  if (!parsed) {
    std::cerr << usage;
    return 2;
  }
  const options o = *parsed;
  try {
    asio::io_context io(1);
    fake_upstream robofy(
        io.get_executor(),
        [](const recorded_request& req) {
          const auto asked = parse_robofy_request(req.body);
          say("bridge -> Robofy: agent " + asked.chatbot_id + " asked \"" + asked.query +
              "\" for session " + bridge::webhook::util::redact_id(asked.session_id, true));
          return robofy_answering([](const robofy_request_fields& f) {
            return "Thanks for your message! You asked: \"" + f.query +
                   "\". A human would answer here; this is the simulator.";
          })(req);
        },
        nullptr, o.robofy_port);
    fake_upstream graph(
        io.get_executor(),
        [inner = graph_accepting()](const recorded_request& req) {
          const auto sent = parse_graph_request(req.body);
          if (sent.type != "text") {
            say("bridge -> WhatsApp: message marked read, \"typing...\" shown");
          } else {
            say("bridge -> WhatsApp: reply to " + bridge::webhook::util::redact_id(sent.to, true) + ": \"" +
                sent.text + "\"");
          }
          return inner(req);
        },
        nullptr, o.graph_port);
    robofy.start();
    graph.start();
    say("fake Robofy on " + robofy.base_url() + ", fake Graph API on " + graph.base_url());

    auto client = bridge::webhook::http::make_http_client(io.get_executor());
    int exit_code = 0;
    asio::co_spawn(io, play_meta(o, *client, graph, io, exit_code), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        say(std::string("stopped by an error: ") + ex.what());
      }
    });
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](auto, int) { io.stop(); });
    io.run();
    return exit_code;
  } catch (const std::exception& e) {
    std::cerr << "robofy-wa-simulator: " << e.what() << "\n";
    return 1;
  }
}
