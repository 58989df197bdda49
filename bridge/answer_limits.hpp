#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bridge/store/pending_message.hpp"

// Bounds on what one conversation sends upstream: how much of a customer's waiting lines go into
// one Robofy query, and how many WhatsApp messages one answer may take.
namespace bridge {

// The largest query made by joining a conversation's waiting lines; the lines after it are asked
// in the next query, in order. A single message longer than this (up to
// webhook::meta::max_text_bytes) is a query of its own.
inline constexpr std::size_t max_joined_query_bytes = 64 * 1024;

// Where a conversation's messages are cut into consecutive queries whose joined text (each message
// to answer plus a newline between them) stays within `max_bytes`: the end index of each query,
// in order, the last being messages.size(). Every message is in exactly one query; an empty batch
// has none. Never throws but std::bad_alloc.
std::vector<std::size_t> query_ends(std::span<const store::pending_message> messages,
                                    std::size_t max_bytes = max_joined_query_bytes);

// The WhatsApp messages an answer is sent as: split_text's parts, at most `max_parts` of them.
// When the answer needs more, the last part kept ends with a blank line and `cut_notice` (its
// text shortened if the notice would not fit), so the customer knows it was cut. Throws
// std::bad_alloc only.
struct answer_split {
  std::vector<std::string> parts;
  bool cut = false;  // the answer needed more than max_parts
};
answer_split answer_parts(std::string_view answer, std::size_t max_parts,
                          std::string_view cut_notice);

}  // namespace bridge
