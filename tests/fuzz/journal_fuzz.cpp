// Fuzzes bridge::queue::scan_journal, which reads the spool journal back after a crash: its bytes
// may be torn, truncated or corrupt anywhere.
//
// Traps when a documented property breaks:
//   - valid_bytes and damaged_bytes stay within the input, damaged regions only with damaged bytes;
//   - a journal without damage is intact to its end (valid_bytes == size);
//   - the intact prefix scans on its own to the same leading records without damage;
//   - re-encoding every record found with encode_record and scanning that gives the same records
//     back, with no damage, and every byte valid.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "queue/journal_format.hpp"

namespace {

namespace q = bridge::queue;

void check(bool condition) {
  if (!condition) __builtin_trap();
}

bool same_record(const q::journal_record& a, const q::journal_record& b) {
  return a.kind == b.kind && a.id == b.id && a.conversation == b.conversation &&
         a.payload == b.payload;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const q::journal_scan scan = q::scan_journal(bytes);

  check(scan.valid_bytes <= size);
  check(scan.damaged_bytes <= size - scan.valid_bytes);
  check((scan.damaged_regions == 0) == (scan.damaged_bytes == 0));
  check(scan.damaged_regions <= scan.damaged_bytes);
  if (scan.damaged_bytes == 0) check(scan.valid_bytes == size);
  for (const q::journal_record& r : scan.records) {
    check(r.kind >= q::record_kind::accepted && r.kind <= q::record_kind::seen_key);
    if (r.kind == q::record_kind::seen_key) check(r.id.size() == 16);
    if (r.kind != q::record_kind::accepted) check(r.conversation.empty());
    if (r.kind != q::record_kind::accepted && r.kind != q::record_kind::state_set) {
      check(r.payload.empty());
    }
  }

  // The intact prefix on its own: no damage, and the records it starts with.
  const q::journal_scan prefix = q::scan_journal(bytes.substr(0, scan.valid_bytes));
  check(prefix.damaged_bytes == 0 && prefix.valid_bytes == scan.valid_bytes);
  check(prefix.records.size() <= scan.records.size());
  for (std::size_t i = 0; i < prefix.records.size(); ++i) {
    check(same_record(prefix.records[i], scan.records[i]));
  }

  // What the spool writes when it compacts: every record found, encoded again.
  std::string rewritten;
  for (const q::journal_record& r : scan.records)
    q::encode_record(r, rewritten);
  const q::journal_scan again = q::scan_journal(rewritten);
  check(again.damaged_bytes == 0 && again.damaged_regions == 0);
  check(again.valid_bytes == rewritten.size());
  check(again.records.size() == scan.records.size());
  for (std::size_t i = 0; i < again.records.size(); ++i) {
    check(same_record(again.records[i], scan.records[i]));
  }
  return 0;
}
