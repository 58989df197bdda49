#include "webhook/http/idle_connections.hpp"

namespace bridge::webhook::http {

idle_connections::listing::listing(idle_connections& registry, std::function<void()> close)
    : registry_(registry),
      position_(registry.waiting_.insert(registry.waiting_.end(), entry{std::move(close), this})) {}

idle_connections::listing::~listing() {
  if (!shed_) registry_.waiting_.erase(position_);
}

bool idle_connections::close_oldest() {
  if (waiting_.empty()) return false;
  entry oldest = std::move(waiting_.front());
  waiting_.pop_front();
  oldest.owner->shed_ = true;
  oldest.close();
  return true;
}

}  // namespace bridge::webhook::http
