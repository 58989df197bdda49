// robofy-wa-loadgen: the load generator of `make bench`. N keep-alive HTTP/1.1 connections (plain
// or TLS) to 127.0.0.1 POST signed WhatsApp webhook deliveries (one text message each, 1-2 KB,
// unique wamid, distinct senders) for a duration or a request count, then print one JSON line on
// stdout: requests, 200s, others, errors, seconds, req/s and latency percentiles (µs). Every
// message text carries a send-time stamp ("benchstamp" + 16 digits of CLOCK_MONOTONIC µs) that the
// bench fakes carry through Robofy's answer to the Graph reply, where the pipeline's end-to-end
// latency is measured (tests/bench/fakes.cpp).
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "tests/support/meta_payloads.hpp"
#include "tests/tools/bench/bench_stamp.hpp"
#include "webhook/meta/signature.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
// libstdc++'s steady_clock is CLOCK_MONOTONIC, one clock for every process on Linux: the fakes
// compare the stamps written here with their own steady_clock.
using clock_type = std::chrono::steady_clock;

namespace {

constexpr const char* usage =
    "Usage: robofy-wa-loadgen --url http[s]://127.0.0.1:PORT/PATH [--connections 16]\n"
    "                         [--duration SECONDS] [--requests K] [--secret S] [--senders 1000]\n"
    "                         [--number PHONE_NUMBER_ID] [--numbers 1] [--run-id ID]\n"
    "                         [--cpu N] [--tls] [--ca-file PEM] [--rate R] [--warmup S]\n"
    "                         [--latency-log FILE]\n"
    "       robofy-wa-loadgen --write-requests FILE --requests K [--url ...] [--senders ...]\n"
    "POSTs signed webhook deliveries over N keep-alive connections; prints one JSON line.\n"
    "--write-requests: writes K whole signed requests to FILE instead, each as its length in\n"
    "decimal, a newline and the request's bytes, for wrk (tests/tools/bench/wrk_requests.lua).\n"
    "--rate R: open loop, request k is due at start + k/R s and its latency counts from then\n"
    "(a late send is charged to the server, not hidden); without it each connection sends as\n"
    "soon as its previous answer arrived.\n"
    "--warmup S: the first S seconds are sent but not counted (nor the client's CPU in them);\n"
    "the run's duration and figures start after them, on the same connections. The first\n"
    "~0.7 s of an open-loop run had a p99 of 5-9 ms with nginx too (BENCHMARKS.md).\n"
    "--latency-log FILE: one line per answer, when it was due (µs of CLOCK_MONOTONIC, as perf\n"
    "record -k CLOCK_MONOTONIC stamps its samples), how late it was sent (the client's part) and\n"
    "its latency (µs): a tail's requests in time, to tell a server's stalls from the client's.\n"
    "--tls (or an https URL): TLS on every connection, the handshake done before the clock "
    "starts;\n"
    "the server certificate is verified against --ca-file (for 127.0.0.1), not at all without "
    "it.\n";

struct options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string path = "/webhook";
  unsigned connections = 16;
  double duration_s = 0;       // 0: no time limit (the first limit reached ends the run)
  std::uint64_t requests = 0;  // 0: no count limit
  std::string secret = "bench-app-secret";
  std::uint64_t senders = 1000;
  std::uint64_t number = 106540352242922ULL;  // the first business number
  std::uint64_t numbers = 1;  // business numbers used in turn (Meta's pace is per number)
  std::string run_id;         // keeps wamids unique across runs against one bridge
  int cpu = -1;
  bool tls = false;
  std::string ca_file;         // empty: the server's certificate is not verified (loopback bench)
  double rate = 0;             // requests/s, open loop; 0: closed loop (as fast as answers come)
  std::string write_requests;  // a file: write the requests there instead of sending them
  std::string latency_log;     // a file: each answer's due time and latency
  double warmup_s = 0;         // sent first and not counted
};

// Parses "http://host:port/path" or "https://host:port/path" (which sets tls).
bool parse_url(std::string_view url, options& o) {
  constexpr std::string_view http = "http://";
  constexpr std::string_view https = "https://";
  if (url.substr(0, https.size()) == https) {
    o.tls = true;
    url.remove_prefix(https.size());
  } else if (url.substr(0, http.size()) == http) {
    url.remove_prefix(http.size());
  } else {
    return false;
  }
  const auto slash = url.find('/');
  const std::string_view authority = url.substr(0, slash);
  o.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  const auto colon = authority.rfind(':');
  if (colon == std::string_view::npos) return false;
  o.host = std::string(authority.substr(0, colon));
  o.port = static_cast<std::uint16_t>(std::stoul(std::string(authority.substr(colon + 1))));
  return o.port != 0;
}

std::optional<options> parse_options(int argc, char** argv) {
  options o;
  o.run_id = std::to_string(clock_type::now().time_since_epoch().count() % 1000000000);
  bool have_url = false;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string_view arg = argv[i];
      if (arg == "--tls") {
        o.tls = true;
        continue;
      }
      if (i + 1 >= argc) return std::nullopt;
      const std::string value = argv[++i];
      if (arg == "--url") {
        have_url = parse_url(value, o);
        if (!have_url) return std::nullopt;
      } else if (arg == "--connections") {
        o.connections = static_cast<unsigned>(std::stoul(value));
      } else if (arg == "--duration") {
        o.duration_s = std::stod(value);
      } else if (arg == "--requests") {
        o.requests = std::stoull(value);
      } else if (arg == "--secret") {
        o.secret = value;
      } else if (arg == "--senders") {
        o.senders = std::max<std::uint64_t>(1, std::stoull(value));
      } else if (arg == "--number") {
        o.number = std::stoull(value);
      } else if (arg == "--numbers") {
        o.numbers = std::max<std::uint64_t>(1, std::stoull(value));
      } else if (arg == "--run-id") {
        o.run_id = value;
      } else if (arg == "--cpu") {
        o.cpu = std::stoi(value);
      } else if (arg == "--warmup") {
        o.warmup_s = std::stod(value);
        if (!(o.warmup_s >= 0 && o.warmup_s <= 3600)) return std::nullopt;
      } else if (arg == "--latency-log") {
        o.latency_log = value;
      } else if (arg == "--rate") {
        o.rate = std::stod(value);
        if (!(o.rate > 0)) return std::nullopt;
      } else if (arg == "--ca-file") {
        o.ca_file = value;
      } else if (arg == "--write-requests") {
        o.write_requests = value;
      } else {
        return std::nullopt;
      }
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (!o.write_requests.empty()) {
    if (o.requests == 0) return std::nullopt;
    if (!have_url) o.port = 1;  // the Host field only
    return o;
  }
  if (!have_url || o.connections == 0 || (o.duration_s <= 0 && o.requests == 0)) {
    return std::nullopt;
  }
  return o;
}

// What a customer might type: sentences of a support chat, 600-1500 characters, so a delivery
// (with Meta's envelope) is 1-2 KB, ending with a reference where the send-time stamp goes.
std::string message_text(std::uint64_t n, const std::string& stamp) {
  static const std::vector<std::string> sentences = {
      "Hi, I ordered the blue running shoes last Tuesday and the tracking page still says the "
      "parcel is waiting at the depot. ",
      "Could you tell me when it will be delivered, and whether I can pick it up myself? ",
      "I also wanted to ask if the size 42 fits like a normal 42 or runs a bit small. ",
      "My order number is 4471-2290 and the email on the account is the same as before. ",
      "If it cannot arrive before Saturday I would prefer a refund to my card, thank you! ",
      "One more thing: do you still have the discount code from the newsletter? "};
  const std::size_t target = 600 + (n * 7919) % 900;
  std::string text;
  text.reserve(target + 160);
  for (std::size_t i = n % sentences.size(); text.size() < target; ++i) {
    text += sentences[i % sentences.size()];
  }
  return text + "Ref " + stamp;
}

// The customer of request n: one of `senders` distinct WhatsApp ids (12 digits).
std::string sender(std::uint64_t n, std::uint64_t senders) {
  return "91" + std::to_string(9100000000ULL + n % senders);
}

using bridge::bench::stamp_digits;
using bridge::bench::stamp_prefix;

// Deliveries built once per text variant with placeholders, then stamped with the business
// number, customer, wamid and send time of each request: building every body from scratch as JSON
// would cost the generator more CPU than the servers it measures.
class body_factory {
 public:
  explicit body_factory(const options& o) : o_(o) {
    number_width_ = std::to_string(o.number + o.numbers - 1).size();
    const std::string number(number_width_, 'Q');
    const std::string customer(sender_width, 'X');
    const std::string wamid = "wamid.bench." + o.run_id + "." + std::string(wamid_width, 'Z');
    const std::string stamp = std::string(stamp_prefix) + std::string(stamp_digits, 'W');
    for (std::uint64_t v = 0; v < variants; ++v) {
      variant t;
      t.body = bridge::test::delivery_body({{number, customer, wamid, message_text(v, stamp)}});
      find_all(t, number, 0);
      find_all(t, customer, 1);
      find_all(t, std::string(wamid_width, 'Z'), 2);
      find_all(t, std::string(stamp_digits, 'W'), 3);
      templates_.push_back(std::move(t));
    }
  }

  // The body of request n (a unique wamid as long as n < 10^12), stamped as sent now.
  std::string make(std::uint64_t n) const {
    const variant& t = templates_[n % variants];
    std::string body = t.body;
    const std::string values[4] = {
        pad(o_.number + n % o_.numbers, number_width_), sender(n, o_.senders), pad(n, wamid_width),
        pad(bridge::bench::monotonic_us(clock_type::now()), stamp_digits)};
    for (const auto& [offset, field] : t.slots) {
      body.replace(offset, values[field].size(), values[field]);
    }
    return body;
  }

 private:
  static constexpr std::uint64_t variants = 32;
  static constexpr std::size_t sender_width = 12;
  static constexpr std::size_t wamid_width = 12;

  struct variant {
    std::string body;
    std::vector<std::pair<std::size_t, int>> slots;  // offset of a placeholder, which field
  };

  static void find_all(variant& t, const std::string& placeholder, int field) {
    for (auto at = t.body.find(placeholder); at != std::string::npos;
         at = t.body.find(placeholder, at + placeholder.size())) {
      t.slots.emplace_back(at, field);
    }
  }

  static std::string pad(std::uint64_t value, std::size_t width) {
    std::string digits = std::to_string(value);
    return std::string(width > digits.size() ? width - digits.size() : 0, '0') + digits;
  }

  const options& o_;
  std::size_t number_width_ = 0;
  std::vector<variant> templates_;
};

// The whole HTTP/1.1 request carrying `body`, signed with `key`: laid out by hand, since Beast's
// serializer would cost the generator more than the servers spend reading it.
std::string request_bytes(const options& o, const std::string& body,
                          bridge::webhook::meta::signature_key& key) {
  std::string out;
  out.reserve(body.size() + 200);
  out.append("POST ").append(o.path).append(" HTTP/1.1\r\nHost: ").append(o.host);
  out.append("\r\nContent-Type: application/json\r\nX-Hub-Signature-256: ");
  out.append(key.sign(body));
  out.append("\r\nContent-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
  out.append(body);
  return out;
}

// --write-requests: K signed requests, each as "<length>\n<bytes>", for wrk to replay.
int write_requests(const options& o) {
  const body_factory bodies(o);
  bridge::webhook::meta::signature_key key(o.secret);
  std::FILE* file = std::fopen(o.write_requests.c_str(), "wb");
  if (file == nullptr) {
    std::perror("robofy-wa-loadgen: --write-requests");
    return 1;
  }
  for (std::uint64_t n = 0; n < o.requests; ++n) {
    const std::string bytes = request_bytes(o, bodies.make(n), key);
    std::fprintf(file, "%zu\n", bytes.size());
    std::fwrite(bytes.data(), 1, bytes.size(), file);
  }
  return std::fclose(file) == 0 ? 0 : 1;
}

// CPU time this process used so far (user + system), in µs.
double own_cpu_us() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto us = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_usec);
  };
  return us(usage.ru_utime) + us(usage.ru_stime);
}

using tls_stream = beast::ssl_stream<beast::tcp_stream>;

struct shared_run {
  shared_run(const options& opts, asio::io_context& io, tcp::endpoint to,
             asio::ssl::context* tls_context)
      : o(opts), endpoint(to), tls(tls_context), opening(opts.connections), gate(io) {
    gate.expires_at(clock_type::time_point::max());
  }

  const options& o;
  bridge::webhook::meta::signature_key key{o.secret};  // one keyed HMAC for every request
  const tcp::endpoint endpoint;
  asio::ssl::context* const tls;  // null: plain HTTP
  // The clock starts once every connection is open (TLS handshake included), as a keep-alive
  // client's would have been long before: the run measures requests, not connection set-up.
  unsigned opening;         // connections not yet open
  asio::steady_timer gate;  // the others wait here until the last one is open
  // The pace starts at `start`; what is counted starts at `counted_from` (after --warmup).
  clock_type::time_point start{}, counted_from{}, deadline{}, end{};
  bool counting = false;             // the CPU clock was read at counted_from
  std::uint64_t warmup_answers = 0;  // answers to requests due before counted_from
  double cpu_start_us = 0, cpu_end_us = 0;
  std::uint64_t next = 0;  // next request number (single-threaded: no atomics needed)
  std::vector<std::uint32_t> latencies_us;
  // With --latency-log, for each of latencies_us: when it was due and when it was sent.
  std::vector<std::pair<clock_type::time_point, clock_type::time_point>> due_and_sent;
  std::uint64_t ok = 0;
  std::uint64_t other_status = 0;
  std::uint64_t errors = 0;
  std::string first_error;
  std::string negotiated;  // "TLSv1.3 TLS_AES_256_GCM_SHA384", from the first handshake
  std::uint64_t body_bytes = 0;

  // Called by each connection once it is open (or failed to open); the last one starts the clock.
  asio::awaitable<void> opened() {
    if (--opening > 0) {
      co_await gate.async_wait(asio::as_tuple(asio::use_awaitable));  // cancelled: go
      co_return;
    }
    start = clock_type::now();
    counted_from = start + std::chrono::microseconds(static_cast<std::int64_t>(o.warmup_s * 1e6));
    deadline =
        counted_from + std::chrono::microseconds(static_cast<std::int64_t>(o.duration_s * 1e6));
    if (o.warmup_s <= 0) start_counting();
    gate.cancel();
  }

  void start_counting() {
    counting = true;
    cpu_start_us = own_cpu_us();
  }

  // Whether the answer to a request due at `due` counts (it was not due in the warm-up).
  bool counts(clock_type::time_point due) const { return due >= counted_from; }

  // Called by each connection when it has no more requests to send; the last call stops the
  // clock (closing the connections afterwards is not measured).
  void finished() {
    end = clock_type::now();
    cpu_end_us = own_cpu_us();
  }

  // When request `n` is due: at once in a closed loop, at start + n/rate in an open one.
  clock_type::time_point due(std::uint64_t n) const {
    if (o.rate <= 0) return clock_type::now();
    return start + std::chrono::duration_cast<clock_type::duration>(
                       std::chrono::duration<double>(static_cast<double>(n) / o.rate));
  }

  // Claims the next request number, or nothing when the run is over.
  std::optional<std::uint64_t> claim() {
    if (!counting && clock_type::now() >= counted_from) start_counting();
    if (o.requests != 0 && next >= o.requests) return std::nullopt;
    if (o.duration_s > 0 && clock_type::now() >= deadline) return std::nullopt;
    return next++;
  }

  void failed(const boost::system::error_code& ec, std::string_view during) {
    ++errors;
    if (first_error.empty()) first_error = std::string(during) + ": " + ec.message();
  }
};

// Connects (and for TLS shakes hands); false, with the error counted, when that failed.
template <class Stream>
asio::awaitable<bool> open(std::optional<Stream>& stream, shared_run& run) {
  auto executor = co_await asio::this_coro::executor;
  if constexpr (std::is_same_v<Stream, tls_stream>) {
    stream.emplace(executor, *run.tls);
  } else {
    stream.emplace(executor);
  }
  beast::tcp_stream& tcp_layer = beast::get_lowest_layer(*stream);
  auto [ec] = co_await tcp_layer.async_connect(run.endpoint, asio::as_tuple(asio::use_awaitable));
  if (ec) {
    run.failed(ec, "connect");
    stream.reset();
    co_return false;
  }
  tcp_layer.socket().set_option(tcp::no_delay(true), ec);
  if constexpr (std::is_same_v<Stream, tls_stream>) {
    if (!run.o.ca_file.empty()) {
      stream->set_verify_callback(asio::ssl::host_name_verification(run.o.host));
    }
    auto [hs_ec] = co_await stream->async_handshake(asio::ssl::stream_base::client,
                                                    asio::as_tuple(asio::use_awaitable));
    if (hs_ec) {
      run.failed(hs_ec, "TLS handshake");
      stream.reset();
      co_return false;
    }
    if (run.negotiated.empty()) {
      SSL* ssl = stream->native_handle();
      run.negotiated = std::string(SSL_get_version(ssl)) + " " + SSL_get_cipher_name(ssl);
    }
  }
  co_return true;
}

// --latency-log: "DUE_US SEND_DELAY_US LATENCY_US" per answer, in the order the answers came. The
// send delay is the client's own part of the latency: waiting for a free connection or its CPU.
void write_latency_log(const std::string& path, const shared_run& run) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) throw std::runtime_error("cannot write " + path);
  using std::chrono::microseconds;
  for (std::size_t i = 0; i < run.due_and_sent.size(); ++i) {
    const auto [due, sent] = run.due_and_sent[i];
    const auto due_us = std::chrono::duration_cast<microseconds>(due.time_since_epoch()).count();
    const auto delay_us = std::chrono::duration_cast<microseconds>(sent - due).count();
    std::fprintf(file, "%lld %lld %u\n", static_cast<long long>(due_us),
                 static_cast<long long>(delay_us), run.latencies_us[i]);
  }
  std::fclose(file);
}

template <class Stream>
asio::awaitable<void> connection(shared_run& run, const body_factory& bodies) {
  const options& o = run.o;
  std::optional<Stream> stream;
  beast::flat_buffer buffer;
  asio::steady_timer pace(co_await asio::this_coro::executor);
  co_await open(stream, run);
  co_await run.opened();
  while (auto n = run.claim()) {
    if (!stream && !co_await open(stream, run)) continue;
    // Latency counts from when the request was due, so a send delayed by a slow answer on this
    // connection is charged to the server (no coordinated omission).
    const auto start = run.due(*n);
    if (start > clock_type::now()) {
      pace.expires_at(start);
      co_await pace.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    const std::string body = bodies.make(*n);
    const std::string req = request_bytes(o, body, run.key);
    run.body_bytes += body.size();

    const auto sent = clock_type::now();
    auto [wec, written] =
        co_await asio::async_write(*stream, asio::buffer(req), asio::as_tuple(asio::use_awaitable));
    http::response<http::string_body> res;
    boost::system::error_code rec;
    if (!wec) {
      auto [ec, read] =
          co_await http::async_read(*stream, buffer, res, asio::as_tuple(asio::use_awaitable));
      rec = ec;
    }
    const auto elapsed = clock_type::now() - start;
    if (wec || rec) {
      run.failed(wec ? wec : rec, wec ? "write" : "read");
      stream.reset();
      buffer.clear();
      continue;
    }
    if (!run.counts(start)) {
      ++run.warmup_answers;
    } else {
      run.latencies_us.push_back(static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()));
      if (!o.latency_log.empty()) run.due_and_sent.emplace_back(start, sent);
      if (res.result() == http::status::ok) {
        ++run.ok;
      } else {
        ++run.other_status;
      }
    }
    if (!res.keep_alive()) {
      stream.reset();
      buffer.clear();
    }
  }
  run.finished();
  if (stream) {
    // A plain TCP close, for TLS too: no close_notify round trip, as a client that simply drops
    // an idle keep-alive connection does.
    boost::system::error_code ignored;
    beast::get_lowest_layer(*stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
  }
}

using bridge::bench::percentile;

}  // namespace

int main(int argc, char** argv) {
  const auto parsed = parse_options(argc, argv);
  if (!parsed) {
    std::cerr << usage;
    return 2;
  }
  const options& o = *parsed;
  if (!o.write_requests.empty()) return write_requests(o);
  if (o.cpu >= 0) {
    // Our own core, so the generator does not steal the server's CPU time (or the reverse).
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(o.cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) std::perror("robofy-wa-loadgen: cpu");
  }
  try {
    asio::io_context io(1);
    const tcp::endpoint endpoint(asio::ip::make_address(o.host), o.port);
    std::optional<asio::ssl::context> tls;
    if (o.tls) {
      tls.emplace(asio::ssl::context::tls_client);
      if (o.ca_file.empty()) {
        tls->set_verify_mode(asio::ssl::verify_none);
      } else {
        tls->load_verify_file(o.ca_file);
        tls->set_verify_mode(asio::ssl::verify_peer);
      }
    }
    const body_factory bodies(o);
    shared_run run(o, io, endpoint, tls ? &*tls : nullptr);
    run.latencies_us.reserve(o.requests != 0 ? o.requests : 1 << 20);
    for (unsigned i = 0; i < o.connections; ++i) {
      if (tls) {
        asio::co_spawn(io, connection<tls_stream>(run, bodies), asio::detached);
      } else {
        asio::co_spawn(io, connection<beast::tcp_stream>(run, bodies), asio::detached);
      }
    }
    io.run();
    const double seconds = std::chrono::duration<double>(run.end - run.counted_from).count();
    const double cpu_used = run.cpu_end_us - run.cpu_start_us;
    if (!o.latency_log.empty()) write_latency_log(o.latency_log, run);
    auto sorted = run.latencies_us;
    std::sort(sorted.begin(), sorted.end());
    const std::uint64_t answered = sorted.size();
    if (!run.first_error.empty()) {
      std::cerr << "robofy-wa-loadgen: " << run.errors << " errors, the first: " << run.first_error
                << "\n";
    }
    std::printf(
        "{\"connections\":%u,\"requests\":%llu,\"ok\":%llu,\"other_status\":%llu,\"errors\":%llu,"
        "\"seconds\":%.3f,\"rps\":%.1f,\"p50_us\":%u,\"p90_us\":%u,\"p99_us\":%u,\"max_us\":%u,"
        "\"avg_body_bytes\":%llu,\"client_cpu_us_per_request\":%.2f,\"client_cpu_share\":%.2f,"
        "\"tls\":\"%s\",\"rate\":%.1f,\"warmup_answers\":%llu}\n",
        o.connections, static_cast<unsigned long long>(answered),
        static_cast<unsigned long long>(run.ok), static_cast<unsigned long long>(run.other_status),
        static_cast<unsigned long long>(run.errors), seconds,
        seconds > 0 ? static_cast<double>(answered) / seconds : 0.0, percentile(sorted, 0.50),
        percentile(sorted, 0.90), percentile(sorted, 0.99), sorted.empty() ? 0 : sorted.back(),
        static_cast<unsigned long long>(run.next == 0 ? 0 : run.body_bytes / run.next),
        answered == 0 ? 0.0 : cpu_used / static_cast<double>(answered),
        seconds > 0 ? cpu_used / (seconds * 1e6) : 0.0,
        !o.tls                   ? "none"
        : run.negotiated.empty() ? "failed"
                                 : run.negotiated.c_str(),
        o.rate, static_cast<unsigned long long>(run.warmup_answers));
    return run.errors == 0 && run.other_status == 0 && answered > 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "robofy-wa-loadgen: " << e.what() << "\n";
    return 1;
  }
}
