#pragma once

#include <cstdint>
#include <string>
#include <vector>

// Webhook bodies shaped like Meta's, for tests and the simulator.
namespace bridge::test {

struct text_message {
  std::string phone_number_id;  // the business number that receives it
  std::string wa_id;            // the customer
  std::string id;               // wamid
  std::string body;
  std::int64_t timestamp = 0;  // Meta's "timestamp" (unix seconds); 0: now
};

// One POST body holding the messages, grouped into one change per business number, in order.
std::string delivery_body(const std::vector<text_message>& messages);

// One POST body of an smb_message_echoes change as Meta sends it: business number
// `phone_number_id` (display number 15550001111) wrote `text` to `customer` from the WhatsApp
// Business app; `id` is the echoed message's wamid.
std::string echo_body(const std::string& phone_number_id, const std::string& customer,
                      const std::string& id, const std::string& text = "A person answers now.");

// The body of a file under tests/fixtures/, with every "timestamp" set to now: the samples are
// dated November 2025, and the bridge does not answer messages older than queue.max_message_age.
std::string fixture(const std::string& relative_path);
// The same file byte for byte.
std::string fixture_verbatim(const std::string& relative_path);

}  // namespace bridge::test
