#include "aws/config.hpp"

#include <cstdlib>

#include "common/file.hpp"

namespace zt::aws {
namespace {

std::string trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

class Environment {
 public:
  explicit Environment(const std::map<std::string, std::string>* values) : values_(values) {}
  std::optional<std::string> get(const std::string& name) const {
    if (values_) {
      auto it = values_->find(name);
      if (it == values_->end() || it->second.empty()) return std::nullopt;
      return it->second;
    }
    const char* value = std::getenv(name.c_str());
    if (!value || !*value) return std::nullopt;
    return std::string(value);
  }

 private:
  const std::map<std::string, std::string>* values_;
};

std::filesystem::path home_file(const Environment& env, const char* variable, const char* name) {
  if (auto path = env.get(variable)) {
    if (path->rfind("~/", 0) == 0)
      return std::filesystem::path(env.get("HOME").value_or("")) / path->substr(2);
    return *path;
  }
  return std::filesystem::path(env.get("HOME").value_or("")) / ".aws" / name;
}

Result<IniFile> read_ini(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return IniFile{};
  ZT_TRY_ASSIGN(std::string text, with_context(read_text_file(path, 1 << 20), path.string()));
  return parse_ini(text);
}

const std::map<std::string, std::string>* find_section(const IniFile& ini,
                                                       const std::string& name) {
  auto it = ini.find(name);
  return it == ini.end() ? nullptr : &it->second;
}

std::optional<std::string> lookup(const std::map<std::string, std::string>* section,
                                  const std::string& key) {
  if (!section) return std::nullopt;
  auto it = section->find(key);
  if (it == section->end() || it->second.empty()) return std::nullopt;
  return it->second;
}

}  // namespace

IniFile parse_ini(std::string_view text) {
  IniFile ini;
  std::string section;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line = trim(text.substr(start, end - start));
    start = end + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = trim(std::string_view(line).substr(1, line.size() - 2));
      ini[section];
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string::npos || section.empty()) continue;  // nested sub-keys etc. are ignored
    ini[section][trim(std::string_view(line).substr(0, eq))] =
        trim(std::string_view(line).substr(eq + 1));
  }
  return ini;
}

Result<ClientConfig> load_client_config(const ConfigOverrides& overrides,
                                        const std::map<std::string, std::string>* environment) {
  Environment env(environment);
  ClientConfig config;
  config.profile = overrides.profile.value_or(env.get("AWS_PROFILE").value_or("default"));
  ZT_TRY_ASSIGN(IniFile credentials_file,
                read_ini(home_file(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials")));
  ZT_TRY_ASSIGN(IniFile config_file, read_ini(home_file(env, "AWS_CONFIG_FILE", "config")));
  const auto* cred_section = find_section(credentials_file, config.profile);
  const auto* conf_section = find_section(
      config_file, config.profile == "default" ? "default" : "profile " + config.profile);
  if (!cred_section && !conf_section && overrides.profile) {
    return make_error(Errc::not_found,
                      "The config profile (" + config.profile + ") could not be found");
  }

  // The CLI takes the key pair from the environment only when both halves are there.
  auto env_key = env.get("AWS_ACCESS_KEY_ID");
  auto env_secret = env.get("AWS_SECRET_ACCESS_KEY");
  if (env_key && env_secret && !overrides.profile) {
    config.credentials = {*env_key, *env_secret, env.get("AWS_SESSION_TOKEN").value_or("")};
  } else {
    for (const auto* section : {cred_section, conf_section}) {
      auto key = lookup(section, "aws_access_key_id");
      auto secret = lookup(section, "aws_secret_access_key");
      if (key && secret) {
        config.credentials = {*key, *secret, lookup(section, "aws_session_token").value_or("")};
        break;
      }
    }
  }
  if (config.credentials.access_key_id.empty()) {
    return make_error(Errc::not_found,
                      "Unable to locate credentials (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
                      "or run `aws configure` for profile '" +
                          config.profile + "')");
  }

  if (overrides.region) {
    config.region = *overrides.region;
  } else if (auto region = env.get("AWS_REGION")) {
    config.region = *region;
  } else if (auto default_region = env.get("AWS_DEFAULT_REGION")) {
    config.region = *default_region;
  } else if (auto file_region = lookup(conf_section, "region")) {
    config.region = *file_region;
  }
  if (config.region.empty()) {
    return make_error(Errc::invalid_argument,
                      "You must specify a region (--region, AWS_REGION or `aws configure`)");
  }

  if (overrides.endpoint_url) {
    config.endpoint_url = *overrides.endpoint_url;
  } else if (auto url = env.get("AWS_ENDPOINT_URL")) {
    config.endpoint_url = *url;
  } else if (auto file_url = lookup(conf_section, "endpoint_url")) {
    config.endpoint_url = *file_url;
  }
  return config;
}

}  // namespace zt::aws
