#include "tests/support/test_client.hpp"

#include <boost/algorithm/string/case_conv.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/test/unit_test.hpp>
#include <cctype>
#include <sstream>

#include "webhook/http/types.hpp"
#include "webhook/meta/signature.hpp"

namespace bridge::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

std::string client_response::header(const std::string& name) const {
  auto it = headers.find(boost::algorithm::to_lower_copy(name));
  return it == headers.end() ? std::string{} : it->second;
}

namespace {

webhook::http::request to_beast(const client_request& req) {
  webhook::http::request out{http::string_to_verb(req.method), req.target, 11};
  out.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : req.headers)
    out.set(name, value);
  out.body() = req.body;
  out.keep_alive(true);
  out.prepare_payload();
  return out;
}

template <class Stream>
asio::awaitable<void> exchange_all(Stream& stream, beast::tcp_stream& lowest,
                                   const std::vector<client_request>& reqs,
                                   std::vector<client_response>& out) {
  beast::flat_buffer buffer;
  for (const auto& req : reqs) {
    client_response result;
    lowest.expires_after(req.timeout);
    webhook::http::request message = to_beast(req);
    auto [write_ec, written] = co_await http::async_write(stream, message, as_tuple_awaitable);
    (void)written;
    webhook::http::response res;
    if (!write_ec) {
      http::response_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, as_tuple_awaitable);
      (void)read;
      if (!read_ec) {
        res = parser.release();
        result.status = res.result_int();
        result.body = res.body();
        for (const auto& field : res) {
          result.headers[boost::algorithm::to_lower_copy(std::string(field.name_string()))] =
              std::string(field.value());
        }
      } else {
        result.error = read_ec.message();
      }
    } else {
      result.error = write_ec.message();
    }
    const bool answered = result.status != 0;
    out.push_back(std::move(result));
    if (!answered) co_return;
  }
}

asio::awaitable<void> run_exchange(asio::ip::tcp::endpoint to, std::vector<client_request> reqs,
                                   std::vector<client_response>& out) {
  auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream stream(executor);
  stream.expires_after(reqs.front().timeout);
  auto [connect_ec] = co_await stream.async_connect(to, as_tuple_awaitable);
  if (connect_ec) {
    client_response failed;
    failed.error = "connect: " + connect_ec.message();
    out.push_back(failed);
    co_return;
  }
  if (reqs.front().ca_file.empty()) {
    co_await exchange_all(stream, stream, reqs, out);
    co_return;
  }
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.load_verify_file(reqs.front().ca_file);
  tls.set_verify_mode(asio::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> secure(std::move(stream), tls);
  auto [handshake_ec] =
      co_await secure.async_handshake(asio::ssl::stream_base::client, as_tuple_awaitable);
  if (handshake_ec) {
    client_response failed;
    failed.error = "handshake: " + handshake_ec.message();
    out.push_back(failed);
    co_return;
  }
  co_await exchange_all(secure, beast::get_lowest_layer(secure), reqs, out);
}

}  // namespace

std::vector<client_response> send_on_one_connection(const asio::ip::tcp::endpoint& to,
                                                    const std::vector<client_request>& reqs) {
  std::vector<client_response> out;
  if (reqs.empty()) return out;
  asio::io_context io;
  asio::co_spawn(io, run_exchange(to, reqs, out), asio::detached);
  std::chrono::milliseconds total{0};
  for (const auto& r : reqs)
    total += r.timeout;
  io.run_for(total + std::chrono::seconds(1));
  return out;
}

client_response send_request(const asio::ip::tcp::endpoint& to, const client_request& req) {
  auto responses = send_on_one_connection(to, {req});
  if (responses.empty()) {
    client_response none;
    none.error = "no answer within the deadline";
    return none;
  }
  return responses.front();
}

client_response post_signed(const asio::ip::tcp::endpoint& to, const std::string& target,
                            const std::string& body, const std::string& secret) {
  client_request req;
  req.method = "POST";
  req.target = target;
  req.body = body;
  req.headers = {{"Content-Type", "application/json"},
                 {"X-Hub-Signature-256", webhook::meta::sign_body(secret, body)}};
  return send_request(to, req);
}

raw_connection::raw_connection(const asio::ip::tcp::endpoint& to) : socket_(io_) {
  boost::system::error_code ec;
  socket_.connect(to, ec);
  BOOST_REQUIRE_MESSAGE(!ec, "connect to " << to << ": " << ec.message());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
}

bool raw_connection::write(std::string_view bytes) {
  boost::system::error_code ec;
  asio::write(socket_, asio::buffer(bytes), ec);
  return !ec;
}

template <class Done>
void raw_connection::read_while_not(Done done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done() && !closed_) {
    if (!reading_) {
      reading_ = true;
      socket_.async_read_some(asio::buffer(chunk_),
                              [this](boost::system::error_code ec, std::size_t n) {
                                reading_ = false;
                                received_.append(chunk_.data(), n);
                                if (ec) closed_ = true;
                              });
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return;
    io_.restart();
    io_.run_one_for(deadline - now);
  }
}

const std::string& raw_connection::read_until(std::string_view text,
                                              std::chrono::milliseconds timeout, std::size_t from) {
  read_while_not([&] { return received_.find(text, from) != std::string::npos; }, timeout);
  return received_;
}

bool raw_connection::wait_closed(std::chrono::milliseconds timeout) {
  read_while_not([] { return false; }, timeout);
  return closed_;
}

std::string scrape_metrics(const asio::ip::tcp::endpoint& admin) {
  client_request req;
  req.target = "/metrics";
  const client_response res = send_request(admin, req);
  return res.status == 200 ? res.body : std::string{};
}

double metric_sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

std::size_t count_answers(std::string_view received) {
  // A status line: "HTTP/1.1 ", three digits and a space (an answer's body may end without a
  // newline, so the next status line can follow it directly).
  std::size_t count = 0;
  constexpr std::string_view version = "HTTP/1.1 ";
  for (std::size_t at = received.find(version); at != std::string_view::npos;
       at = received.find(version, at + 1)) {
    const std::string_view rest = received.substr(at + version.size());
    if (rest.size() >= 4 && std::isdigit(static_cast<unsigned char>(rest[0])) &&
        std::isdigit(static_cast<unsigned char>(rest[1])) &&
        std::isdigit(static_cast<unsigned char>(rest[2])) && rest[3] == ' ') {
      ++count;
    }
  }
  return count;
}

}  // namespace bridge::test
