#include "tests/support/redis_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace bridge::test {

namespace {

// Bounds of the waits; each wait looks again every probe_interval.
constexpr auto start_limit = std::chrono::seconds(10);
constexpr auto signal_limit = std::chrono::seconds(5);
constexpr auto probe_interval = std::chrono::milliseconds(20);
constexpr int port_attempts = 5;

std::string server_binary(bool sentinel) {
  if (sentinel) {
    if (const char* path = std::getenv("REDIS_SENTINEL")) return path;
    return "/usr/bin/redis-sentinel";
  }
  if (const char* path = std::getenv("REDIS_SERVER")) return path;
  return "/usr/bin/redis-server";
}

// A port the kernel just handed out on 127.0.0.1: free now, though another process may take it
// before redis binds it (start() then reports the clash and the constructor tries another).
std::uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("no free loopback port");
  return ntohs(address.sin_port);
}

// A blocking socket connected to 127.0.0.1:port whose reads and writes give up after 200 ms;
// -1 when nothing listens.
int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval limit{0, 200'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// The start of the server's answer to PING; empty when there is none.
std::string ping_plain(int fd) {
  constexpr std::string_view ping = "PING\r\n";
  if (::send(fd, ping.data(), ping.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(ping.size())) {
    return {};
  }
  char answer[64];
  const ssize_t n = ::recv(fd, answer, sizeof answer, 0);
  return n > 0 ? std::string(answer, static_cast<std::size_t>(n)) : std::string{};
}

// The same over TLS, without verifying the certificate: this only asks whether it is up.
std::string ping_tls(int fd) {
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  if (context == nullptr) return {};
  SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr);
  SSL* ssl = SSL_new(context);
  std::string out;
  if (ssl != nullptr && SSL_set_fd(ssl, fd) == 1 && SSL_connect(ssl) == 1 &&
      SSL_write(ssl, "PING\r\n", 6) == 6) {
    char answer[64];
    const int n = SSL_read(ssl, answer, sizeof answer);
    if (n > 0) out.assign(answer, static_cast<std::size_t>(n));
  }
  SSL_free(ssl);
  SSL_CTX_free(context);
  return out;
}

// The state letter of /proc/<pid>/stat: 'T' when stopped.
char process_state(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), {});
  const auto paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() ? text[paren + 2] : '?';
}

void wait_for_state(pid_t pid, bool stopped) {
  const auto deadline = std::chrono::steady_clock::now() + signal_limit;
  while ((process_state(pid) == 'T') != stopped) {
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error(std::string("redis-server did not ") +
                               (stopped ? "stop after SIGSTOP" : "continue after SIGCONT"));
    }
    std::this_thread::sleep_for(probe_interval);
  }
}

}  // namespace

redis_server::redis_server(redis_server_options options) : options_(std::move(options)) {
  const std::string binary = server_binary(options_.sentinel);
  if (!std::filesystem::exists(binary)) {
    throw std::runtime_error(
        binary + " not found: install " + (options_.sentinel ? "redis-sentinel" : "redis-server") +
        " (make test-deps), or set " + (options_.sentinel ? "REDIS_SENTINEL" : "REDIS_SERVER") +
        " to its path");
  }
  for (int attempt = 0; attempt < port_attempts; ++attempt) {
    port_ = free_loopback_port();
    if (options_.tls && options_.plain_too) plain_port_ = free_loopback_port();
    if (start()) return;
  }
  throw std::runtime_error("redis-server found every port taken (" + std::to_string(port_attempts) +
                           " tries); its log:\n" + log());
}

redis_server::~redis_server() = default;

std::string redis_server::url(int db) const {
  return std::string(options_.tls ? "rediss" : "redis") + "://127.0.0.1:" + std::to_string(port_) +
         "/" + std::to_string(db);
}

void redis_server::pause() {
  process_->send_signal(SIGSTOP);
  wait_for_state(process_->pid(), true);
}

void redis_server::resume() {
  process_->send_signal(SIGCONT);
  wait_for_state(process_->pid(), false);
}

void redis_server::kill() {
  if (!process_) return;
  earlier_logs_ += process_->output();
  process_.reset();  // SIGKILL and wait
}

void redis_server::restart() {
  if (process_ && process_->running())
    throw std::logic_error("restart() of a running redis-server");
  kill();
  if (!start()) {
    throw std::runtime_error("port " + std::to_string(port_) +
                             " was taken while redis-server was down; its log:\n" + log());
  }
}

bool redis_server::running() {
  return process_ && process_->running();
}

std::string redis_server::log() const {
  return earlier_logs_ + (process_ ? process_->output() : std::string{});
}

bool redis_server::start() {
  // A sentinel keeps what it learnt (the current primary, its peers) in the file it rewrites.
  if (!options_.sentinel || !started_once_) {
    write_config();
  }
  process_ = std::make_unique<child_process>(server_binary(options_.sentinel),
                                             std::vector<std::string>{dir() + "/redis.conf"});
  const auto deadline = std::chrono::steady_clock::now() + start_limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->running()) {
      const std::string output = process_->output();
      kill();
      if (output.find("Address already in use") != std::string::npos) return false;
      throw std::runtime_error("redis-server exited at start; its log:\n" + output);
    }
    if (answers_ping()) {
      started_once_ = true;
      return true;
    }
    std::this_thread::sleep_for(probe_interval);
  }
  const std::string output = log();
  kill();
  throw std::runtime_error("redis-server did not answer PING within 10 s; its log:\n" + output);
}

void redis_server::write_config() const {
  std::ofstream conf(dir() + "/redis.conf");
  conf << "bind 127.0.0.1\n"
       << "dir " << dir() << "\n"
       << "daemonize no\n"
       << "loglevel notice\n";
  if (!options_.sentinel) {
    conf << "save \"\"\n"
         << "appendonly yes\n"
         << "appendfsync always\n";
  }
  if (options_.tls) {
    conf << "port " << plain_port_ << "\n"
         << "tls-port " << port_ << "\n"
         << "tls-cert-file " << options_.tls->cert_file << "\n"
         << "tls-key-file " << options_.tls->key_file << "\n"
         << "tls-ca-cert-file " << options_.tls->cert_file << "\n"
         << "tls-auth-clients no\n";
  } else {
    conf << "port " << port_ << "\n";
  }
  if (!options_.password.empty()) conf << "requirepass " << options_.password << "\n";
  for (const auto& user : options_.acl_users)
    conf << "user " << user << "\n";
  for (const auto& line : options_.config)
    conf << line << "\n";
  if (!conf) throw std::runtime_error("cannot write " + dir() + "/redis.conf");
}

bool redis_server::answers_ping() const {
  const bool plain = !options_.tls || plain_port_ != 0;
  const int fd = connect_loopback(plain ? plain_port() : port_);
  if (fd < 0) return false;
  const std::string answer = plain ? ping_plain(fd) : ping_tls(fd);
  ::close(fd);
  // NOAUTH: up, and wants a password.
  return answer.starts_with("+PONG") || answer.starts_with("-NOAUTH");
}

}  // namespace bridge::test
