#pragma once

#include <string>

#include "webhook/http/types.hpp"

namespace bridge::webhook::http {

// An HTTP/1.1 POST of a JSON body to `target` (Content-Type and Accept set to JSON); the caller
// adds authentication. Throws std::bad_alloc only.
request json_post(std::string target, std::string body);

}  // namespace bridge::webhook::http
