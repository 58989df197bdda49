#pragma once

#include <string_view>

#include "webhook/http/types.hpp"

namespace bridge::webhook::http {

// A JSON error answer: {"error": {"code": code, "detail": detail}}, HTTP/1.1, keep-alive as asked.
response make_error_response(http::status status, std::string_view code, std::string_view detail,
                             bool keep_alive);

// A plain answer with the given content type and body.
response make_response(http::status status, std::string_view content_type, std::string body,
                       bool keep_alive);

}  // namespace bridge::webhook::http
