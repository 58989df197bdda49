#include "webhook/thread_dom_parser.hpp"

namespace bridge {
namespace {

struct thread_parser {
  simdjson::dom::parser parser;
  bool lent = false;
};

thread_parser& this_thread_parser() noexcept {
  // A parser allocates nothing until its first parse, so constructing it cannot throw.
  thread_local thread_parser local;
  return local;
}

}  // namespace

thread_dom_parser::thread_dom_parser() noexcept {
  thread_parser& local = this_thread_parser();
  if (local.lent) {
    parser_ = &own_.emplace();
    return;
  }
  local.lent = true;
  lent_ = &local.lent;
  parser_ = &local.parser;
}

simdjson::simdjson_result<simdjson::dom::element> thread_dom_parser::parse(
    std::string_view json) noexcept {
  // A default-constructed view has no data pointer, which memcpy must not be given.
  if (json.data() == nullptr) json = std::string_view("", 0);
  return parser_->parse(json.data(), json.size());
}

thread_dom_parser::~thread_dom_parser() {
  if (lent_ == nullptr) return;
  if (parser_->capacity() > kept_capacity_bytes) *parser_ = simdjson::dom::parser{};
  *lent_ = false;
}

}  // namespace bridge
