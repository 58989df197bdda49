#include "webhook/http/json_request.hpp"

namespace bridge::webhook::http {

request json_post(std::string target, std::string body) {
  request req{verb::post, target, 11};
  req.set(field::content_type, "application/json");
  req.set(field::accept, "application/json");
  req.body() = std::move(body);
  return req;
}

}  // namespace bridge::webhook::http
