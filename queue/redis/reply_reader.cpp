#include "queue/redis/reply_reader.hpp"

#include <hiredis/hiredis.h>

#include <memory>
#include <new>

#include "queue/redis/errc.hpp"

namespace bridge::queue::redis {

namespace {

// hiredis's reply tree into our owned value; hiredis limits nesting, so the recursion is bounded.
reply convert(const redisReply& r) {
  switch (r.type) {
    case REDIS_REPLY_INTEGER:
      return reply::make_integer(r.integer);
    case REDIS_REPLY_STATUS:
      return reply::make_status(std::string(r.str, r.len));
    case REDIS_REPLY_STRING:
      return reply::make_string(std::string(r.str, r.len));
    case REDIS_REPLY_ERROR:
      return reply::make_error(std::string(r.str, r.len));
    case REDIS_REPLY_ARRAY: {
      std::vector<reply> elements;
      elements.reserve(r.elements);
      for (std::size_t i = 0; i < r.elements; ++i)
        elements.push_back(convert(*r.element[i]));
      return reply::make_array(std::move(elements));
    }
    default:  // REDIS_REPLY_NIL
      return reply{};
  }
}

struct reply_deleter {
  void operator()(void* r) const { freeReplyObject(r); }
};

}  // namespace

reply_reader::reply_reader() : reader_(redisReaderCreate()) {
  if (reader_ == nullptr) throw std::bad_alloc();
}

reply_reader::~reply_reader() {
  redisReaderFree(reader_);
}

bool reply_reader::feed(const char* data, std::size_t size) {
  return redisReaderFeed(reader_, data, size) == REDIS_OK;
}

boost::system::result<std::optional<reply>> reply_reader::next() {
  void* raw = nullptr;
  if (redisReaderGetReply(reader_, &raw) != REDIS_OK) {
    if (raw != nullptr) freeReplyObject(raw);
    if (reader_->err == REDIS_ERR_OOM) throw std::bad_alloc();
    return make_error_code(errc::protocol_error);
  }
  if (raw == nullptr) return std::optional<reply>{};
  const std::unique_ptr<void, reply_deleter> owned(raw);
  return std::optional<reply>(convert(*static_cast<const redisReply*>(raw)));
}

std::string reply_reader::error_text() const {
  return reader_->err == 0 ? std::string{} : std::string(reader_->errstr);
}

}  // namespace bridge::queue::redis
