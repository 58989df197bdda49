#pragma once

#include <string>

namespace bridge::test {

struct pem_files {
  std::string cert_file;
  std::string key_file;
};

// The key a test certificate is made with (the TLS 1.2 suites a server can use depend on it).
enum class key_type { ec_p256, rsa_2048 };

// Writes a fresh self-signed certificate for 127.0.0.1 and localhost (P-256 unless asked
// otherwise, valid one day) and its key into dir; the certificate is also its own CA for
// clients that trust it.
pem_files write_self_signed(const std::string& dir, key_type type = key_type::ec_p256);

// A fresh empty directory under the system temp dir, removed by the destructor.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }
  // Writes content to name inside the directory; returns the full path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

}  // namespace bridge::test
