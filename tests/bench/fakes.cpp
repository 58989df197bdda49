// robofy-wa-bench-fakes: an instant (or --robofy-delay slow) fake Robofy and an instant fake Graph
// API on 127.0.0.1 for `make bench`. GET /bench/count on the Graph port answers the number of
// replies (text sends) received so far, so the benchmark can count the pipeline's output.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

#include "tests/support/fake_services.hpp"
#include "tests/support/fake_upstream.hpp"

namespace asio = boost::asio;
using namespace bridge::test;

namespace {

struct options {
  std::uint16_t robofy_port = 0;
  std::uint16_t graph_port = 0;
  std::chrono::milliseconds robofy_delay{0};
};

bool parse(int argc, char** argv, options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view arg = argv[i];
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

}  // namespace

int main(int argc, char** argv) {
  options o;
  try {
    if (!parse(argc, argv, o)) throw std::invalid_argument("bad arguments");
  } catch (const std::exception&) {
    std::cerr << "usage: robofy-wa-bench-fakes [--robofy-port N] [--graph-port N] "
                 "[--robofy-delay-ms N]\n";
    return 2;
  }
  try {
    asio::io_context io(1);
    // A typical agent answer (~200 characters), not an echo: the reply size stays realistic.
    const std::string answer =
        "Thanks for your message! Our opening hours are Monday to Saturday, 9am to 7pm. You can "
        "book online any time at example.com/book, and a member of our team will confirm within "
        "the hour.";
    fake_upstream robofy(
        io.get_executor(),
        [inner = robofy_answering([answer](const robofy_request_fields&) { return answer; }),
         delay = o.robofy_delay](const recorded_request& req) {
          auto reply = inner(req);
          reply.delay = delay;
          return reply;
        },
        nullptr, o.robofy_port);
    auto replies = std::make_shared<std::atomic<std::uint64_t>>(0);
    fake_upstream graph(
        io.get_executor(),
        [inner = graph_accepting(), replies](const recorded_request& req) {
          if (req.method == "GET" && req.target == "/bench/count") {
            return canned_reply{200, std::to_string(replies->load()), "text/plain"};
          }
          if (parse_graph_request(req.body).type == "text") ++*replies;
          return inner(req);
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
