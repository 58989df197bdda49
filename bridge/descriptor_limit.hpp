#pragma once

#include <cstdint>

namespace bridge {

// The process's file descriptor limits (RLIMIT_NOFILE).
struct descriptor_limit {
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

// Raises the soft limit to the hard one (the default soft limit, often 1024, is far below the
// 10,000 connections the public listener allows) and returns the limits in force afterwards.
// Never throws; the limits stay as they were when raising fails.
descriptor_limit raise_descriptor_limit() noexcept;

}  // namespace bridge
