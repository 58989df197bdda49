#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

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
// The texts the fake Graph was asked to send to `customer`, in order.
std::vector<std::string> texts_to(const fake_upstream& graph, const std::string& customer);
// Every line `wa_id` received in answers from the echoing fake Robofy ("Echo: <query>"), in the
// order Graph received them: a joined query is several lines, one per message, so each line is
// one message answered.
std::vector<std::string> lines_heard_by(const std::vector<recorded_request>& graph,
                                        const std::string& wa_id);
// Waits (at most `limit`) until the fake Graph was asked to send `n` texts to `customer`.
bool wait_for_texts(const fake_upstream& graph, const std::string& customer, std::size_t n,
                    std::chrono::milliseconds limit);

// Robofy answering 200 {"message":"Success","data":{"answer": answer(query)}}.
responder robofy_answering(std::function<std::string(const robofy_request_fields&)> answer);
// Robofy answering every query with "Echo: <query>".
responder robofy_echo();
// Graph accepting every message with 200 and a fresh outbound wamid.
responder graph_accepting();

}  // namespace bridge::test
