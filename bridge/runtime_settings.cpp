#include "bridge/runtime_settings.hpp"

#include <stdexcept>

namespace bridge {

namespace {
webhook::http::upstream_origin origin_or_throw(const std::string& url, const char* key) {
  auto origin = webhook::http::parse_base_url(url);
  if (!origin) throw std::invalid_argument(std::string(key) + ": not a usable URL: " + url);
  return *origin;
}
}  // namespace

robofy::client::chat_target runtime_settings::robofy() const {
  return robofy::client::chat_target{robofy_origin, config.robofy.auth, config.robofy.api_key,
                                     config.robofy.timeout};
}

webhook::meta::graph_target runtime_settings::graph_for(const config::route& route,
                                                        const std::string& phone_number_id) const {
  return webhook::meta::graph_target{graph_origin, config.meta.graph_api_version, phone_number_id,
                                     route.access_token.value_or(config.meta.access_token),
                                     graph_timeout};
}

std::shared_ptr<const runtime_settings> make_runtime_settings(config::settings settings) {
  auto runtime = std::make_shared<runtime_settings>();
  runtime->robofy_origin = origin_or_throw(settings.robofy.base_url, "robofy.base_url");
  runtime->graph_origin = origin_or_throw(settings.meta.graph_base_url, "meta.graph_base_url");
  runtime->config = std::move(settings);
  return runtime;
}

}  // namespace bridge
