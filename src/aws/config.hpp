// Where the AWS CLI finds credentials, region and endpoint, reproduced for `ztp ca register`:
// environment first (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION /
// AWS_DEFAULT_REGION, AWS_ENDPOINT_URL), then the profile (AWS_PROFILE or "default") in
// ~/.aws/credentials ([name]) and ~/.aws/config ([profile name], [default]); the files move with
// AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "aws/sigv4.hpp"
#include "common/result.hpp"

namespace zt::aws {

// One INI file: section name -> key -> value. Keys are trimmed; '#' and ';' start comments.
using IniFile = std::map<std::string, std::map<std::string, std::string>>;
IniFile parse_ini(std::string_view text);

struct ClientConfig {
  Credentials credentials;
  std::string region;
  std::string endpoint_url;  // empty = the real AWS endpoint for the service and region
  std::string profile;
};

struct ConfigOverrides {
  std::optional<std::string> profile;
  std::optional<std::string> region;
  std::optional<std::string> endpoint_url;
};

// `environment` maps variable names to values (tests pass their own; nullptr = the process env).
Result<ClientConfig> load_client_config(
    const ConfigOverrides& overrides,
    const std::map<std::string, std::string>* environment = nullptr);

}  // namespace zt::aws
