#include "bridge/admin_auth.hpp"

#include "webhook/http/errors.hpp"
#include "webhook/meta/constant_time.hpp"

namespace bridge {

namespace http = webhook::http;

admin_access check_admin_token(const http::request& req, std::string_view token) noexcept {
  if (token.empty()) return admin_access::not_configured;
  const auto header = req.find(http::field::authorization);
  if (header == req.end()) return admin_access::unauthorized;
  constexpr std::string_view scheme = "Bearer ";
  const std::string_view value = header->value();
  if (value.size() < scheme.size() ||
      !std::equal(scheme.begin(), scheme.end(), value.begin(),
                  [](char a, char b) { return (a | 0x20) == (b | 0x20); })) {
    return admin_access::unauthorized;
  }
  return webhook::meta::constant_time_equal(value.substr(scheme.size()), token)
             ? admin_access::allowed
             : admin_access::unauthorized;
}

http::response refusal_for(admin_access access, bool keep_alive) {
  if (access == admin_access::not_configured) {
    return http::make_error_response(
        http::status::forbidden, "admin_token_not_set",
        "admin.token is not set: the admin API's control paths are closed until it is", keep_alive);
  }
  auto res = http::make_error_response(http::status::unauthorized, "unauthorized",
                                       "send Authorization: Bearer <admin.token>", keep_alive);
  res.set(http::field::www_authenticate, "Bearer realm=\"robofy-wa-bridge admin\"");
  return res;
}

}  // namespace bridge
