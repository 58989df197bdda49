#include "bridge/circuit_breaker.hpp"

#include <algorithm>

namespace bridge {

circuit_breaker::circuit_breaker(settings s) : settings_(s), pause_(s.open_time) {}

bool circuit_breaker::allow(clock::time_point now) {
  switch (state_) {
    case state::closed:
      return true;
    case state::open:
      if (now < retry_at_) return false;
      state_ = state::half_open;
      probe_out_ = true;
      return true;
    case state::half_open:
      if (probe_out_) return false;
      probe_out_ = true;
      return true;
  }
  return false;
}

void circuit_breaker::on_success() {
  state_ = state::closed;
  failures_ = 0;
  probe_out_ = false;
  pause_ = settings_.open_time;
}

void circuit_breaker::on_failure(clock::time_point now) {
  if (state_ == state::half_open) {
    // The probe failed: pause longer before the next one.
    pause_ = std::min(pause_ * 2, settings_.max_open_time);
    probe_out_ = false;
    open(now);
    return;
  }
  if (state_ == state::open) return;  // a call that started before it opened
  if (++failures_ >= settings_.failure_threshold) open(now);
}

void circuit_breaker::open(clock::time_point now) {
  state_ = state::open;
  retry_at_ = now + pause_;
  ++times_opened_;
}

}  // namespace bridge
