#include "queue/redis/errc.hpp"

#include <string>

namespace bridge::queue::redis {

namespace {

class redis_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "bridge.queue.redis"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::not_connected:
        return "not connected to redis";
      case errc::connection_refused:
        return "could not connect to redis";
      case errc::connection_lost:
        return "connection to redis lost before the reply";
      case errc::timeout:
        return "redis did not answer in time";
      case errc::protocol_error:
        return "redis protocol error";
      case errc::tls_failed:
        return "TLS with redis failed";
      case errc::auth_failed:
        return "redis refused the credentials";
      case errc::setup_failed:
        return "redis refused a connection set-up command";
      case errc::closed:
        return "redis client closed";
      case errc::no_primary:
        return "redis sentinel named no reachable primary";
    }
    return "unknown redis error";
  }
};

}  // namespace

const boost::system::error_category& redis_category() noexcept {
  static const redis_category_impl category;
  return category;
}

boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), redis_category()};
}

}  // namespace bridge::queue::redis
