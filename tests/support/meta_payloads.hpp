#pragma once

#include <string>
#include <vector>

// Webhook bodies shaped like Meta's, for tests and the simulator.
namespace bridge::test {

struct text_message {
  std::string phone_number_id;  // the business number that receives it
  std::string wa_id;            // the customer
  std::string id;               // wamid
  std::string body;
};

// One POST body holding the messages, grouped into one change per business number, in order.
std::string delivery_body(const std::vector<text_message>& messages);

// The body of a file under tests/fixtures/, with every "timestamp" set to now: the samples are
// dated November 2025, and the bridge does not answer messages older than queue.max_message_age.
std::string fixture(const std::string& relative_path);
// The same file byte for byte.
std::string fixture_verbatim(const std::string& relative_path);

}  // namespace bridge::test
