#pragma once

#include <string>

#include "webhook/http/types.hpp"

// HTTP/1.1 messages as the bytes that go on the wire, in one contiguous buffer.
//
// Beast's serializer walks a nested buffer sequence (start line, each field, body) through
// variant-based iterators; for our small messages that walk cost more instructions than
// everything else on the answer path (~20,000 per response under callgrind, see BENCHMARKS.md),
// and it ends in a scatter write of many pieces. Laying the same bytes out once in a string that
// a connection reuses is simpler for the kernel too: one buffer, one send.
namespace bridge::webhook::http {

// Appends the start line, every header field in order, the blank line and the body of `message`
// to `out`. The fields are written as they stand: callers set Content-Length (prepare_payload())
// and Connection themselves, exactly as for Beast's serializer. Throws only std::bad_alloc.
void append_wire_bytes(const response& message, std::string& out);
void append_wire_bytes(const request& message, std::string& out);

}  // namespace bridge::webhook::http
