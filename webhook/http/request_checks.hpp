#pragma once

#include <cstddef>
#include <optional>

#include "webhook/http/types.hpp"

// What a request's header alone shows, checked before its body is read (RFC 9112): requests
// that cannot be framed or served safely are refused here, cheaply, and the connection closes.
namespace bridge::webhook::http {

struct header_limits {
  std::size_t max_target_bytes = 8 * 1024;  // the URL (414 beyond)
  std::size_t max_header_fields = 100;      // header fields (431 beyond)
};

// The answer refusing a request whose header is out of bounds or unsafe to frame, nullopt when
// it may be served: URL too long (414), too many fields (431), HTTP/1.1 without exactly one Host
// (400), a Transfer-Encoding whose final coding is not chunked (400: its length cannot be known,
// so its body could be read as the next request), chunked after another coding (501), an
// Expect other than 100-continue (417). Every refusal closes the connection. Never throws but
// std::bad_alloc.
std::optional<response> refusal_for_header(const request& header, const header_limits& limits);

// True when the client waits for "100 Continue" before it sends the body.
bool expects_continue(const request& header);

}  // namespace bridge::webhook::http
