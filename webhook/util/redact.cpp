#include "webhook/util/redact.hpp"

#include <cstddef>

namespace bridge::webhook::util {

namespace {

// Keeps keep_front and keep_back characters when the part is long enough that the masked middle
// still hides most of it; a short part is masked whole.
void append_masked(std::string& out, std::string_view part, std::size_t keep_front,
                   std::size_t keep_back) {
  constexpr std::size_t min_visible_length = 7;
  if (part.size() < min_visible_length) {
    out.append(part.size(), '*');
    return;
  }
  out.append(part.substr(0, keep_front));
  out.append(part.size() - keep_front - keep_back, '*');
  out.append(part.substr(part.size() - keep_back));
}

}  // namespace

std::string redact_id(std::string_view id, bool enabled) {
  if (!enabled) return std::string(id);
  std::string out;
  out.reserve(id.size());
  // Business-scoped user ids look like "IN.1349..."; the country prefix is not identifying.
  if (const std::size_t dot = id.find('.'); dot != std::string_view::npos) {
    out.append(id.substr(0, dot + 1));
    append_masked(out, id.substr(dot + 1), 0, 2);
    return out;
  }
  append_masked(out, id, 4, 2);
  return out;
}

std::string redact_conversation(std::string_view conversation, bool enabled) {
  const auto slash = conversation.find('/');
  if (slash == std::string_view::npos) return redact_id(conversation, enabled);
  return std::string(conversation.substr(0, slash + 1)) +
         redact_id(conversation.substr(slash + 1), enabled);
}

}  // namespace bridge::webhook::util
