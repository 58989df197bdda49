#pragma once

#include <functional>
#include <string>

#include "tests/support/fake_upstream.hpp"

// Responders that make a fake_upstream behave like Robofy or the Graph API.
namespace bridge::test {

// The fields of a Robofy chat request body; empty strings for what is missing.
struct robofy_request_fields {
  std::string query;
  std::string pid;
  std::string chatbot_id;
  std::string session_id;
  std::string platform;
  bool has_misspelt_platform = false;  // "platfrom", the seeds' typo, must never be sent
};
robofy_request_fields parse_robofy_request(const std::string& body);

// The fields of a Graph send-message body.
struct graph_request_fields {
  std::string to;         // "to" (phone number customers)
  std::string recipient;  // "recipient" (username customers)
  std::string type;
  std::string text;  // text.body
  std::string messaging_product;
};
graph_request_fields parse_graph_request(const std::string& body);

// The requests that sent a text message (not read receipts), in the order they came.
std::vector<recorded_request> text_sends(const std::vector<recorded_request>& graph);

// Robofy answering 200 {"message":"Success","data":{"answer": answer(query)}}.
responder robofy_answering(std::function<std::string(const robofy_request_fields&)> answer);
// Robofy answering every query with "Echo: <query>".
responder robofy_echo();
// Graph accepting every message with 200 and a fresh outbound wamid.
responder graph_accepting();

}  // namespace bridge::test
