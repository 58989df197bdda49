#pragma once

#include <boost/asio/awaitable.hpp>

#include "webhook/meta/payload.hpp"

namespace bridge::webhook::meta {

// What became of one verified POST's messages.
enum class admission {
  accepted,    // every message is queued (or known already): answer 200
  overloaded,  // the queue is full: answer 503 and let Meta retry
  draining,    // the service is stopping: answer 503 and let Meta retry
  unstored,    // the messages could not be stored (journal write failed): 503, Meta retries
};

// Where the webhook endpoint hands the messages of a verified, parsed POST.
class delivery_sink {
 public:
  virtual ~delivery_sink() = default;
  // Accepts every message of one POST, in order, or says why not all of them could be.
  virtual boost::asio::awaitable<admission> admit(delivery batch) = 0;
};

}  // namespace bridge::webhook::meta
