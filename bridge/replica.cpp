#include "bridge/replica.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>

namespace bridge {

std::string replica_name() {
  if (const char* pod = std::getenv("POD_NAME"); pod != nullptr && *pod != '\0') return pod;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') return host;
  return "robofy-wa-bridge";
}

std::string incarnation_name() {
  std::random_device entropy;
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, "/%d-%08x%08x", static_cast<int>(::getpid()), entropy(),
                entropy());
  return replica_name() + suffix;
}

}  // namespace bridge
