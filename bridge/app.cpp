#include "bridge/app.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/ssl/context.hpp>
#include <stdexcept>

#include "bridge/admin_endpoint.hpp"
#include "bridge/descriptor_limit.hpp"
#include "bridge/listener_settings.hpp"
#include "bridge/metrics.hpp"
#include "bridge/replica.hpp"
#include "bridge/server_tls.hpp"
#include "bridge/store/local_store.hpp"
#include "bridge/store/redis_checks.hpp"
#include "bridge/store/redis_store.hpp"
#include "bridge/version.hpp"
#include "robofy/client/chat_service.hpp"
#include "webhook/http/listener.hpp"
#include "webhook/meta/endpoint.hpp"
#include "webhook/meta/graph_sender.hpp"

namespace bridge {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Descriptors the process may need at once: both listeners full, two upstream connections per
// worker, and a few for the journal, logs and the event loop.
std::uint64_t descriptors_needed(const config::settings& config) {
  return webhook::http::listener_limits{}.max_connections + admin_max_connections +
         2 * config.queue.workers + 64;
}

void warn_about(const config::settings& config) {
  for (const std::string& warning : config.warnings)
    spdlog::warn("configuration: {}", warning);
}

std::shared_ptr<const runtime_settings> derive(config::settings settings,
                                               const app_options& options) {
  auto derived = make_runtime_settings(std::move(settings));
  if (!options.tune) return derived;
  auto adjusted = std::make_shared<runtime_settings>(*derived);
  options.tune(*adjusted);
  return adjusted;
}

}  // namespace

struct app::parts {
  parts(asio::io_context& context, app_options opts) : io(context), options(std::move(opts)) {}

  asio::io_context& io;
  app_options options;
  std::shared_ptr<const runtime_settings> settings;
  std::shared_ptr<asio::ssl::context> server_tls;
  std::shared_ptr<webhook::http::http_client> client;
  std::shared_ptr<webhook::io::clock> clock;
  std::optional<queue::redis::client_options> redis_options;  // set when redis is configured
  std::shared_ptr<queue::redis::client> redis;
  std::shared_ptr<store::local_store> local;   // the store, when it is this process's own
  std::shared_ptr<store::redis_store> shared;  // the store, when it is Redis
  std::shared_ptr<store::message_store> store;
  std::shared_ptr<pipeline> work;
  std::shared_ptr<webhook::meta::webhook_endpoint> webhook;
  std::shared_ptr<admin_endpoint> admin;
  std::unique_ptr<webhook::http::http_listener> public_listener;
  std::unique_ptr<webhook::http::http_listener> admin_listener;
  webhook::io::task_group tasks{io.get_executor(), "app"};
  bool started = false;
  bool draining = false;
};

namespace {

// The Redis client's options from the redis: block; throws std::invalid_argument naming the key.
queue::redis::client_options redis_options_of(const config::redis_settings& redis) {
  queue::redis::client_options options;
  // With sentinel, url is optional: its scheme (TLS), user and database apply to the primary the
  // sentinels name, its host and port are not used.
  if (!redis.url.empty() || !redis.sentinel) {
    auto url = queue::redis::parse_url(redis.url);
    if (!url) throw std::invalid_argument("redis.url: " + url.error().message);
    options.server = *url;
  }
  if (redis.sentinel) {
    queue::redis::sentinel_options sentinel;
    sentinel.master_name = redis.sentinel->master_name;
    sentinel.password = redis.sentinel->password;
    for (const config::listen_address& a : redis.sentinel->addresses)
      sentinel.addresses.push_back(queue::redis::server_address{a.host, a.port});
    options.sentinel = std::move(sentinel);
  }
  options.password = redis.password;
  options.tls_ca_file = redis.tls_ca_file;
  options.timeout = redis.timeout;
  return options;
}

// Warns (once, at start) about Redis settings weaker than §8 asks for.
asio::awaitable<void> check_redis(std::shared_ptr<queue::redis::client> redis) {
  const store::redis_durability settings = co_await store::read_durability(*redis);
  if (!settings.readable) {
    spdlog::info(
        "Redis refused CONFIG GET (a managed service?): appendonly, appendfsync and "
        "maxmemory-policy were not checked; see the operator guide");
    co_return;
  }
  for (const std::string& warning : store::durability_warnings(settings))
    spdlog::warn("{}", warning);
}

}  // namespace

app::app(asio::io_context& io, config::settings settings, app_options options)
    : parts_(std::make_unique<parts>(io, std::move(options))) {
  parts_->settings = derive(std::move(settings), parts_->options);
  parts_->server_tls = make_server_tls(parts_->settings->config.server);
  if (parts_->settings->config.redis) {
    parts_->redis_options = redis_options_of(*parts_->settings->config.redis);
  }
  webhook::http::http_client_options client_options = parts_->options.http;
  client_options.user_agent = std::string("robofy-wa-bridge/") + version_string;
  parts_->client = webhook::http::make_http_client(io.get_executor(), std::move(client_options));
  parts_->clock = parts_->options.clock ? parts_->options.clock : webhook::io::make_system_clock();
}

app::~app() = default;

void app::start() {
  const config::settings& config = parts_->settings->config;
  warn_about(config);
  const descriptor_limit descriptors = raise_descriptor_limit();
  if (descriptors.soft < descriptors_needed(config)) {
    spdlog::warn(
        "the file descriptor limit ({}) is below what the connection caps may need ({}: 10,000 "
        "webhook and {} admin connections, upstream connections for {} workers); raise it "
        "(LimitNOFILE= under systemd, ulimit -n)",
        descriptors.soft, descriptors_needed(config), admin_max_connections, config.queue.workers);
  }
  std::shared_ptr<store::message_store> store = open_store();
  parts_->work = std::make_shared<pipeline>(
      parts_->io.get_executor(), parts_->settings,
      pipeline_services{store, robofy::client::make_chat_service(parts_->client),
                        webhook::meta::make_graph_message_sender(parts_->client), parts_->clock});
  if (parts_->local) parts_->work->note_recovered(parts_->local->recovered());
  parts_->webhook =
      std::make_shared<webhook::meta::webhook_endpoint>(parts_->work, endpoint_settings_of(config));
  store->set_dead_letter_limits(config.dead_letters.max, config.dead_letters.max_age);
  auto control =
      std::make_shared<control_api>(store, parts_->clock, [this] { return parts_->settings; });
  parts_->admin = std::make_shared<admin_endpoint>(
      [this] { return ready(); }, [this] { return metrics_text(); },
      [this] {
        const config::admin_settings& admin = parts_->settings->config.admin;
        return admin_policy{admin.token, admin.protect_metrics};
      },
      std::move(control));
  parts_->store = store;
  parts_->admin_listener = std::make_unique<webhook::http::http_listener>(
      parts_->io.get_executor(), endpoint_of(config.admin.listen, "admin.listen"), parts_->admin,
      admin_limits());
  parts_->public_listener = std::make_unique<webhook::http::http_listener>(
      parts_->io.get_executor(), endpoint_of(config.server.listen, "server.listen"),
      parts_->webhook, public_limits(config.server), parts_->server_tls);
  parts_->work->start();
  parts_->admin_listener->start();
  parts_->public_listener->start();
  parts_->started = true;
  if (!config.spool.dir && !config.redis) {
    spdlog::info(
        "no spool.dir: accepted messages are kept in memory only; a crash loses those "
        "not yet answered");
  }
  spdlog::info("listening for Meta on {}://{}{} ; admin on http://{}",
               parts_->server_tls ? "https" : "http",
               parts_->public_listener->local_endpoint().address().to_string() + ":" +
                   std::to_string(parts_->public_listener->local_endpoint().port()),
               config.server.webhook_path,
               parts_->admin_listener->local_endpoint().address().to_string() + ":" +
                   std::to_string(parts_->admin_listener->local_endpoint().port()));
}

std::shared_ptr<store::message_store> app::open_store() {
  const config::settings& config = parts_->settings->config;
  if (config.redis) {
    parts_->redis = queue::redis::make_client(parts_->io.get_executor(), *parts_->redis_options);
    store::redis_store_options options;
    options.key_prefix = config.redis->key_prefix;
    options.lease = config.redis->lease;
    options.capacity = config.queue.capacity;
    options.min_replica_acks = config.redis->min_replica_acks;
    options.timeout = config.redis->timeout;
    options.owner = incarnation_name();
    options.redact_phone_numbers = config.logging.redact_phone_numbers;
    parts_->shared = std::make_shared<store::redis_store>(parts_->io.get_executor(), parts_->redis,
                                                          parts_->clock, options);
    parts_->shared->start();
    parts_->tasks.spawn(check_redis(parts_->redis));
    spdlog::info("shared store: Redis at {} (key prefix {}), this replica is {}",
                 parts_->redis->stats().endpoint, options.key_prefix, options.owner);
    if (config.redis->sentinel && !config.redis->url.empty()) {
      spdlog::info(
          "redis.url's host and port are not used with redis.sentinel (its scheme, user and "
          "database are)");
    }
    return parts_->shared;
  }
  // The journal is replayed before the listeners open, so /readyz is 200 only once it is back.
  queue::spool_recovery recovered;
  std::unique_ptr<queue::spool> journal;
  if (config.spool.dir) {
    journal = queue::spool::open(parts_->io.get_executor(), *config.spool.dir, recovered,
                                 parts_->options.spool);
  }
  parts_->local = std::make_shared<store::local_store>(
      parts_->io.get_executor(), config.queue.capacity, std::move(journal), recovered,
      parts_->clock, config.logging.redact_phone_numbers);
  return parts_->local;
}

asio::awaitable<std::size_t> app::shutdown() {
  parts_->draining = true;
  const auto grace = parts_->settings->config.shutdown.grace;
  spdlog::info("draining: answering accepted messages for up to {} ms", grace.count());
  const bool finished = co_await parts_->work->drain(grace);
  const std::size_t dropped = co_await parts_->work->stop();
  if (parts_->public_listener) parts_->public_listener->stop();
  if (parts_->admin_listener) parts_->admin_listener->stop();
  if (finished) {
    spdlog::info("drained: every accepted message was answered");
  } else if (parts_->settings->config.spool.dir) {
    spdlog::warn("shutdown grace over: {} accepted message(s) stay in the journal (listed above)",
                 dropped);
  } else {
    spdlog::error("shutdown grace over: {} accepted message(s) dropped (listed above)", dropped);
  }
  co_return dropped;
}

void app::reload(config::settings settings) {
  const config::settings& old = parts_->settings->config;
  if (settings.server.listen.host != old.server.listen.host ||
      settings.server.listen.port != old.server.listen.port ||
      settings.admin.listen.host != old.admin.listen.host ||
      settings.admin.listen.port != old.admin.listen.port) {
    spdlog::warn("reload: listen addresses changed; they apply after a restart");
  }
  if (settings.spool.dir != old.spool.dir) {
    spdlog::warn("reload: spool.dir changed; it applies after a restart");
  }
  const auto sentinel_of = [](const config::redis_settings& r) {
    std::string where = r.sentinel ? r.sentinel->master_name : std::string();
    if (r.sentinel) {
      for (const auto& a : r.sentinel->addresses)
        where += " " + a.host + ":" + std::to_string(a.port);
    }
    return where;
  };
  if (static_cast<bool>(settings.redis) != static_cast<bool>(old.redis) ||
      (settings.redis &&
       (settings.redis->url != old.redis->url ||
        static_cast<bool>(settings.redis->sentinel) != static_cast<bool>(old.redis->sentinel) ||
        sentinel_of(*settings.redis) != sentinel_of(*old.redis)))) {
    spdlog::warn("reload: redis.url or redis.sentinel changed; they apply after a restart");
  }
  if (settings.queue.workers != old.queue.workers) {
    spdlog::warn("reload: queue.workers changed; it applies after a restart");
  }
  // Build everything that can fail before changing anything, so a bad file changes nothing.
  auto derived = derive(std::move(settings), parts_->options);
  auto tls = make_server_tls(derived->config.server);
  warn_about(derived->config);
  if (static_cast<bool>(tls) != static_cast<bool>(parts_->server_tls)) {
    spdlog::warn("reload: turning TLS on or off applies after a restart");
    tls = nullptr;
  }
  parts_->settings = derived;
  if (tls) parts_->server_tls = tls;
  if (parts_->work) parts_->work->update(derived);
  if (parts_->store) {
    parts_->store->set_dead_letter_limits(derived->config.dead_letters.max,
                                          derived->config.dead_letters.max_age);
  }
  if (parts_->webhook) parts_->webhook->update(endpoint_settings_of(derived->config));
  if (parts_->public_listener) {
    parts_->public_listener->update(public_limits(derived->config.server), tls);
  }
  spdlog::info("configuration reloaded from {}", derived->config.source_file);
}

tcp::endpoint app::webhook_address() const {
  return parts_->public_listener->local_endpoint();
}
tcp::endpoint app::admin_address() const {
  return parts_->admin_listener->local_endpoint();
}
bool app::ready() const {
  return parts_->started && !parts_->draining && parts_->work->storage_writable();
}

std::string app::metrics_text() const {
  const pipeline& work = *parts_->work;
  metrics_view view{parts_->webhook->counters(),
                    parts_->public_listener->counters(),
                    work.admissions(),
                    work.answering(),
                    work.queued(),
                    work.capacity(),
                    work.conversations_in_flight(),
                    parts_->local ? parts_->local->journal_stats() : std::nullopt,
                    work.robofy_breaker().current() != circuit_breaker::state::closed,
                    work.graph_breaker().current() != circuit_breaker::state::closed,
                    ready(),
                    version_string,
                    std::nullopt,
                    std::nullopt,
                    {},
                    parts_->admin->refused()};
  const std::string replica = replica_name();
  if (parts_->redis) {
    view.redis = parts_->redis->stats();
    view.shared = parts_->shared->stats();
    view.replica = replica;
  }
  return render_metrics(view);
}
const pipeline& app::pipeline_view() const {
  return *parts_->work;
}
asio::any_io_executor app::executor() const {
  return parts_->io.get_executor();
}

}  // namespace bridge
