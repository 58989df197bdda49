#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>
#include <utility>

// Log lines about a message that carry its wamid, its conversation and what happened as fields
// of their own, so a log store (Loki, Elasticsearch) can filter on them without parsing text. The
// fields travel in front of the text, between control characters no text of ours contains; the
// JSON formatter turns them into "event", "wamid" and "conversation" fields, the text formatter
// drops them (the text names the message already).
namespace bridge::webhook::io {

// What a line is about.
struct log_fields {
  std::string_view event;         // queued, asking_robofy, answered, fallback, paused, ...
  std::string_view wamid;         // the message(s): one wamid or a comma-separated list
  std::string_view conversation;  // "<phone_number_id>/<customer>", redacted as configured
};

// Marks the start and the end of the fields, and separates them.
inline constexpr char log_fields_mark = '\x1e';
inline constexpr char log_fields_separator = '\x1f';

// Logs `format` with `fields` in front (see above). Never throws: logging is best effort.
template <class... Args>
void log_event(spdlog::level::level_enum level, const log_fields& fields,
               spdlog::format_string_t<Args...> format, Args&&... args) {
  if (!spdlog::should_log(level)) return;
  try {
    std::string line;
    line += log_fields_mark;
    line += fields.event;
    line += log_fields_separator;
    line += fields.wamid;
    line += log_fields_separator;
    line += fields.conversation;
    line += log_fields_mark;
    line += fmt::format(format, std::forward<Args>(args)...);
    spdlog::log(level, "{}", line);
  } catch (...) {
    // A log line that cannot be built is dropped, never the work it describes.
  }
}

}  // namespace bridge::webhook::io
