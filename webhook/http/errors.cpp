#include "webhook/http/errors.hpp"

#include "webhook/util/json_text.hpp"

namespace bridge::webhook::http {

response make_response(http::status status, std::string_view content_type, std::string body,
                       bool keep_alive) {
  response res{status, 11};
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

response make_error_response(http::status status, std::string_view code, std::string_view detail,
                             bool keep_alive) {
  std::string body = R"({"error":{"code":)";
  util::append_json_string(body, code);
  body += R"(,"detail":)";
  util::append_json_string(body, detail);
  body += "}}";
  return make_response(status, "application/json", std::move(body), keep_alive);
}

}  // namespace bridge::webhook::http
