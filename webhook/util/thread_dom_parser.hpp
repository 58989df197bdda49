#pragma once

#include <simdjson.h>

#include <cstddef>
#include <optional>
#include <string_view>

// One simdjson parser of each kind per thread, lent to whoever parses a small document. A parser
// allocates its buffers for the largest document it has seen; creating one per call cost
// thousands of instructions in allocation alone (callgrind), more than parsing a reply.
namespace bridge::webhook::util {

// Lends this thread's Parser for the loan's lifetime; documents and the string_views read from
// them point into the parser and die with the loan, so copy what you keep before it ends. When
// the loan ends after a document of more than KeptCapacity bytes, the parser's buffers are freed
// so a rare large body does not stay resident. A loan taken while another is out on the same
// thread gets a parser of its own instead. Never throws.
template <class Parser, std::size_t KeptCapacity>
class thread_parser_loan {
 public:
  static constexpr std::size_t kept_capacity_bytes = KeptCapacity;

  thread_parser_loan() noexcept {
    // A parser allocates nothing until its first parse, so constructing one cannot throw.
    thread_local slot local;
    if (local.lent) {
      parser_ = &own_.emplace();
      return;
    }
    local.lent = true;
    lent_ = &local.lent;
    parser_ = &local.parser;
  }
  ~thread_parser_loan() {
    if (lent_ == nullptr) return;
    if (parser_->capacity() > KeptCapacity) *parser_ = Parser{};
    *lent_ = false;
  }
  thread_parser_loan(const thread_parser_loan&) = delete;
  thread_parser_loan& operator=(const thread_parser_loan&) = delete;

  Parser& get() noexcept { return *parser_; }

 private:
  struct slot {
    Parser parser;
    bool lent = false;
  };
  Parser* parser_;
  std::optional<Parser> own_;  // only when this thread's parser is already lent
  bool* lent_ = nullptr;       // this thread's flag, when borrowed from the thread
};

// The DOM parser the reply and journal codecs share. A DOM parser holds about 15 bytes per byte
// of capacity (tape, structural indexes, strings, the padded copy): 64 KiB keeps at most about
// 1 MB per thread, far above any usual reply.
class thread_dom_parser : public thread_parser_loan<simdjson::dom::parser, 64 * 1024> {
 public:
  // Parses `json` whole (strict RFC 8259, UTF-8 validated, at most 1024 levels deep). The bytes are
  // copied into the parser's own padded buffer (simdjson reads past the end), so any view will
  // do; an error (not JSON, too deep, out of memory...) comes back as a code. Never throws.
  simdjson::simdjson_result<simdjson::dom::element> parse(std::string_view json) noexcept;
};

}  // namespace bridge::webhook::util
