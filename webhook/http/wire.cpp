#include "webhook/http/wire.hpp"

#include <charconv>

namespace bridge::webhook::http {
namespace {

namespace beast = boost::beast;

void append_version(unsigned version, std::string& out) {
  out += "HTTP/";
  out.push_back(static_cast<char>('0' + version / 10));
  out.push_back('.');
  out.push_back(static_cast<char>('0' + version % 10));
}

template <bool IsRequest>
void append_fields_and_body(const beast::http::message<IsRequest, http::string_body>& message,
                            std::string& out) {
  for (const auto& field : message) {
    out.append(field.name_string().data(), field.name_string().size());
    out += ": ";
    out.append(field.value().data(), field.value().size());
    out += "\r\n";
  }
  out += "\r\n";
  out += message.body();
}

// Room for the start line and fields without re-growing: their sizes plus 4 bytes per field.
template <bool IsRequest>
std::size_t wire_size_hint(const beast::http::message<IsRequest, http::string_body>& message) {
  std::size_t size = 64 + message.body().size();
  for (const auto& field : message)
    size += field.name_string().size() + field.value().size() + 4;
  return size;
}

}  // namespace

void append_wire_bytes(const response& message, std::string& out) {
  out.reserve(out.size() + wire_size_hint(message));
  append_version(message.version(), out);
  out.push_back(' ');
  char code[4] = {};
  std::to_chars(code, code + 3, message.result_int());
  out.append(code, 3);
  out.push_back(' ');
  const auto reason = message.reason();
  out.append(reason.data(), reason.size());
  out += "\r\n";
  append_fields_and_body(message, out);
}

void append_wire_bytes(const request& message, std::string& out) {
  out.reserve(out.size() + wire_size_hint(message));
  const auto method = message.method_string();
  out.append(method.data(), method.size());
  out.push_back(' ');
  const auto target = message.target();
  out.append(target.data(), target.size());
  out.push_back(' ');
  append_version(message.version(), out);
  out += "\r\n";
  append_fields_and_body(message, out);
}

}  // namespace bridge::webhook::http
