#include "bridge/store/errc.hpp"

#include <string>

namespace bridge::store {

namespace {

class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "bridge.store"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::fenced:
        return "the conversation's lease was lost (taken over, or expired)";
      case errc::unavailable:
        return "the store cannot take writes now";
      case errc::not_replicated:
        return "fewer Redis replicas than redis.min_replica_acks confirmed the write";
      case errc::closed:
        return "the store is closing";
      case errc::paused:
        return "the conversation is handed to a person";
      case errc::bad_reply:
        return "the store answered something unexpected";
    }
    return "store error " + std::to_string(value);
  }
};

}  // namespace

const boost::system::error_category& store_category() noexcept {
  static const category instance;
  return instance;
}

boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), store_category()};
}

}  // namespace bridge::store
