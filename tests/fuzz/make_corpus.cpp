// Writes the fuzz targets' seed corpora into <dir>/{payload,http_request,config,journal}/:
// the Meta payload and configuration fixtures, requests signed with the real sign_body, and
// journals made with the real encode_record. Run it after a format changes:
//   build-fuzz/tests/fuzz/fuzz_make_corpus tests/fuzz/corpus
// (tests/fuzz/run.sh never rewrites the corpus; it fuzzes a copy.)
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "queue/journal_format.hpp"
#include "webhook/meta/signature.hpp"

namespace {

namespace fs = std::filesystem;
namespace q = bridge::queue;

// Must match http_request_fuzz.cpp.
constexpr std::string_view app_secret = "fuzz-app-secret";
constexpr std::string_view verify_token = "fuzz-verify-token";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// Copies every file of `from` with extension `ext` into `to`, keeping its name.
void copy_fixtures(const fs::path& from, std::string_view ext, const fs::path& to,
                   std::string_view prefix = "") {
  for (const auto& entry : fs::directory_iterator(from)) {
    if (entry.path().extension() != ext) continue;
    write_file(to / (std::string(prefix) + entry.path().filename().string()),
               read_file(entry.path()));
  }
}

std::string post(std::string_view body, std::string_view signature,
                 std::string_view target = "/webhook") {
  std::string r = "POST " + std::string(target) + " HTTP/1.1\r\nHost: bridge.example.com\r\n";
  r += "User-Agent: facebookexternalua\r\nContent-Type: application/json\r\n";
  r += "X-Hub-Signature-256: " + std::string(signature) + "\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  r += body;
  return r;
}

std::string signed_post(std::string_view body) {
  return post(body, bridge::webhook::meta::sign_body(app_secret, body));
}

std::string chunked_signed_post(std::string_view body) {
  std::string r = "POST /webhook HTTP/1.1\r\nHost: bridge.example.com\r\n";
  r += "X-Hub-Signature-256: " + bridge::webhook::meta::sign_body(app_secret, body) + "\r\n";
  r += "Transfer-Encoding: chunked\r\n\r\n";
  const std::size_t half = body.size() / 2;
  for (const std::string_view part : {body.substr(0, half), body.substr(half)}) {
    std::ostringstream size;
    size << std::hex << part.size();
    r += size.str() + "\r\n" + std::string(part) + "\r\n";
  }
  r += "0\r\n\r\n";
  return r;
}

std::string get(std::string_view target) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: bridge.example.com\r\n\r\n";
}

void write_http(const fs::path& dir, const fs::path& payloads) {
  const std::string text = read_file(payloads / "text.json");
  const std::string batch = read_file(payloads / "batch-2-entries-2-changes.json");
  const std::string statuses = read_file(payloads / "statuses.json");
  const std::string username = read_file(payloads / "username-user.json");
  const std::string token(verify_token);

  write_file(dir / "post-signed-text.http", signed_post(text));
  write_file(dir / "post-signed-batch.http", signed_post(batch));
  write_file(dir / "post-signed-statuses.http", signed_post(statuses));
  write_file(dir / "post-signed-username.http", signed_post(username));
  write_file(dir / "post-signed-chunked.http", chunked_signed_post(text));
  write_file(dir / "post-signed-not-whatsapp.http", signed_post(R"({"object":"page","entry":[]})"));
  write_file(dir / "post-signed-not-json.http", signed_post("{\"object\":"));
  std::string upper = bridge::webhook::meta::sign_body(app_secret, text);
  for (std::size_t i = 7; i < upper.size(); ++i) {
    if (upper[i] >= 'a' && upper[i] <= 'f') upper[i] = static_cast<char>(upper[i] - 'a' + 'A');
  }
  write_file(dir / "post-signed-uppercase-hex.http", post(text, upper));
  // The harness signs requests that carry this marker (see http_request_fuzz.cpp).
  write_file(dir / "post-sign-here-text.http", post(text, "sha256=fuzz"));
  write_file(dir / "post-sign-here-batch.http", post(batch, "sha256=fuzz"));
  write_file(dir / "post-bad-signature.http", post(text, "sha256=" + std::string(64, '0')));
  write_file(dir / "post-malformed-signature.http", post(text, "sha1=abc"));
  write_file(dir / "post-wrong-path.http",
             post(text, bridge::webhook::meta::sign_body(app_secret, text), "/other?x=1"));

  write_file(
      dir / "get-handshake.http",
      get("/webhook?hub.mode=subscribe&hub.verify_token=" + token + "&hub.challenge=1158201444"));
  write_file(
      dir / "get-handshake-encoded.http",
      get("/webhook?hub.challenge=a%20b%2Bc+d&hub.verify_token=" + token + "&hub.mode=subscribe"));
  write_file(dir / "get-handshake-wrong-token.http",
             get("/webhook?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1"));
  write_file(dir / "get-handshake-missing.http", get("/webhook?hub.mode=subscribe"));
  write_file(dir / "put-webhook.http",
             "PUT /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
  write_file(dir / "http10-get.http", "GET /webhook?hub.mode=subscribe HTTP/1.0\r\n\r\n");
  write_file(dir / "pipelined-get-post.http",
             get("/webhook?hub.mode=subscribe&hub.verify_token=" + token + "&hub.challenge=7") +
                 signed_post(text));
}

void write_config(const fs::path& dir, const fs::path& source) {
  copy_fixtures(source / "tests/fixtures/config", ".yaml", dir, "fixture-");
  copy_fixtures(source / "deploy/config", ".yaml", dir, "deploy-");
  copy_fixtures(source / "deploy/systemd", ".yaml", dir, "deploy-systemd-");
  write_file(dir / "env-and-files.yaml",
             "meta:\n  app_secret: ${META_APP_SECRET}\n  verify_token: ${EMPTY:-token}$$\n"
             "  access_token_file: /nonexistent/token\nrobofy:\n  api_key_file: ${UNSET}\n"
             "routes:\n  - {phone_number_id: \"1\", pid: p, chatbot_id: c, access_token: t}\n"
             "  - phone_number_id: \"1\"\n    pid: ${DOLLAR}\n    chatbot_id: ${X:-c\n"
             "queue: {capacity: -1, workers: 1e3}\nshutdown: {grace: 1h30m}\n");
  write_file(dir / "not-a-mapping.yaml", "- just\n- a list\n");
  write_file(dir / "two-documents.yaml", "meta: {}\n---\nrobofy: {}\n");
}

void write_journals(const fs::path& dir) {
  using kind = q::record_kind;
  const q::journal_record accepted{kind::accepted, "wamid.A1", "106540352242922:919876543210",
                                   "{\"text\":\"Hi\"}"};
  const q::journal_record started{kind::started, "wamid.A1", {}, {}};
  const q::journal_record done{kind::done, "wamid.A1", {}, {}};
  const q::journal_record seen{kind::seen, "wamid.OLD", {}, {}};
  const q::journal_record second{kind::accepted, "wamid.B2", "106540352242922:15550001111",
                                 std::string("binary\0payload", 14)};

  const auto journal = [](const std::vector<q::journal_record>& records) {
    std::string out;
    for (const auto& r : records)
      q::encode_record(r, out);
    return out;
  };
  write_file(dir / "one-accepted.jrnl", journal({accepted}));
  write_file(dir / "lifecycle.jrnl", journal({seen, accepted, started, done, second}));
  std::string torn = journal({accepted, second});
  torn.resize(torn.size() - 5);
  write_file(dir / "torn-tail.jrnl", torn);
  std::string corrupt = journal({accepted, started, second});
  corrupt[20] = static_cast<char>(corrupt[20] ^ 0x40);
  write_file(dir / "corrupt-middle.jrnl", corrupt);
  write_file(dir / "garbage-then-record.jrnl", "garbage" + journal({done}));
  // What compaction writes: dedupe keys (16 bytes) in place of old ids, and lasting state.
  const q::journal_record key_a{kind::seen_key,
                                std::string("\x01\x02\x03\x04\x05\x06\x07\x08"
                                            "\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10",
                                            16),
                                {},
                                {}};
  const q::journal_record key_b{kind::seen_key, std::string(16, '\0'), {}, {}};
  const q::journal_record secret{
      kind::state_set, "dedupe:secret", {}, "00112233445566778899aabbccddeeff"};
  const q::journal_record paused{kind::state_set,
                                 "pause:106540352242922/919876543210",
                                 {},
                                 "{\"conversation\":\"106540352242922/919876543210\"}"};
  const q::journal_record resumed{
      kind::state_cleared, "pause:106540352242922/919876543210", {}, {}};
  write_file(dir / "compacted.jrnl", journal({secret, key_a, key_b, paused, accepted, resumed}));
  // A dedupe key of the wrong length is damage, like a bad checksum.
  const q::journal_record short_key{kind::seen_key, "fifteen-bytes!!", {}, {}};
  write_file(dir / "short-seen-key.jrnl", journal({key_a, short_key, accepted}));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_make_corpus <corpus dir>\n";
    return 2;
  }
  try {
    const fs::path out = argv[1];
    const fs::path fixtures = BRIDGE_FIXTURES_DIR;
    const fs::path source = fixtures.parent_path().parent_path();
    for (const char* target : {"payload", "http_request", "config", "journal"}) {
      fs::create_directories(out / target);
    }
    copy_fixtures(fixtures / "payloads", ".json", out / "payload");
    write_http(out / "http_request", fixtures / "payloads");
    write_config(out / "config", source);
    write_journals(out / "journal");
  } catch (const std::exception& e) {
    std::cerr << "fuzz_make_corpus: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
