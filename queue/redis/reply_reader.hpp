#pragma once

#include <boost/system/result.hpp>
#include <cstddef>
#include <optional>
#include <string>

#include "queue/redis/reply.hpp"

struct redisReader;  // hiredis's parser; its header stays in reply_reader.cpp

namespace bridge::queue::redis {

// Turns the bytes of one connection into replies, with hiredis's redisReader: bytes in as they
// are read, complete replies out in order. Internal to the client. Not copyable.
class reply_reader {
 public:
  // Throws std::bad_alloc when hiredis cannot allocate its reader.
  reply_reader();
  ~reply_reader();
  reply_reader(const reply_reader&) = delete;
  reply_reader& operator=(const reply_reader&) = delete;

  // Hands bytes read from the connection to the parser; false once the stream is broken.
  bool feed(const char* data, std::size_t size);
  // The next complete reply; nullopt while more bytes are needed; errc::protocol_error when the
  // bytes are not RESP2 (the connection cannot be trusted after that). Throws std::bad_alloc.
  boost::system::result<std::optional<reply>> next();
  // hiredis's description of the protocol error, for the log; empty while there is none.
  std::string error_text() const;

 private:
  redisReader* reader_;
};

}  // namespace bridge::queue::redis
