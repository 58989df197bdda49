// The journal's byte format: round trips, and torn or corrupt records skipped without losing
// the intact ones around them.
#include "queue/journal_format.hpp"

#include <boost/test/unit_test.hpp>

using namespace bridge::queue;

namespace {

std::vector<journal_record> sample_records() {
  return {
      {record_kind::accepted, "wamid.1", "106/9198", R"({"text":"hi"})"},
      {record_kind::started, "wamid.1", "", ""},
      {record_kind::accepted, "wamid.2", "106/9199", std::string("bin\0ary\xff", 8)},
      {record_kind::done, "wamid.1", "", ""},
      {record_kind::seen, "wamid.0", "", ""},
      {record_kind::seen_key, std::string("0123456789abcdef"), "", ""},
  };
}

std::string encode_all(const std::vector<journal_record>& records) {
  std::string out;
  for (const auto& r : records)
    encode_record(r, out);
  return out;
}

bool same(const journal_record& a, const journal_record& b) {
  return a.kind == b.kind && a.id == b.id && a.conversation == b.conversation &&
         a.payload == b.payload;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(journal_format)

BOOST_AUTO_TEST_CASE(records_round_trip) {
  const auto records = sample_records();
  const std::string bytes = encode_all(records);
  const journal_scan scan = scan_journal(bytes);
  BOOST_REQUIRE_EQUAL(scan.records.size(), records.size());
  for (std::size_t i = 0; i < records.size(); ++i)
    BOOST_TEST(same(scan.records[i], records[i]));
  BOOST_TEST(scan.valid_bytes == bytes.size());
  BOOST_TEST(scan.damaged_bytes == 0u);
}

// A key is 16 bytes; a seen_key record of another length is not one (it counts as damage).
BOOST_AUTO_TEST_CASE(a_seen_key_record_of_the_wrong_length_is_refused) {
  std::string bytes;
  encode_record({record_kind::seen_key, "short", "", ""}, bytes);
  encode_record({record_kind::seen, "wamid.9", "", ""}, bytes);
  const journal_scan scan = scan_journal(bytes);
  BOOST_TEST_REQUIRE(scan.records.size() == 1u);
  BOOST_TEST(scan.records[0].id == "wamid.9");
  BOOST_TEST(scan.damaged_bytes > 0u);
}

BOOST_AUTO_TEST_CASE(empty_journal_holds_nothing) {
  const journal_scan scan = scan_journal("");
  BOOST_TEST(scan.records.empty());
  BOOST_TEST(scan.damaged_regions == 0u);
}

BOOST_AUTO_TEST_CASE(a_torn_last_record_is_skipped_at_every_cut) {
  const auto records = sample_records();
  const std::string bytes = encode_all(records);
  std::string last;
  encode_record(records.back(), last);
  // Cut the file anywhere inside the last record: the others all survive.
  for (std::size_t cut = 1; cut < last.size(); ++cut) {
    const journal_scan scan = scan_journal(std::string_view(bytes).substr(0, bytes.size() - cut));
    BOOST_REQUIRE_EQUAL(scan.records.size(), records.size() - 1);
    BOOST_TEST(scan.valid_bytes == bytes.size() - last.size());
    BOOST_TEST(scan.damaged_bytes == last.size() - cut);
    BOOST_TEST(scan.damaged_regions == 1u);
  }
}

BOOST_AUTO_TEST_CASE(a_corrupt_record_in_the_middle_is_skipped_and_the_rest_kept) {
  const auto records = sample_records();
  std::string bytes = encode_all(records);
  std::string first;
  encode_record(records[0], first);
  // Flip one byte of the second record's body: its checksum no longer matches.
  bytes[first.size() + journal_header_bytes + 2] ^= 0x40;
  const journal_scan scan = scan_journal(bytes);
  BOOST_REQUIRE_EQUAL(scan.records.size(), records.size() - 1);
  BOOST_TEST(same(scan.records[0], records[0]));
  BOOST_TEST(same(scan.records[1], records[2]));
  BOOST_TEST(scan.damaged_regions == 1u);
  BOOST_TEST(scan.valid_bytes == first.size());
}

BOOST_AUTO_TEST_CASE(garbage_between_records_is_skipped) {
  const auto records = sample_records();
  std::string bytes;
  encode_record(records[0], bytes);
  const std::string garbage = "\x4a\x52\x4e\x4c garbage that starts like a record";
  bytes += garbage;
  encode_record(records[2], bytes);
  const journal_scan scan = scan_journal(bytes);
  BOOST_REQUIRE_EQUAL(scan.records.size(), 2u);
  BOOST_TEST(same(scan.records[1], records[2]));
  BOOST_TEST(scan.damaged_bytes == garbage.size());
}

BOOST_AUTO_TEST_CASE(a_record_claiming_a_huge_length_is_not_trusted) {
  std::string bytes;
  encode_record(sample_records()[0], bytes);
  bytes[4] = '\xff';
  bytes[5] = '\xff';
  bytes[6] = '\xff';
  bytes[7] = '\x7f';
  const journal_scan scan = scan_journal(bytes);
  BOOST_TEST(scan.records.empty());
  BOOST_TEST(scan.damaged_bytes == bytes.size());
}

BOOST_AUTO_TEST_SUITE_END()
