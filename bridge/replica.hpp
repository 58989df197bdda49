#pragma once

#include <string>

namespace bridge {

// This replica's name for logs and metrics: $POD_NAME (Kubernetes' downward API), else the host
// name. Never throws but std::bad_alloc.
std::string replica_name();

// A name for this process that no other process, here or elsewhere, now or later, shares: the
// replica's name, the process id and random bits. Claims in the shared store are held in it,
// so a restarted replica never mistakes an old claim for its own.
std::string incarnation_name();

}  // namespace bridge
