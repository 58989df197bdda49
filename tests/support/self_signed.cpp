#include "tests/support/self_signed.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>

namespace bridge::test {

namespace {

template <class T, void (*Free)(T*)>
using owned = std::unique_ptr<T, decltype([](T* p) { Free(p); })>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("self-signed certificate: ") + what + " failed");
}

void write_pem(const std::string& path, auto writer) {
  FILE* file = std::fopen(path.c_str(), "w");
  check(file != nullptr, "open");
  const bool ok = writer(file);
  std::fclose(file);
  check(ok, "PEM write");
}

}  // namespace

pem_files write_self_signed(const std::string& dir, key_type type) {
  owned<EVP_PKEY, EVP_PKEY_free> key(type == key_type::rsa_2048 ? EVP_RSA_gen(2048)
                                                                : EVP_EC_gen("P-256"));
  check(key != nullptr, "key generation");
  owned<X509, X509_free> cert(X509_new());
  check(cert != nullptr, "X509_new");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), std::random_device{}() & 0x7fffffff);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    owned<X509_EXTENSION, X509_EXTENSION_free> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    check(ext != nullptr, "extension");
    X509_add_ext(cert.get(), ext.get(), -1);
  }
  check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "signing");

  pem_files files{dir + "/tls.crt", dir + "/tls.key"};
  write_pem(files.cert_file, [&](FILE* f) { return PEM_write_X509(f, cert.get()) == 1; });
  write_pem(files.key_file, [&](FILE* f) {
    return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  });
  return files;
}

temp_dir::temp_dir() {
  std::random_device random;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = std::filesystem::temp_directory_path() /
                     ("robofy-wa-bridge-test-" + std::to_string(random()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate.string();
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

temp_dir::~temp_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string temp_dir::write(const std::string& name, const std::string& content) const {
  const std::string path = path_ + "/" + name;
  std::ofstream out(path, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
  return path;
}

}  // namespace bridge::test
