#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>

namespace bridge::webhook::http {

// Feeds `parser` what `buffer` already holds and consumes what it used. Our messages are small
// and usually arrive whole in one read; parsing them here spares the trips through Beast's
// composed reads (~10,000 instructions a message under callgrind, BENCHMARKS.md), which are still
// used for whatever has not arrived. Stops after the header unless the parser is eager. Running
// out of buffered bytes is not an error; a malformed message or a broken limit is.
template <bool IsRequest>
boost::system::error_code parse_buffered(
    boost::beast::http::parser<IsRequest, boost::beast::http::string_body>& parser,
    boost::beast::flat_buffer& buffer) {
  boost::system::error_code ec;
  while (buffer.size() > 0 && !parser.is_done()) {
    const std::size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == boost::beast::http::error::need_more) return {};
    if (ec) return ec;
    if (used == 0 || (!parser.eager() && parser.is_header_done())) return {};
  }
  return ec;
}

}  // namespace bridge::webhook::http
