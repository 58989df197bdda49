#pragma once

#include <string_view>

#include "webhook/http/types.hpp"

namespace bridge {

// Whether a request may use a protected admin path.
enum class admin_access {
  allowed,         // Authorization: Bearer <the token>
  not_configured,  // no admin.token is set: control paths are closed (403)
  unauthorized,    // no token, or a wrong one (401 + WWW-Authenticate: Bearer)
};

// Checks `req`'s "Authorization: Bearer <token>" against `token`, in constant time (a wrong
// token's length or first wrong byte does not show in the answer's timing). Never throws.
admin_access check_admin_token(const webhook::http::request& req, std::string_view token) noexcept;

// The answer refusing `access` (403 or 401), JSON like every error. Throws std::bad_alloc only.
webhook::http::response refusal_for(admin_access access, bool keep_alive);

}  // namespace bridge
