// robofy-wa-bench-fakes: an instant (or --robofy-delay slow) fake Robofy and an instant fake Graph
// API on 127.0.0.1 for `make bench`. On the Graph port:
//   GET /bench/count          the number of replies (text sends) received so far
//   GET /bench/latency        {"count","p50_us","p90_us","p99_us","max_us","mean_us","unstamped"}
//                             over the replies since the last reset: arrival at the fake Graph
//                             minus the send-time stamp the load generator wrote in the message
//   GET /bench/latency/reset  starts a new latency sample (answers the count it dropped)
// The fake Robofy copies the message's stamp ("benchstamp" + 16 digits) into its answer, so the
// stamp travels webhook -> queue -> Robofy -> Graph like any text. Stamps are CLOCK_MONOTONIC µs
// (libstdc++'s steady_clock), one clock for every process on Linux.
// --write-cert DIR writes a self-signed certificate for 127.0.0.1 (DIR/tls.crt, DIR/tls.key) and
// exits: the smoke test's TLS run needs no openssl command.
#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/fake_services.hpp"
#include "tests/support/fake_upstream.hpp"
#include "tests/support/self_signed.hpp"
#include "tests/tools/bench/bench_stamp.hpp"

namespace asio = boost::asio;
namespace bench = bridge::bench;
using namespace bridge::test;

namespace {

struct options {
  std::uint16_t robofy_port = 0;
  std::uint16_t graph_port = 0;
  std::chrono::milliseconds robofy_delay{0};
  std::string write_cert_dir;
};

bool parse(int argc, char** argv, options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view arg = argv[i];
    if (arg == "--write-cert") {
      o.write_cert_dir = argv[i + 1];
      continue;
    }
    const unsigned long value = std::stoul(argv[i + 1]);
    if (arg == "--robofy-port") {
      o.robofy_port = static_cast<std::uint16_t>(value);
    } else if (arg == "--graph-port") {
      o.graph_port = static_cast<std::uint16_t>(value);
    } else if (arg == "--robofy-delay-ms") {
      o.robofy_delay = std::chrono::milliseconds(value);
    } else {
      return false;
    }
  }
  return argc % 2 == 1;
}

// Send-to-arrival latencies of the replies since the last reset (the io thread only).
struct latency_sample {
  std::vector<std::uint32_t> us;
  std::uint64_t unstamped = 0;

  void record(std::string_view text, std::chrono::steady_clock::time_point arrived) {
    const auto token = bench::find_stamp(text);
    const auto sent = token ? bench::stamp_us(*token) : std::nullopt;
    const std::uint64_t now = bench::monotonic_us(arrived);
    if (!sent || *sent > now) {
      ++unstamped;
      return;
    }
    us.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(now - *sent, UINT32_MAX)));
  }

  std::string report() const {
    std::vector<std::uint32_t> sorted = us;
    std::sort(sorted.begin(), sorted.end());
    const auto at = [&](double p) { return bench::percentile(sorted, p); };
    double sum = 0;
    for (const auto v : sorted)
      sum += v;
    char out[256];
    std::snprintf(out, sizeof out,
                  "{\"count\":%zu,\"p50_us\":%u,\"p90_us\":%u,\"p99_us\":%u,\"max_us\":%u,"
                  "\"mean_us\":%.0f,\"unstamped\":%llu}",
                  sorted.size(), at(0.50), at(0.90), at(0.99), sorted.empty() ? 0 : sorted.back(),
                  sorted.empty() ? 0.0 : sum / static_cast<double>(sorted.size()),
                  static_cast<unsigned long long>(unstamped));
    return out;
  }
};

}  // namespace

int main(int argc, char** argv) {
  options o;
  try {
    if (!parse(argc, argv, o)) throw std::invalid_argument("bad arguments");
  } catch (const std::exception&) {
    std::cerr << "usage: robofy-wa-bench-fakes [--robofy-port N] [--graph-port N] "
                 "[--robofy-delay-ms N] | --write-cert DIR\n";
    return 2;
  }
  try {
    if (!o.write_cert_dir.empty()) {
      const pem_files files = write_self_signed(o.write_cert_dir);
      std::cout << files.cert_file << " " << files.key_file << std::endl;
      return 0;
    }
    asio::io_context io(1);
    // A typical agent answer (~200 characters), not an echo, so the reply size stays realistic;
    // it ends with the question's stamp.
    const std::string answer =
        "Thanks for your message! We are open Monday to Saturday, 9am to 7pm. You can book online "
        "any time at example.com/book and our team will confirm within the hour.";
    fake_upstream robofy(
        io.get_executor(),
        [inner = robofy_answering([answer](const robofy_request_fields& f) {
           const auto stamp = bench::find_stamp(f.query);
           return stamp ? answer + " Ref " + std::string(*stamp) : answer;
         }),
         delay = o.robofy_delay](const recorded_request& req) {
          auto reply = inner(req);
          reply.delay = delay;
          return reply;
        },
        nullptr, o.robofy_port);
    auto replies = std::make_shared<std::atomic<std::uint64_t>>(0);
    auto latency = std::make_shared<latency_sample>();
    fake_upstream graph(
        io.get_executor(),
        [inner = graph_accepting(), replies, latency](const recorded_request& req) {
          if (req.method == "GET" && req.target == "/bench/count") {
            return canned_reply{200, std::to_string(replies->load()), "text/plain"};
          }
          if (req.method == "GET" && req.target == "/bench/latency") {
            return canned_reply{200, latency->report()};
          }
          if (req.method == "GET" && req.target == "/bench/latency/reset") {
            const auto dropped = latency->us.size();
            *latency = latency_sample{};
            return canned_reply{200, std::to_string(dropped), "text/plain"};
          }
          const graph_request_fields fields = parse_graph_request(req.body);
          if (fields.type == "text") {
            ++*replies;
            latency->record(fields.text, req.received_at);
          }
          // Meta's message ids are ~60 characters ("wamid.HBgL..."); the bridge keeps each
          // reply's id (Redis: a key for a week), so the bench's Redis memory per answered
          // message needs ids as long as real ones.
          canned_reply reply = inner(req);
          if (const auto at = reply.body.find("\"wamid.out."); at != std::string::npos) {
            reply.body.insert(at + 11, "HBgLOTE5ODc2NTQzMjEwFQIAERgSQjdGMUE0NzJCQTk3RDQ3.");
          }
          return reply;
        },
        nullptr, o.graph_port);
    robofy.start();
    graph.start();
    std::cout << "fakes ready robofy=" << robofy.base_url() << " graph=" << graph.base_url()
              << std::endl;
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](auto, int) { io.stop(); });
    io.run();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "robofy-wa-bench-fakes: " << e.what() << "\n";
    return 1;
  }
}
