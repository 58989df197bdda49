#include "tests/support/fake_services.hpp"

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <sstream>

namespace bridge::test {

namespace json = boost::json;

namespace {
std::string string_at(const json::value& root, std::initializer_list<std::string_view> path) {
  const json::value* at = &root;
  for (std::string_view key : path) {
    if (!at->is_object()) return {};
    const json::value* next = at->as_object().if_contains(key);
    if (next == nullptr) return {};
    at = next;
  }
  return at->is_string() ? std::string(at->as_string()) : std::string{};
}

json::value parse_or_null(const std::string& body) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  return ec ? json::value{} : parsed;
}
}  // namespace

robofy_request_fields parse_robofy_request(const std::string& body) {
  const json::value root = parse_or_null(body);
  robofy_request_fields fields;
  fields.query = string_at(root, {"query"});
  fields.pid = string_at(root, {"pid"});
  fields.chatbot_id = string_at(root, {"chatbot_id"});
  fields.session_id = string_at(root, {"user_context", "session_id"});
  fields.platform = string_at(root, {"user_context", "platform"});
  fields.has_misspelt_platform = body.find("platfrom") != std::string::npos;
  return fields;
}

graph_request_fields parse_graph_request(const std::string& body) {
  const json::value root = parse_or_null(body);
  graph_request_fields fields;
  fields.to = string_at(root, {"to"});
  fields.recipient = string_at(root, {"recipient"});
  fields.type = string_at(root, {"type"});
  fields.text = string_at(root, {"text", "body"});
  fields.messaging_product = string_at(root, {"messaging_product"});
  return fields;
}

responder robofy_answering(std::function<std::string(const robofy_request_fields&)> answer) {
  return [answer = std::move(answer)](const recorded_request& req) {
    const robofy_request_fields fields = parse_robofy_request(req.body);
    json::object data;
    data["answer"] = answer(fields);
    data["session_id"] = fields.session_id;
    json::object root;
    root["message"] = "Success";
    root["data"] = std::move(data);
    return canned_reply{200, json::serialize(root)};
  };
}

std::vector<recorded_request> text_sends(const std::vector<recorded_request>& graph) {
  std::vector<recorded_request> texts;
  for (const auto& req : graph) {
    if (parse_graph_request(req.body).type == "text") texts.push_back(req);
  }
  return texts;
}

std::vector<std::string> texts_to(const fake_upstream& graph, const std::string& customer) {
  std::vector<std::string> out;
  for (const auto& req : text_sends(graph.requests())) {
    const auto sent = parse_graph_request(req.body);
    if (sent.to == customer) out.push_back(sent.text);
  }
  return out;
}

std::vector<std::string> lines_heard_by(const std::vector<recorded_request>& graph,
                                        const std::string& wa_id) {
  std::vector<std::string> lines;
  for (const auto& req : graph) {
    const auto sent = parse_graph_request(req.body);
    if (sent.to != wa_id || !sent.text.starts_with("Echo: ")) continue;
    std::istringstream text(sent.text.substr(6));
    for (std::string line; std::getline(text, line);)
      lines.push_back(line);
  }
  return lines;
}

bool wait_for_texts(const fake_upstream& graph, const std::string& customer, std::size_t n,
                    std::chrono::milliseconds limit) {
  return graph.wait_until(
      [&](const std::vector<recorded_request>& requests) {
        std::size_t count = 0;
        for (const auto& req : requests) {
          const auto sent = parse_graph_request(req.body);
          if (sent.type == "text" && sent.to == customer) ++count;
        }
        return count >= n;
      },
      limit);
}

responder robofy_echo() {
  return robofy_answering([](const robofy_request_fields& f) { return "Echo: " + f.query; });
}

responder graph_accepting() {
  auto counter = std::make_shared<std::atomic<int>>(0);
  return [counter](const recorded_request& req) {
    const graph_request_fields fields = parse_graph_request(req.body);
    json::object contact;
    contact["input"] = fields.to.empty() ? fields.recipient : fields.to;
    contact["wa_id"] = fields.to;
    json::object message;
    message["id"] = "wamid.out." + std::to_string(++*counter);
    json::object root;
    root["messaging_product"] = "whatsapp";
    root["contacts"] = json::array{contact};
    root["messages"] = json::array{message};
    return canned_reply{200, json::serialize(root)};
  };
}

}  // namespace bridge::test
