#include "webhook/util/backoff.hpp"

#include <cmath>
#include <limits>

namespace bridge::webhook::util {

std::chrono::milliseconds backoff_delay(int retry_number, std::chrono::milliseconds base,
                                        std::chrono::milliseconds cap,
                                        double unit_random) noexcept {
  using rep = std::chrono::milliseconds::rep;
  const rep base_ms = base.count() < 0 ? 0 : base.count();
  const rep cap_ms = cap.count() < 0 ? 0 : cap.count();
  const int shift = retry_number < 1 ? 0 : retry_number - 1;

  // base * 2^shift <= cap exactly when base <= floor(cap / 2^shift); this never overflows.
  rep ceiling = cap_ms;
  if (shift < std::numeric_limits<rep>::digits && base_ms <= (cap_ms >> shift))
    ceiling = base_ms << shift;

  if (!(unit_random > 0.0)) return std::chrono::milliseconds(0);  // also catches NaN
  if (unit_random >= 1.0) return std::chrono::milliseconds(ceiling);
  // long double holds any 64-bit count exactly; the clamp guards rounding at the top end.
  const long double scaled = static_cast<long double>(ceiling) * unit_random;
  if (scaled >= static_cast<long double>(ceiling)) return std::chrono::milliseconds(ceiling);
  return std::chrono::milliseconds(static_cast<rep>(std::floor(scaled)));
}

}  // namespace bridge::webhook::util
