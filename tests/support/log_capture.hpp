#pragma once

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

namespace bridge::test {

// Captures what spdlog's default logger writes at `level` and above while it lives (the last
// 10,000 lines), and puts the previous logger back at the end.
class log_capture {
 public:
  explicit log_capture(spdlog::level::level_enum level = spdlog::level::info)
      : previous_(spdlog::default_logger()),
        sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(10'000)) {
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink_));
    spdlog::default_logger()->set_level(level);
  }
  ~log_capture() { spdlog::set_default_logger(previous_); }
  log_capture(const log_capture&) = delete;
  log_capture& operator=(const log_capture&) = delete;

  // The lines logged so far that contain `text`.
  std::vector<std::string> lines_with(const std::string& text) const {
    std::vector<std::string> found;
    for (const auto& line : sink_->last_formatted()) {
      if (line.find(text) != std::string::npos) found.push_back(line);
    }
    return found;
  }
  // Every line logged so far, as one text.
  std::string text() const {
    std::string all;
    for (const auto& line : sink_->last_formatted())
      all += line;
    return all;
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
};

}  // namespace bridge::test
