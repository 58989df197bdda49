#include "tests/support/meta_payloads.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <ctime>
#include <fstream>
#include <iterator>
#include <regex>
#include <stdexcept>

namespace bridge::test {

namespace json = boost::json;

std::string delivery_body(const std::vector<text_message>& messages) {
  json::array changes;
  std::vector<std::string> numbers;
  for (const auto& m : messages) {
    if (std::find(numbers.begin(), numbers.end(), m.phone_number_id) == numbers.end()) {
      numbers.push_back(m.phone_number_id);
    }
  }
  for (const auto& number : numbers) {
    json::array contacts;
    json::array wire_messages;
    for (const auto& m : messages) {
      if (m.phone_number_id != number) continue;
      contacts.push_back(json::object{{"profile", json::object{{"name", "Customer " + m.wa_id}}},
                                      {"wa_id", m.wa_id}});
      wire_messages.push_back(json::object{
          {"from", m.wa_id},
          {"id", m.id},
          {"timestamp", std::to_string(m.timestamp != 0 ? m.timestamp : std::time(nullptr))},
          {"type", "text"},
          {"text", json::object{{"body", m.body}}}});
    }
    json::object value{{"messaging_product", "whatsapp"},
                       {"metadata", json::object{{"display_phone_number", "15550001111"},
                                                 {"phone_number_id", number}}},
                       {"contacts", std::move(contacts)},
                       {"messages", std::move(wire_messages)}};
    changes.push_back(json::object{{"field", "messages"}, {"value", std::move(value)}});
  }
  json::object root{{"object", "whatsapp_business_account"},
                    {"entry", json::array{json::object{{"id", "102290129340398"},
                                                       {"changes", std::move(changes)}}}}};
  return json::serialize(root);
}

std::string echo_body(const std::string& phone_number_id, const std::string& customer,
                      const std::string& id, const std::string& text) {
  // Meta's sample puts "value" before "field"; the parser takes either order.
  json::object echo{{"from", "15550001111"},
                    {"to", customer},
                    {"id", id},
                    {"timestamp", std::to_string(std::time(nullptr))},
                    {"type", "text"},
                    {"text", json::object{{"body", text}}}};
  json::object value{{"messaging_product", "whatsapp"},
                     {"metadata", json::object{{"display_phone_number", "15550001111"},
                                               {"phone_number_id", phone_number_id}}},
                     {"message_echoes", json::array{echo}}};
  json::object change{{"value", std::move(value)}, {"field", "smb_message_echoes"}};
  json::object root{
      {"object", "whatsapp_business_account"},
      {"entry", json::array{json::object{{"id", "102290129340398"},
                                         {"changes", json::array{std::move(change)}}}}}};
  return json::serialize(root);
}

std::string fixture(const std::string& relative_path) {
  static const std::regex timestamp(R"re("timestamp":"\d+")re");
  return std::regex_replace(fixture_verbatim(relative_path), timestamp,
                            "\"timestamp\":\"" + std::to_string(std::time(nullptr)) + "\"");
}

std::string fixture_verbatim(const std::string& relative_path) {
  // Appended piece by piece: GCC 12 reports a false -Warray-bounds for string(literal) + "/" when
  // optimizing (GCC bug 105651).
  std::string path = BRIDGE_FIXTURES_DIR;
  path += '/';
  path += relative_path;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read fixture " + path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace bridge::test
