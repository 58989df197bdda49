#include "bridge/answer_limits.hpp"

#include "webhook/format/text_split.hpp"
#include "webhook/util/utf8.hpp"

namespace bridge {

std::vector<std::size_t> query_ends(std::span<const store::pending_message> messages,
                                    std::size_t max_bytes) {
  std::vector<std::size_t> ends;
  std::size_t query_bytes = 0;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const webhook::meta::inbound_message& message = messages[i].message;
    if (message.disposition != webhook::meta::disposition::answer) continue;
    const std::size_t separator = query_bytes > 0 ? 1 : 0;
    if (query_bytes > 0 && query_bytes + separator + message.text.size() > max_bytes) {
      ends.push_back(i);
      query_bytes = 0;
    }
    query_bytes += (query_bytes > 0 ? 1 : 0) + message.text.size();
  }
  if (!messages.empty()) ends.push_back(messages.size());
  return ends;
}

answer_split answer_parts(std::string_view answer, std::size_t max_parts,
                          std::string_view cut_notice) {
  answer_split out{webhook::format::split_text(answer), false};
  std::vector<std::string>& parts = out.parts;
  if (max_parts == 0) max_parts = 1;
  if (parts.size() <= max_parts) return out;
  out.cut = true;
  parts.resize(max_parts);
  const std::string ending = "\n\n" + std::string(cut_notice);
  const std::size_t ending_units = webhook::util::utf16_length(ending);
  // The configuration keeps notices short; one that leaves no room is left out.
  if (ending_units + 1 >= webhook::format::max_text_units) return out;
  std::string& last = parts.back();
  const std::size_t room = webhook::format::max_text_units - ending_units;
  if (webhook::util::utf16_length(last) > room) {
    // Cut at a boundary split_text chooses, leaving room for the notice.
    last = webhook::format::split_text(last, room).front();
  }
  last += ending;
  return out;
}

}  // namespace bridge
