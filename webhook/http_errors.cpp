#include "webhook/http_errors.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace bridge::webhook {

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
  boost::json::object error;
  error["code"] = code;
  error["detail"] = detail;
  boost::json::object root;
  root["error"] = std::move(error);
  return make_response(status, "application/json", boost::json::serialize(root), keep_alive);
}

}  // namespace bridge::webhook
