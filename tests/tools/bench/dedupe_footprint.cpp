// robofy-wa-dedupe-footprint: the memory a remembered wamid costs (`make bench`, issue 15). Fills a
// dedupe set with the store's bounds (queue/dedupe_set, bridge/store/local_store.hpp) with N ids
// shaped like Meta's (~60 characters), and prints one JSON line: the resident memory it added per
// id (from /proc/self/statm), and the set's own count of the bytes it holds per id.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "bridge/store/local_store.hpp"
#include "queue/dedupe_set.hpp"

namespace {

// Resident bytes of this process now.
long resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// A wamid like Meta's: "wamid." and base64 of a protobuf naming the chat and the message.
std::string wamid(std::size_t n) {
  static constexpr char digits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string id = "wamid.HBgLOTE5MTAwMDAwMDAwFQIAEhggQ0ZB";
  for (int i = 0; i < 20; ++i) {
    id.push_back(digits[(n >> (6 * (i % 5))) % 64 ^ (i * 7 % 64)]);
  }
  return id + "AA==";
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t ids = argc > 1 ? std::stoul(argv[1]) : 700'000;
  using bridge::store::local_store;
  const long before = resident_bytes();
  bridge::queue::dedupe_set seen(local_store::dedupe_max_entries, local_store::dedupe_retention);
  const auto now = bridge::queue::dedupe_set::clock::now();
  for (std::size_t i = 0; i < ids; ++i)
    seen.insert(wamid(i), now);
  const long after = resident_bytes();
  const double remembered = static_cast<double>(seen.size());
  std::printf(
      "{\"ids\":%zu,\"remembered\":%zu,\"id_bytes\":%zu,\"rss_bytes_per_id\":%.1f,"
      "\"held_bytes_per_id\":%.1f}\n",
      ids, seen.size(), wamid(0).size(), static_cast<double>(after - before) / remembered,
      static_cast<double>(seen.memory_bytes()) / remembered);
  return 0;
}
