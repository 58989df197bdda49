#include "webhook/http/request_checks.hpp"

#include <boost/beast/core/string.hpp>
#include <iterator>
#include <string_view>
#include <vector>

#include "webhook/http/errors.hpp"

namespace bridge::webhook::http {
namespace {

constexpr std::string_view whitespace = " \t";

std::string_view trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(whitespace);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(whitespace);
  return text.substr(first, last - first + 1);
}

// The codings of every Transfer-Encoding field, in order ("gzip, chunked" -> gzip, chunked).
std::vector<std::string_view> transfer_codings(const request& header) {
  std::vector<std::string_view> codings;
  const auto [first, last] = header.equal_range(http::field::transfer_encoding);
  for (auto field = first; field != last; ++field) {
    std::string_view list = field->value();
    while (!list.empty()) {
      const auto comma = list.find(',');
      const std::string_view coding = trimmed(list.substr(0, comma));
      if (!coding.empty()) codings.push_back(coding);
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  return codings;
}

bool is_chunked(std::string_view coding) {
  return boost::beast::iequals(coding, "chunked");
}

response refuse(http::status status, std::string_view code, std::string_view detail) {
  return make_error_response(status, code, detail, false);
}

std::optional<response> check_framing(const request& header) {
  const auto codings = transfer_codings(header);
  if (header.count(http::field::transfer_encoding) > 0 && codings.empty()) {
    return refuse(http::status::bad_request, "bad_transfer_encoding", "Transfer-Encoding is empty");
  }
  if (codings.empty()) return std::nullopt;
  if (!is_chunked(codings.back())) {
    return refuse(http::status::bad_request, "bad_transfer_encoding",
                  "the final Transfer-Encoding must be chunked (RFC 9112 section 6.3)");
  }
  if (codings.size() > 1) {
    return refuse(http::status::not_implemented, "unsupported_transfer_encoding",
                  "only Transfer-Encoding: chunked is supported");
  }
  return std::nullopt;
}

}  // namespace

std::optional<response> refusal_for_header(const request& header, const header_limits& limits) {
  if (header.target().size() > limits.max_target_bytes) {
    return refuse(http::status::uri_too_long, "uri_too_long", "request target exceeds the limit");
  }
  const auto fields = static_cast<std::size_t>(std::distance(header.begin(), header.end()));
  if (fields > limits.max_header_fields) {
    return refuse(http::status::request_header_fields_too_large, "too_many_headers",
                  "too many header fields");
  }
  // RFC 9112 section 3.2: a server must answer 400 to an HTTP/1.1 request without exactly one Host.
  if (header.version() >= 11 && header.count(http::field::host) != 1) {
    return refuse(http::status::bad_request, "bad_host", "HTTP/1.1 needs exactly one Host field");
  }
  if (auto framing = check_framing(header)) return framing;
  const auto expect = header.find(http::field::expect);
  if (expect != header.end() && !boost::beast::iequals(expect->value(), "100-continue")) {
    return refuse(http::status::expectation_failed, "expectation_failed",
                  "only Expect: 100-continue is supported");
  }
  return std::nullopt;
}

bool expects_continue(const request& header) {
  const auto expect = header.find(http::field::expect);
  return expect != header.end() && boost::beast::iequals(expect->value(), "100-continue") &&
         header.version() >= 11;
}

}  // namespace bridge::webhook::http
