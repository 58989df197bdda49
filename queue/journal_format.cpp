#include "queue/journal_format.hpp"

#include <boost/crc.hpp>
#include <optional>

namespace bridge::queue {

namespace {

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint32_t get_u32(std::string_view in, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  }
  return v;
}

std::uint32_t crc32_of(std::string_view data) {
  boost::crc_32_type crc;
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}

void put_string(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

// Reads the next length-prefixed string of body at `at`; nullopt when it runs past the end.
std::optional<std::string> get_string(std::string_view body, std::size_t& at) {
  if (body.size() - at < 4) return std::nullopt;
  const std::uint32_t n = get_u32(body, at);
  at += 4;
  if (body.size() - at < n) return std::nullopt;
  std::string s(body.substr(at, n));
  at += n;
  return s;
}

bool known_kind(std::uint8_t k) {
  return k >= 1 && k <= 7;
}

// Decodes kind + body; nullopt when the fields do not match the kind exactly.
std::optional<journal_record> decode(std::string_view kind_and_body) {
  const auto kind = static_cast<std::uint8_t>(kind_and_body.front());
  if (!known_kind(kind)) return std::nullopt;
  journal_record record{static_cast<record_kind>(kind), {}, {}, {}};
  const std::string_view body = kind_and_body.substr(1);
  std::size_t at = 0;
  auto id = get_string(body, at);
  if (!id) return std::nullopt;
  record.id = std::move(*id);
  if (record.kind == record_kind::accepted) {
    auto conversation = get_string(body, at);
    if (!conversation) return std::nullopt;
    auto payload = get_string(body, at);
    if (!payload) return std::nullopt;
    record.conversation = std::move(*conversation);
    record.payload = std::move(*payload);
  }
  if (record.kind == record_kind::state_set) {
    auto value = get_string(body, at);
    if (!value) return std::nullopt;
    record.payload = std::move(*value);
  }
  if (at != body.size()) return std::nullopt;
  if (record.kind == record_kind::seen_key && record.id.size() != 16) return std::nullopt;
  return record;
}

// The record starting at `at`, with its total size, when it is intact.
std::optional<std::pair<journal_record, std::size_t>> record_at(std::string_view bytes,
                                                                std::size_t at) {
  if (bytes.size() - at < journal_header_bytes) return std::nullopt;
  if (get_u32(bytes, at) != journal_magic) return std::nullopt;
  const std::uint32_t length = get_u32(bytes, at + 4);
  if (length == 0 || length > max_record_bytes) return std::nullopt;
  if (bytes.size() - at - 12 < length) return std::nullopt;
  const std::string_view kind_and_body = bytes.substr(at + 12, length);
  if (crc32_of(kind_and_body) != get_u32(bytes, at + 8)) return std::nullopt;
  auto record = decode(kind_and_body);
  if (!record) return std::nullopt;
  return std::pair{std::move(*record), std::size_t{12} + length};
}

}  // namespace

void encode_record(const journal_record& record, std::string& out) {
  std::string kind_and_body;
  kind_and_body.push_back(static_cast<char>(record.kind));
  put_string(kind_and_body, record.id);
  if (record.kind == record_kind::accepted) {
    put_string(kind_and_body, record.conversation);
    put_string(kind_and_body, record.payload);
  }
  if (record.kind == record_kind::state_set) put_string(kind_and_body, record.payload);
  put_u32(out, journal_magic);
  put_u32(out, static_cast<std::uint32_t>(kind_and_body.size()));
  put_u32(out, crc32_of(kind_and_body));
  out.append(kind_and_body);
}

journal_scan scan_journal(std::string_view bytes) {
  journal_scan scan;
  std::size_t at = 0;
  bool in_damage = false;
  bool clean_so_far = true;
  while (at < bytes.size()) {
    if (auto found = record_at(bytes, at)) {
      scan.records.push_back(std::move(found->first));
      at += found->second;
      in_damage = false;
      if (clean_so_far) scan.valid_bytes = at;
      continue;
    }
    // Damaged: skip one byte and look for the next record that checks out.
    if (!in_damage) ++scan.damaged_regions;
    in_damage = true;
    clean_so_far = false;
    ++scan.damaged_bytes;
    ++at;
  }
  return scan;
}

}  // namespace bridge::queue
