#include "bridge/descriptor_limit.hpp"

#include <sys/resource.h>

namespace bridge {

descriptor_limit raise_descriptor_limit() noexcept {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return {};
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return descriptor_limit{static_cast<std::uint64_t>(limit.rlim_cur),
                          static_cast<std::uint64_t>(limit.rlim_max)};
}

}  // namespace bridge
