#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// The spool journal's on-disk format, as pure functions over bytes (no files here).
//
// A journal is a sequence of records. Each record is
//   magic (u32 LE, 0x4C4E524A "JRNL") | length (u32 LE, of kind + body) | crc32 (u32 LE, of kind +
//   body) | kind (u8) | body
// and a body is a sequence of u32-LE-length-prefixed strings. The magic lets a reader find the
// next record after a damaged one; the checksum tells a torn or corrupt record from a good one.
namespace bridge::queue {

enum class record_kind : std::uint8_t {
  accepted = 1,       // a message got its 200: fields {id, conversation, payload}
  started = 2,        // a worker began answering it: {id}
  done = 3,           // its answer was sent (or given up for good): {id}
  seen = 4,           // an id remembered for dedupe, carried over by compaction: {id}
  state_set = 5,      // a piece of lasting state (a paused conversation, a dead letter):
                      // {key, value}; a later one for the same key replaces it
  state_cleared = 6,  // that state is gone: {key}
  seen_key = 7,       // a remembered id's dedupe key (queue/dedupe_key.hpp), 16 bytes, carried
                      // over by compaction in place of the id: {key}
};

struct journal_record {
  record_kind kind;
  std::string id;            // the message's wamid
  std::string conversation;  // accepted only (id is the state's key for state records)
  std::string payload;       // accepted: the message, encoded by its owner; state_set: the value
};

inline constexpr std::uint32_t journal_magic = 0x4C4E524A;
inline constexpr std::size_t journal_header_bytes = 13;  // magic, length, crc32, kind
inline constexpr std::size_t max_record_bytes = 16 * 1024 * 1024;

// Appends the encoding of one record to out.
void encode_record(const journal_record& record, std::string& out);

// What a journal's bytes hold.
struct journal_scan {
  std::vector<journal_record> records;  // every intact record, in file order
  std::size_t valid_bytes = 0;          // length of the prefix that is intact records only
  std::size_t damaged_bytes = 0;        // bytes skipped as torn or corrupt (anywhere in the file)
  std::size_t damaged_regions = 0;      // separate damaged stretches
};

// Reads every intact record; damaged stretches (bad magic, length or checksum, a record cut off
// at the end) are skipped by searching for the next record that checks out. Never throws.
journal_scan scan_journal(std::string_view bytes);

}  // namespace bridge::queue
