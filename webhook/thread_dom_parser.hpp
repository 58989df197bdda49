#pragma once

#include <simdjson.h>

#include <cstddef>
#include <optional>
#include <string_view>

// One simdjson DOM parser per thread, lent to whoever parses a small reply. A parser allocates
// its buffers for the largest document it has seen; creating one per call cost thousands of
// instructions in allocation alone (callgrind), more than parsing a reply.
namespace bridge {

// Lends this thread's parser for its lifetime; documents and the string_views read from them
// point into the parser and die with the loan, so copy what you keep before it ends. When the
// loan ends after a document of more than kept_capacity_bytes, the parser's buffers are freed
// so a rare large body does not stay resident. A loan taken while another is out on the same
// thread gets a parser of its own instead. Never throws.
class thread_dom_parser {
 public:
  // A DOM parser holds about 15 bytes per byte of capacity (tape, structural indexes, strings,
  // the padded copy): this keeps at most about 1 MB per thread, far above any usual reply.
  static constexpr std::size_t kept_capacity_bytes = 64 * 1024;

  thread_dom_parser() noexcept;
  ~thread_dom_parser();
  thread_dom_parser(const thread_dom_parser&) = delete;
  thread_dom_parser& operator=(const thread_dom_parser&) = delete;

  // Parses `json` whole (strict RFC 8259, UTF-8 validated, at most 1024 levels deep). The bytes are
  // copied into the parser's own padded buffer (simdjson reads past the end), so any view will
  // do; an error (not JSON, too deep, out of memory...) comes back as a code. Never throws.
  simdjson::simdjson_result<simdjson::dom::element> parse(std::string_view json) noexcept;

  simdjson::dom::parser& get() noexcept { return *parser_; }

 private:
  simdjson::dom::parser* parser_;
  std::optional<simdjson::dom::parser> own_;  // only when this thread's parser is already lent
  bool* lent_ = nullptr;                      // this thread's flag, when borrowed from the thread
};

}  // namespace bridge
