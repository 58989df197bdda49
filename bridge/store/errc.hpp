#pragma once

#include <boost/system/error_code.hpp>
#include <type_traits>

namespace bridge::store {

// Why a store step did not happen.
enum class errc {
  fenced = 1,      // the claim is no longer ours: its lease expired or another replica took it over
  unavailable,     // the store cannot take writes now (Redis unreachable, out of memory, read-only,
                   // loading, not enough replicas): try again later
  not_replicated,  // stored, but fewer Redis replicas than redis.min_replica_acks confirmed it
  closed,          // the store is closing
  paused,          // the conversation is handed to a person: the AI does not answer it
  bad_reply,       // the store answered something this code does not understand (a bug)
};

// The "bridge.store" category of errc. Never throws.
const boost::system::error_category& store_category() noexcept;

// Wraps `e` in an error_code of store_category(). Never throws.
boost::system::error_code make_error_code(errc e) noexcept;

}  // namespace bridge::store

template <>
struct boost::system::is_error_code_enum<bridge::store::errc> : std::true_type {};
