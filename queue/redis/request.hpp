#pragma once

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace bridge::queue::redis {

// One or more commands laid out in RESP, ready to be written in one go (pipelining). The bytes are
// made when a command is pushed, so the arguments need to live only for that call.
class request {
 public:
  // Appends a command; every argument is a binary-safe bulk string. Throws std::invalid_argument
  // for a command without arguments, std::bad_alloc when out of memory.
  request& push(std::initializer_list<std::string_view> args);
  request& push(std::span<const std::string_view> args);
  request& push(std::span<const std::string> args);
  // Appends every command of other after this request's own.
  request& append(const request& other);

  // How many commands (and so replies) the request holds.
  std::size_t size() const noexcept { return commands_; }
  // True when no command was pushed.
  bool empty() const noexcept { return commands_ == 0; }
  // The RESP bytes of every command, in order.
  const std::string& wire() const noexcept { return wire_; }

 private:
  std::string wire_;
  std::size_t commands_ = 0;
};

}  // namespace bridge::queue::redis
