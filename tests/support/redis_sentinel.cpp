#include "tests/support/redis_sentinel.hpp"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <map>
#include <stdexcept>
#include <thread>

namespace bridge::test {

namespace {

constexpr auto probe_interval = std::chrono::milliseconds(50);

sync_reply convert(const redisReply& r) {
  sync_reply out;
  switch (r.type) {
    case REDIS_REPLY_INTEGER:
      out.type = sync_reply::kind::integer;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      out.type = sync_reply::kind::text;
      out.text.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = sync_reply::kind::error;
      out.text.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = sync_reply::kind::array;
      for (std::size_t i = 0; i < r.elements; ++i)
        out.elements.push_back(convert(*r.element[i]));
      break;
    default:
      break;
  }
  return out;
}

// The value of `field` in a flat [name, value, name, value, ...] reply.
std::string field_of(const sync_reply& r, const std::string& field) {
  for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2) {
    if (r.elements[i].text == field) return r.elements[i + 1].text;
  }
  return {};
}

template <class Done>
void wait_until(Done done, std::chrono::milliseconds limit, const std::string& what,
                const failover_group& group) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("failover_group: " + what + " within " +
                               std::to_string(limit.count()) + " ms did not happen; logs:\n" +
                               group.logs());
    }
    std::this_thread::sleep_for(probe_interval);
  }
}

}  // namespace

std::optional<sync_reply> sync_command(std::uint16_t port, const std::vector<std::string>& args,
                                       const std::string& password) {
  timeval limit{1, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, limit);
  if (c == nullptr) return std::nullopt;
  std::optional<sync_reply> out;
  if (c->err == 0 && redisSetTimeout(c, limit) == REDIS_OK) {
    bool ready = true;
    if (!password.empty()) {
      auto* auth = static_cast<redisReply*>(redisCommand(c, "AUTH %s", password.c_str()));
      ready = auth != nullptr && auth->type != REDIS_REPLY_ERROR;
      if (auth != nullptr) freeReplyObject(auth);
    }
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lengths.push_back(a.size());
    }
    if (ready) {
      auto* r = static_cast<redisReply*>(
          redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lengths.data()));
      if (r != nullptr) {
        out = convert(*r);
        freeReplyObject(r);
      }
    }
  }
  redisFree(c);
  return out;
}

failover_group::failover_group(failover_group_options options) : options_(std::move(options)) {
  redis_server_options primary;
  primary.config = options_.server_config;
  if (options_.tls) {
    primary.tls = options_.tls;
    primary.plain_too = true;
    primary.config.push_back("tls-replication yes");
  }
  // Replicas announce themselves (and sentinels reach them) on loopback; a full sync starts at
  // once (diskless sync waits 5 s by default for more replicas to share it).
  primary.config.push_back("replica-announce-ip 127.0.0.1");
  primary.config.push_back("repl-diskless-sync-delay 0");
  servers_.push_back(std::make_unique<redis_server>(primary));
  const std::uint16_t first = servers_.front()->port();
  for (int i = 0; i < options_.replicas; ++i) {
    redis_server_options replica = primary;
    replica.config.push_back("replicaof 127.0.0.1 " + std::to_string(first));
    servers_.push_back(std::make_unique<redis_server>(replica));
  }
  for (std::size_t i = 1; i < servers_.size(); ++i)
    wait_for_replica(i, std::chrono::seconds(15));

  const int quorum = options_.sentinels / 2 + 1;
  for (int i = 0; i < options_.sentinels; ++i) {
    redis_server_options sentinel;
    sentinel.sentinel = true;
    if (options_.tls) {
      sentinel.tls = options_.tls;
      sentinel.plain_too = true;
      sentinel.config.push_back("tls-replication yes");  // to servers and peers
    }
    const std::string& name = options_.master_name;
    sentinel.config.insert(sentinel.config.end(),
                           {
                               "sentinel announce-ip 127.0.0.1",
                               "sentinel monitor " + name + " 127.0.0.1 " + std::to_string(first) +
                                   " " + std::to_string(quorum),
                               "sentinel down-after-milliseconds " + name + " " +
                                   std::to_string(options_.down_after.count()),
                               "sentinel failover-timeout " + name + " " +
                                   std::to_string(options_.failover_timeout.count()),
                               "sentinel parallel-syncs " + name + " 1",
                           });
    if (!options_.sentinel_password.empty()) {
      // Sentinels use it with their peers too.
      sentinel.config.push_back("requirepass " + options_.sentinel_password);
    }
    sentinels_.push_back(std::make_unique<redis_server>(sentinel));
  }
  wait_for_sentinels_to_know_everyone(std::chrono::seconds(20));
}

failover_group::~failover_group() {
  // Sentinels first, so none starts a failover while the servers go.
  sentinels_.clear();
  servers_.clear();
}

std::vector<std::string> failover_group::sentinel_addresses() const {
  std::vector<std::string> out;
  for (const auto& s : sentinels_)
    out.push_back("127.0.0.1:" + std::to_string(s->port()));
  return out;
}

std::size_t failover_group::index_of(std::uint16_t port) const {
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    if (servers_[i]->port() == port) return i;
  }
  throw std::runtime_error("failover_group: no data server on port " + std::to_string(port));
}

std::optional<std::uint16_t> failover_group::named_primary() {
  std::map<std::uint16_t, int> votes;
  for (const auto& s : sentinels_) {
    if (!s->running()) continue;
    const auto r =
        sync_command(s->plain_port(), {"SENTINEL", "GET-MASTER-ADDR-BY-NAME", options_.master_name},
                     options_.sentinel_password);
    if (!r || r->elements.size() != 2) continue;
    ++votes[static_cast<std::uint16_t>(std::stoi(r->elements[1].text))];
  }
  std::optional<std::uint16_t> best;
  int most = 0;
  for (const auto& [port, n] : votes) {
    if (n > most) {
      most = n;
      best = port;
    }
  }
  return best;
}

std::uint16_t failover_group::wait_for_new_primary(std::uint16_t old_port,
                                                   std::chrono::milliseconds limit) {
  std::uint16_t found = 0;
  wait_until(
      [&] {
        const auto named = named_primary();
        if (!named || *named == old_port) return false;
        found = *named;
        return true;
      },
      limit, "a new primary named by the sentinels", *this);
  return found;
}

void failover_group::wait_for_replica(std::size_t i, std::chrono::milliseconds limit) {
  wait_until(
      [&] {
        const auto info = sync_command(servers_.at(i)->plain_port(), {"INFO", "replication"});
        return info && info->text.find("role:slave") != std::string::npos &&
               info->text.find("master_link_status:up") != std::string::npos;
      },
      limit, "server " + std::to_string(i) + " replicating", *this);
}

void failover_group::wait_for_master(std::size_t i, std::chrono::milliseconds limit) {
  wait_until(
      [&] {
        const auto role = sync_command(servers_.at(i)->plain_port(), {"ROLE"});
        return role && !role->elements.empty() && role->elements[0].text == "master";
      },
      limit, "server " + std::to_string(i) + " becoming master", *this);
}

void failover_group::wait_for_sentinels_to_know_everyone(std::chrono::milliseconds limit) {
  const auto peers = std::to_string(sentinels_.size() - 1);
  const auto replicas = std::to_string(options_.replicas);
  wait_until(
      [&] {
        for (const auto& s : sentinels_) {
          const auto master =
              sync_command(s->plain_port(), {"SENTINEL", "MASTER", options_.master_name},
                           options_.sentinel_password);
          if (!master || field_of(*master, "num-slaves") != replicas ||
              field_of(*master, "num-other-sentinels") != peers) {
            return false;
          }
        }
        return true;
      },
      limit, "every sentinel knowing the replicas and its peers", *this);
}

std::string failover_group::logs() const {
  std::string out;
  for (std::size_t i = 0; i < servers_.size(); ++i)
    out += "--- server " + std::to_string(i) + " (port " + std::to_string(servers_[i]->port()) +
           ")\n" + servers_[i]->log();
  for (std::size_t i = 0; i < sentinels_.size(); ++i)
    out += "--- sentinel " + std::to_string(i) + " (port " + std::to_string(sentinels_[i]->port()) +
           ")\n" + sentinels_[i]->log();
  return out;
}

}  // namespace bridge::test
