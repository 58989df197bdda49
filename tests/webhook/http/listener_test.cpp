// The HTTP listener on its own: the connection cap, shedding idle untrusted connections, their
// idle timeout, the in-flight body budget, bodies observed as they arrive, and requests however
// they are cut into reads.
#include "webhook/http/listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/self_signed.hpp"
#include "tests/support/test_client.hpp"
#include "webhook/http/errors.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

class ok_handler final : public bridge::webhook::http::request_handler {
 public:
  asio::awaitable<bridge::webhook::http::response> handle(
      bridge::webhook::http::request& req) override {
    co_return bridge::webhook::http::make_response(bridge::webhook::http::status::ok, "text/plain",
                                                   "ok", req.keep_alive());
  }
};

// Answers with what it received, so a test sees the body was put together whole.
class echo_handler final : public bridge::webhook::http::request_handler {
 public:
  asio::awaitable<bridge::webhook::http::response> handle(
      bridge::webhook::http::request& req) override {
    co_return bridge::webhook::http::make_response(bridge::webhook::http::status::ok, "text/plain",
                                                   std::string(req.target()) + " " + req.body(),
                                                   req.keep_alive());
  }
};

// Answers "spare=N;": the spare capacity after the body it was handed (capacity minus size).
class spare_room_handler final : public bridge::webhook::http::request_handler {
 public:
  asio::awaitable<bridge::webhook::http::response> handle(
      bridge::webhook::http::request& req) override {
    co_return bridge::webhook::http::make_response(
        bridge::webhook::http::status::ok, "text/plain",
        "spare=" + std::to_string(req.body().capacity() - req.body().size()) + ";",
        req.keep_alive());
  }
};

// Holds every request until the test lets it go (as a journal's fsync on a stalled disk would),
// then answers 200; counts the requests that ran to their end. Used on the server's thread only.
class held_handler final : public bridge::webhook::http::request_handler {
 public:
  asio::awaitable<bridge::webhook::http::response> handle(
      bridge::webhook::http::request& req) override {
    if (!gate_) {
      gate_.emplace(co_await asio::this_coro::executor);
      gate_->expires_at(asio::steady_timer::time_point::max());
    }
    co_await gate_->async_wait(asio::as_tuple(asio::use_awaitable));
    ++finished;
    co_return bridge::webhook::http::make_response(bridge::webhook::http::status::ok, "text/plain",
                                                   "stored " + req.body(), req.keep_alive());
  }
  // Lets every held request go. The timer is destroyed here, on the server's thread, so it never
  // outlives the server's io_context (the test holds this handler longer than the server).
  void release() { gate_.reset(); }
  int finished = 0;

 private:
  std::optional<asio::steady_timer> gate_;
};

// Answers 200 at "/" and 404 anywhere else (a refused request).
class path_handler final : public bridge::webhook::http::request_handler {
 public:
  asio::awaitable<bridge::webhook::http::response> handle(
      bridge::webhook::http::request& req) override {
    const bool known = req.target() == "/";
    co_return bridge::webhook::http::make_response(
        known ? bridge::webhook::http::status::ok : bridge::webhook::http::status::not_found,
        "text/plain", known ? "ok" : "no", req.keep_alive());
  }
};

// Records every piece of body its observers are shown, and answers with the number of pieces
// the request's own observer saw.
class observing_handler final : public bridge::webhook::http::request_handler {
 public:
  std::unique_ptr<bridge::webhook::http::body_observer> observe_body(
      const bridge::webhook::http::request&) override {
    return std::make_unique<recorder>(*this);
  }
  asio::awaitable<bridge::webhook::http::response> handle_observed(
      bridge::webhook::http::request& req,
      std::unique_ptr<bridge::webhook::http::body_observer> observed) override {
    const auto* mine = dynamic_cast<recorder*>(observed.get());
    co_return bridge::webhook::http::make_response(
        bridge::webhook::http::status::ok, "text/plain",
        "pieces=" + std::to_string(mine ? mine->pieces : 0) + " body=" + req.body(),
        req.keep_alive());
  }
  asio::awaitable<bridge::webhook::http::response> handle(
      bridge::webhook::http::request& req) override {
    return handle_observed(req, nullptr);
  }
  // Every piece shown to any observer so far, in order.
  std::vector<std::string> pieces() const {
    std::lock_guard lock(mutex_);
    return pieces_;
  }
  // Waits (no longer than `timeout`) until observers were shown at least `count` pieces in all.
  bool wait_for_pieces(std::size_t count, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return shown_.wait_for(lock, timeout, [&] { return pieces_.size() >= count; });
  }

 private:
  struct recorder final : bridge::webhook::http::body_observer {
    explicit recorder(observing_handler& h) : handler(h) {}
    void on_body(std::string_view bytes) noexcept override {
      ++pieces;
      {
        std::lock_guard lock(handler.mutex_);
        handler.pieces_.emplace_back(bytes);
      }
      handler.shown_.notify_all();
    }
    observing_handler& handler;
    int pieces = 0;
  };
  mutable std::mutex mutex_;
  mutable std::condition_variable shown_;
  std::vector<std::string> pieces_;
};

// A listener on an ephemeral loopback port, served on its own thread.
struct running_listener {
  asio::io_context io;
  bridge::webhook::http::http_listener listener;
  std::thread loop;

  running_listener(std::shared_ptr<bridge::webhook::http::request_handler> handler,
                   bridge::webhook::http::listener_limits limits = {},
                   std::shared_ptr<asio::ssl::context> tls = nullptr)
      : listener(io.get_executor(), asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                 std::move(handler), limits, std::move(tls)) {
    listener.start();
    loop = std::thread([this] { io.run(); });
  }
  ~running_listener() {
    io.stop();
    loop.join();
  }
  // Runs f on the listener's thread (its state is not thread-safe) and returns its result.
  template <class F>
  auto on_loop(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(io, [&task] { task(); });
    return result.get();
  }
  // The listener's counters now.
  bridge::webhook::http::listener_counters counters() {
    return on_loop([this] { return listener.counters(); });
  }
  // Looks on the listener's thread, again after each look, until pred(counters, open
  // connections) holds; false when it still does not after `timeout`.
  template <class Pred>
  bool wait_for(Pred pred, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!on_loop([&] { return pred(listener.counters(), listener.open_connections()); })) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
    }
    return true;
  }
};

// Lets the held requests go and waits (bounded, on the server's loop, without sleeping here)
// for their handlers to end; how many ended.
int release_and_wait(running_listener& server, held_handler& handler) {
  server.on_loop([&] {
    handler.release();
    return 0;
  });
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (server.on_loop([&] { return handler.finished; }) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  return server.on_loop([&] { return handler.finished; });
}

constexpr auto answer_wait = 5s;

// Reads from `socket` until `count` answers ending in `last_body` arrived or the peer closed.
std::string read_answers(asio::ip::tcp::socket& socket, std::string_view last_body) {
  std::string received;
  char chunk[4096];
  boost::system::error_code ec;
  while (!received.ends_with(last_body)) {
    const std::size_t n = socket.read_some(asio::buffer(chunk), ec);
    if (ec) break;
    received.append(chunk, n);
  }
  return received;
}

// Writes `bytes` one byte per write, with Nagle's algorithm off so that each byte leaves in a
// segment of its own and the server's reads see the request in as many pieces as it lets them.
void write_byte_by_byte(asio::ip::tcp::socket& socket, std::string_view bytes) {
  socket.set_option(asio::ip::tcp::no_delay(true));
  for (const char& byte : bytes)
    asio::write(socket, asio::buffer(&byte, 1));
}

std::string post(std::string_view target, std::string_view body) {
  return std::string("POST ") + std::string(target) +
         " HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(listener)

BOOST_AUTO_TEST_CASE(connections_over_the_cap_are_closed_at_once_and_served_again_later) {
  asio::io_context server_io;
  bridge::webhook::http::listener_limits limits;
  limits.max_connections = 3;
  bridge::webhook::http::http_listener listener(
      server_io.get_executor(), asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
      std::make_shared<ok_handler>(), limits);
  listener.start();
  std::thread loop([&] { server_io.run(); });
  const auto endpoint = listener.local_endpoint();

  // Three idle connections fill the cap. Each was answered 200 once, so it is trusted and may
  // not be shed to make room (idle connections that never earned trust are: see below).
  asio::io_context client_io;
  std::vector<asio::ip::tcp::socket> idle;
  for (int i = 0; i < 3; ++i) {
    idle.emplace_back(client_io);
    idle.back().connect(endpoint);
    asio::write(idle.back(), asio::buffer(std::string("GET / HTTP/1.1\r\nHost: t\r\n\r\n")));
    BOOST_TEST(read_answers(idle.back(), "ok").starts_with("HTTP/1.1 200 "));
  }
  // The server counts a connection once it accepted it; a served request proves the three are in.
  bridge::test::client_request probe;
  probe.target = "/";
  BOOST_TEST(bridge::test::send_request(endpoint, probe).status == 0u);  // a fourth: refused

  // Once one of them goes away, a new connection is served again.
  idle.front().close();
  bool served = false;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!served && std::chrono::steady_clock::now() < deadline) {
    served = bridge::test::send_request(endpoint, probe).status == 200u;
  }
  BOOST_TEST(served);
  server_io.stop();
  loop.join();
}

// A request is parsed from what is buffered and read further only for what is missing: several
// requests in one write, or cut anywhere (inside the request line, a field, the body) by feeding
// what follows a first write byte by byte, every request is answered whole and in order.
BOOST_AUTO_TEST_CASE(requests_cut_anywhere_or_pipelined_are_answered_whole_and_in_order) {
  running_listener server(std::make_shared<echo_handler>());
  std::string first_body(3000, 'a');
  first_body += "end-of-first";  // a statement: GCC 12 misjudges `std::string(n, c) + "..."`
  const std::string first = post("/first", first_body);
  const std::string second = post("/second", "second-body");
  const std::string stream = first + second + post("/third", "third-body");
  // 0: every byte alone; stream.size(): all three requests in one write.
  for (const std::size_t cut : {std::size_t{0}, std::size_t{3}, std::size_t{30}, std::size_t{60},
                                first.size() - 5, first.size(), first.size() + 10, stream.size()}) {
    asio::io_context client_io;
    asio::ip::tcp::socket socket(client_io);
    socket.connect(server.listener.local_endpoint());
    asio::write(socket, asio::buffer(stream.substr(0, cut)));
    write_byte_by_byte(socket, std::string_view(stream).substr(cut));
    const std::string answers = read_answers(socket, "/third third-body");
    const auto at_first = answers.find("/first " + std::string(3000, 'a') + "end-of-first");
    const auto at_second = answers.find("/second second-body");
    const auto at_third = answers.find("/third third-body");
    BOOST_TEST(at_first != std::string::npos, "cut at " << cut);
    BOOST_TEST(at_second != std::string::npos, "cut at " << cut);
    BOOST_TEST(at_third != std::string::npos, "cut at " << cut);
    BOOST_TEST((at_first < at_second && at_second < at_third), "cut at " << cut);
  }
}

// A body of known length comes with spare room after it, so a JSON parser that needs padding past
// the end (simdjson: 64 bytes) appends it without copying the body; however the body arrived.
BOOST_AUTO_TEST_CASE(a_body_of_known_length_has_room_for_padding_after_it) {
  running_listener server(std::make_shared<spare_room_handler>());
  for (const std::size_t size : {std::size_t{1}, std::size_t{1500}, std::size_t{70'000}}) {
    for (const bool byte_by_byte : {false, true}) {
      if (byte_by_byte && size > 1500) continue;  // one byte per write is slow for 70 KB
      asio::io_context client_io;
      asio::ip::tcp::socket socket(client_io);
      socket.connect(server.listener.local_endpoint());
      const std::string request = post("/padded", std::string(size, 'p'));
      if (byte_by_byte) {
        write_byte_by_byte(socket, request);
      } else {
        asio::write(socket, asio::buffer(request));
      }
      const std::string answer = read_answers(socket, ";");
      const auto at = answer.find("spare=");
      BOOST_TEST_REQUIRE(at != std::string::npos, answer);
      const std::size_t spare = std::stoul(answer.substr(at + 6));
      BOOST_TEST(spare >= 64u, "body of " << size << " bytes, byte by byte " << byte_by_byte);
    }
  }
}

// The limits hold for a request that arrived whole in the first read, before any handler runs.
BOOST_AUTO_TEST_CASE(limits_hold_for_a_request_that_arrived_in_one_piece) {
  bridge::webhook::http::listener_limits limits;
  limits.max_body_bytes = 100;
  limits.max_target_bytes = 50;
  running_listener server(std::make_shared<echo_handler>(), limits);
  const std::pair<std::string, std::string> cases[] = {
      {post("/big", std::string(101, 'x')), "HTTP/1.1 413 "},
      {post("/" + std::string(60, 'u'), "x"), "HTTP/1.1 414 "},
      {"NOT HTTP AT ALL\r\n\r\n", "HTTP/1.1 400 "},
  };
  for (const auto& [request, status_line] : cases) {
    asio::io_context client_io;
    asio::ip::tcp::socket socket(client_io);
    socket.connect(server.listener.local_endpoint());
    asio::write(socket, asio::buffer(request));
    const std::string answer = read_answers(socket, "\x01never");  // until the server closes
    BOOST_TEST(answer.starts_with(status_line), request.substr(0, 20) << " -> " << answer);
  }
}

// A handler stuck past handler_timeout (a stalled disk or Redis): the client gets 503 with
// Retry-After and the connection closes, but the handler is not cancelled half-way: once it can go
// on it runs to its end (what it stored stays stored; the client's retry is then a duplicate).
BOOST_AUTO_TEST_CASE(a_handler_past_its_deadline_gets_503_and_still_runs_to_its_end) {
  bridge::webhook::http::listener_limits limits;
  limits.handler_timeout = 50ms;
  auto handler = std::make_shared<held_handler>();
  running_listener server(handler, limits);

  asio::io_context client_io;
  asio::ip::tcp::socket socket(client_io);
  socket.connect(server.listener.local_endpoint());
  asio::write(socket, asio::buffer(post("/webhook", "m1")));
  const std::string answer = read_answers(socket, "\x01never");  // until the server closes
  BOOST_TEST(answer.starts_with("HTTP/1.1 503 "), answer);
  BOOST_TEST(answer.find("handler_timeout") != std::string::npos, answer);
  BOOST_TEST(answer.find("Retry-After: 1") != std::string::npos, answer);
  BOOST_TEST(server.on_loop([&] { return handler->finished; }) == 0);
  BOOST_TEST(server.on_loop([&] { return server.listener.counters().handler_timeouts; }) == 1u);

  BOOST_TEST(release_and_wait(server, *handler) == 1);
}

// The same over TLS: the late 503 is written, and the connection closed with close_notify, while
// the handler still runs on the same connection's coroutine.
BOOST_AUTO_TEST_CASE(over_tls_a_handler_past_its_deadline_gets_503_while_it_runs_on) {
  bridge::test::temp_dir dir;
  const bridge::test::pem_files pem = bridge::test::write_self_signed(dir.path());
  auto tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  tls->use_certificate_chain_file(pem.cert_file);
  tls->use_private_key_file(pem.key_file, asio::ssl::context::pem);
  bridge::webhook::http::listener_limits limits;
  limits.handler_timeout = 50ms;
  auto handler = std::make_shared<held_handler>();
  running_listener server(handler, limits, tls);

  asio::io_context client_io;
  asio::ssl::context client_tls(asio::ssl::context::tls_client);
  client_tls.load_verify_file(pem.cert_file);
  asio::ssl::stream<asio::ip::tcp::socket> stream(client_io, client_tls);
  stream.set_verify_mode(asio::ssl::verify_peer);
  stream.next_layer().connect(server.listener.local_endpoint());
  stream.handshake(asio::ssl::stream_base::client);
  asio::write(stream, asio::buffer(post("/webhook", "m1")));
  std::string answer;
  char chunk[4096];
  boost::system::error_code ec;
  while (!ec) {  // until the server's close_notify (eof) or the connection ends
    const std::size_t n = stream.read_some(asio::buffer(chunk), ec);
    answer.append(chunk, n);
  }
  BOOST_TEST(ec == asio::error::eof, ec.message());  // a clean TLS close, not a cut
  BOOST_TEST(answer.starts_with("HTTP/1.1 503 "), answer);
  BOOST_TEST(answer.find("handler_timeout") != std::string::npos, answer);
  BOOST_TEST(server.on_loop([&] { return handler->finished; }) == 0);

  BOOST_TEST(release_and_wait(server, *handler) == 1);
  BOOST_TEST(server.on_loop([&] { return server.listener.counters().handler_timeouts; }) == 1u);
}

// At the cap, a newcomer is let in by closing the idle connection that never earned trust and
// waited longest, instead of being refused: idle connections cannot lock Meta out.
BOOST_AUTO_TEST_CASE(at_the_cap_the_oldest_idle_untrusted_connection_is_shed_for_a_newcomer) {
  bridge::webhook::http::listener_limits limits;
  limits.max_connections = 3;
  // No timeout may close an idle connection during the test: only shedding does.
  limits.read_timeout = 60s;
  limits.untrusted_idle_timeout = 60s;
  running_listener server(std::make_shared<ok_handler>(), limits);
  const auto endpoint = server.listener.local_endpoint();
  std::vector<std::unique_ptr<bridge::test::raw_connection>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<bridge::test::raw_connection>(endpoint));
    // One at a time, so "oldest" is well defined.
    BOOST_REQUIRE(
        server.wait_for([&](const auto&, std::size_t open) { return open == idle.size(); }));
  }
  bridge::test::raw_connection newcomer(endpoint);
  newcomer.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  BOOST_TEST(newcomer.read_until("ok", answer_wait).starts_with("HTTP/1.1 200 "));
  BOOST_TEST(idle[0]->wait_closed(answer_wait));
  BOOST_TEST(idle[0]->received().empty());
  const auto counters = server.counters();
  BOOST_TEST(counters.connections_shed == 1u);
  BOOST_TEST(counters.connections_refused == 0u);
  // The younger idle connections were left alone: each still serves a request.
  for (std::size_t i = 1; i < idle.size(); ++i) {
    idle[i]->write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    BOOST_TEST(idle[i]->read_until("ok", answer_wait).starts_with("HTTP/1.1 200 "), i);
  }
}

// A connection that has not earned trust may idle untrusted_idle_timeout; one whose request was
// answered 2xx is trusted and waits idle_timeout; a request answered 4xx closes its connection.
BOOST_AUTO_TEST_CASE(idle_untrusted_connections_time_out_early_and_trusted_ones_stay_open) {
  bridge::webhook::http::listener_limits limits;
  limits.untrusted_idle_timeout = 300ms;
  limits.read_timeout = 30s;
  limits.idle_timeout = 30s;
  running_listener server(std::make_shared<path_handler>(), limits);
  const auto endpoint = server.listener.local_endpoint();
  bridge::test::raw_connection trusted(endpoint);  // answered 200 once
  trusted.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  BOOST_TEST(trusted.read_until("ok", answer_wait).starts_with("HTTP/1.1 200 "));
  bridge::test::raw_connection refused(endpoint);  // answered 404
  refused.write("GET /elsewhere HTTP/1.1\r\nHost: t\r\n\r\n");
  BOOST_TEST(refused.wait_closed(answer_wait));
  BOOST_TEST(refused.received().starts_with("HTTP/1.1 404 "));
  BOOST_TEST(bridge::test::count_answers(refused.received()) == 1u);

  // Connected once the trusted connection went idle, and never sends anything: closed by the
  // untrusted timeout (every other timeout is 30 s, longer than the wait).
  bridge::test::raw_connection silent(endpoint);
  BOOST_TEST(silent.wait_closed(answer_wait));
  BOOST_TEST(silent.received().empty());
  // The trusted connection has been idle longer than the silent one lived, and still serves its
  // next request.
  BOOST_TEST(!trusted.closed());
  const std::size_t first_answer = trusted.received().size();
  trusted.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  const std::string& both = trusted.read_until("ok", answer_wait, first_answer);
  BOOST_TEST(both.substr(first_answer).starts_with("HTTP/1.1 200 "));
  BOOST_TEST(bridge::test::count_answers(both) == 2u);
}

// Bodies being read share max_inflight_body_bytes: a request whose Content-Length would go over
// it is answered 503 + Retry-After from its header alone, before any of its body is read; the
// bytes come back once the request holding them is answered.
BOOST_AUTO_TEST_CASE(a_body_over_the_inflight_budget_is_refused_before_it_is_read) {
  bridge::webhook::http::listener_limits limits;
  limits.max_body_bytes = 1000;
  limits.max_inflight_body_bytes = 1000;
  running_listener server(std::make_shared<echo_handler>(), limits);
  const auto endpoint = server.listener.local_endpoint();
  const auto header = [](std::size_t length) {
    return "POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n";
  };
  // 800 bytes announced, 100 sent: the budget holds 800 while the rest is awaited.
  bridge::test::raw_connection holder(endpoint);
  holder.write(header(800) + std::string(100, 'h'));
  BOOST_REQUIRE(
      server.wait_for([](const auto& c, std::size_t) { return c.inflight_body_bytes == 800u; }));

  bridge::test::raw_connection over(endpoint);
  over.write(header(300));  // the header only: the answer must not wait for the body
  BOOST_TEST(over.wait_closed(answer_wait));
  BOOST_TEST(over.received().starts_with("HTTP/1.1 503 "));
  BOOST_TEST(over.received().find("Retry-After: 1\r\n") != std::string::npos);
  BOOST_TEST(bridge::test::count_answers(over.received()) == 1u);
  // A client that waits for "100 Continue" is refused instead of being told to send its body.
  bridge::test::raw_connection expecting(endpoint);
  expecting.write(
      "POST /e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 300\r\n\r\n");
  BOOST_TEST(expecting.wait_closed(answer_wait));
  BOOST_TEST(expecting.received().starts_with("HTTP/1.1 503 "));
  BOOST_TEST(bridge::test::count_answers(expecting.received()) == 1u);
  // A chunked body may be as large as max_body_bytes, so it is reserved at that size.
  bridge::test::raw_connection chunked(endpoint);
  chunked.write("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
  BOOST_TEST(chunked.wait_closed(answer_wait));
  BOOST_TEST(chunked.received().starts_with("HTTP/1.1 503 "));
  // What still fits is served meanwhile.
  bridge::test::raw_connection fits(endpoint);
  fits.write(header(200) + std::string(200, 'f'));
  BOOST_TEST(fits.read_until(std::string(200, 'f'), answer_wait).starts_with("HTTP/1.1 200 "));

  holder.write(std::string(700, 'h'));
  BOOST_TEST(holder.read_until(std::string(800, 'h'), answer_wait).starts_with("HTTP/1.1 200 "));
  BOOST_TEST(
      server.wait_for([](const auto& c, std::size_t) { return c.inflight_body_bytes == 0u; }));
  // The whole budget is free again.
  bridge::test::raw_connection whole(endpoint);
  whole.write(header(1000) + std::string(1000, 'w'));
  BOOST_TEST(whole.read_until(std::string(1000, 'w'), answer_wait).starts_with("HTTP/1.1 200 "));
  // Released once the answer is written.
  BOOST_TEST(
      server.wait_for([](const auto& c, std::size_t) { return c.inflight_body_bytes == 0u; }));
  BOOST_TEST(server.counters().bodies_over_budget == 3u);
}

// The handler's observer sees the body while it arrives, in the pieces the reads bring (after
// chunked framing is removed): a piece is seen before the client has sent the next one, and the
// pieces joined are the body.
BOOST_AUTO_TEST_CASE(a_body_is_shown_to_the_observer_piece_by_piece_as_it_arrives) {
  auto handler = std::make_shared<observing_handler>();
  running_listener server(handler);
  const auto endpoint = server.listener.local_endpoint();
  const std::vector<std::string> parts{"first piece;", "second piece;", "third"};
  std::string body;
  for (const auto& part : parts)
    body += part;
  {
    bridge::test::raw_connection client(endpoint);
    client.write("POST /o HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
                 "\r\n\r\n");
    for (std::size_t i = 0; i < parts.size(); ++i) {
      client.write(parts[i]);
      // Seen before the next piece is sent.
      if (i + 1 < parts.size()) BOOST_REQUIRE(handler->wait_for_pieces(i + 1, answer_wait));
    }
    BOOST_TEST(client.read_until(body, answer_wait).ends_with("pieces=3 body=" + body));
    BOOST_TEST(handler->pieces() == parts);
  }
  {
    // The same body chunked: the observer gets the data, never the chunk framing.
    bridge::test::raw_connection client(endpoint);
    client.write("POST /o HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (std::size_t i = 0; i < parts.size(); ++i) {
      std::ostringstream chunk;
      chunk << std::hex << parts[i].size() << "\r\n" << parts[i] << "\r\n";
      client.write(chunk.str());
      BOOST_REQUIRE(handler->wait_for_pieces(parts.size() + i + 1, answer_wait));
    }
    client.write("0\r\n\r\n");
    BOOST_TEST(client.read_until(body, answer_wait).ends_with("pieces=3 body=" + body));
    const auto pieces = handler->pieces();
    BOOST_TEST(std::vector<std::string>(pieces.begin() + 3, pieces.end()) == parts);
  }
}

BOOST_AUTO_TEST_SUITE_END()
