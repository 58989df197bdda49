#include "queue/redis/request.hpp"

#include <hiredis/hiredis.h>

#include <climits>
#include <new>
#include <stdexcept>
#include <vector>

namespace bridge::queue::redis {

namespace {

// RESP framing by hiredis (redisFormatCommandArgv): we only own the socket.
template <class Strings>
void append_command(std::string& wire, const Strings& args) {
  if (args.size() == 0) throw std::invalid_argument("a redis command needs at least its name");
  if (args.size() > static_cast<std::size_t>(INT_MAX)) throw std::bad_alloc();
  std::vector<const char*> pointers;
  std::vector<std::size_t> lengths;
  pointers.reserve(args.size());
  lengths.reserve(args.size());
  for (const auto& arg : args) {
    pointers.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  char* command = nullptr;
  const int size = redisFormatCommandArgv(&command, static_cast<int>(args.size()), pointers.data(),
                                          lengths.data());
  if (size < 0 || command == nullptr) throw std::bad_alloc();
  wire.append(command, static_cast<std::size_t>(size));
  redisFreeCommand(command);
}

}  // namespace

request& request::push(std::initializer_list<std::string_view> args) {
  return push(std::span<const std::string_view>(args.begin(), args.size()));
}

request& request::push(std::span<const std::string_view> args) {
  append_command(wire_, args);
  ++commands_;
  return *this;
}

request& request::push(std::span<const std::string> args) {
  append_command(wire_, args);
  ++commands_;
  return *this;
}

request& request::append(const request& other) {
  wire_ += other.wire_;
  commands_ += other.commands_;
  return *this;
}

}  // namespace bridge::queue::redis
