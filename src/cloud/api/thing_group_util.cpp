#include "cloud/api/thing_group_util.hpp"

#include <algorithm>
#include <cctype>

namespace zt::cloud::api {

using nlohmann::json;

ApiResult<std::string> name_param(const ApiRequest& request, const char* param) {
  const std::string& name = request.path.at(param);
  if (!valid_thing_name(name)) {
    return invalid_request(std::string("1 validation error detected: Value at '") + param +
                           "' failed to satisfy constraint: Member must satisfy regular "
                           "expression pattern: [a-zA-Z0-9:_-]+");
  }
  return name;
}

ApiResult<std::optional<std::string>> name_or_arn(const ServiceContext& ctx, const json& body,
                                                  const char* name_key, const char* arn_key,
                                                  const char* kind) {
  ZT_API_TRY_ASSIGN(auto name, string_member(body, name_key));
  ZT_API_TRY_ASSIGN(auto arn, string_member(body, arn_key));
  if (name) {
    if (!valid_thing_name(*name))
      return invalid_request(std::string(name_key) + " must match [a-zA-Z0-9:_-]{1,128}");
    return name;
  }
  if (!arn) return std::optional<std::string>();
  std::string prefix = ctx.arn(std::string(kind) + "/");
  if (arn->size() <= prefix.size() || arn->compare(0, prefix.size(), prefix) != 0 ||
      !valid_thing_name(arn->substr(prefix.size()))) {
    return invalid_request(std::string(arn_key) + " '" + arn->substr(0, 200) + "' is not a " +
                           kind + " ARN of this account and region");
  }
  return std::optional<std::string>(arn->substr(prefix.size()));
}

json name_and_arn(const ServiceContext& ctx, const char* kind, const std::string& name) {
  return {{"groupName", name}, {"groupArn", ctx.arn(std::string(kind) + "/" + name)}};
}

ApiResult<void> check_expected_version(std::optional<int64_t> expected, int64_t version,
                                       const std::string& what) {
  if (expected && *expected != version) {
    return api_error(409, "VersionConflictException",
                     "The version for " + what + " does not match the expected version.");
  }
  return {};
}

ApiResult<std::optional<int64_t>> expected_version_query(const ApiRequest& request) {
  auto text = request.query_value("expectedVersion");
  if (!text) return std::optional<int64_t>();
  bool digits = !text->empty() && text->size() < 19 &&
                std::all_of(text->begin(), text->end(),
                            [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (!digits) return invalid_request("expectedVersion must be a non-negative integer");
  return std::optional<int64_t>(std::stoll(*text));
}

Reply list_reply(const char* key, json items, const std::string& next_key) {
  json out = {{key, std::move(items)}};
  if (!next_key.empty()) out["nextToken"] = page_token(next_key);
  return json_reply(out);
}

}  // namespace zt::cloud::api
