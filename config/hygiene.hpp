#pragma once

#include <optional>
#include <string>
#include <string_view>

// Checks behind the configuration's warnings: settings that are allowed but unwise.
namespace bridge::config {

// The file's permission bits as octal ("0644") when its group or others may read it; nullopt
// when only its owner may, or when it cannot be examined. Symbolic links are followed (mounted
// Kubernetes secrets are links). Never throws but std::bad_alloc.
std::optional<std::string> readable_by_others(const std::string& path);

// True when `base_url` ("scheme://host[:port]") is plain http:// to a host that is not loopback
// ("localhost", or an address literal in 127.0.0.0/8 or ::1; a name such as 127.0.0.1.example
// may resolve anywhere): the API key or access token it carries would cross a network
// unencrypted. Never throws.
bool is_cleartext_remote(std::string_view base_url) noexcept;

}  // namespace bridge::config
