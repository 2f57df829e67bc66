// Role aliases (API reference: CreateRoleAlias, DescribeRoleAlias, ListRoleAliases,
// UpdateRoleAlias, DeleteRoleAlias): the name a device gives the credentials provider instead of
// an IAM role's ARN. The role must exist in the local IAM (Registry::find_role_by_arn) and the
// duration must fit AWS's bounds and the role's own maximum session duration.
#include "cloud/api/handler_util.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;

// credentialDurationSeconds: 900..43200 (API reference, CreateRoleAlias).
constexpr int64_t kMinDuration = 900;
constexpr int64_t kMaxDuration = 43200;

ApiResult<std::string> alias_param(const ApiRequest& request) {
  const std::string& name = request.path.at("roleAlias");
  bool valid =
      !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string_view("_=,@-").find(c) != std::string_view::npos;
      });
  if (!valid) return constraint_violation(name, "roleAlias", "[\\w=,@-]+");
  return name;
}

std::string alias_arn(const ServiceContext& ctx, std::string_view name) {
  return ctx.arn("rolealias/" + std::string(name));
}

// roleArn and credentialDurationSeconds of a Create/Update body, checked; `alias` keeps what the
// body leaves out.
ApiResult<void> apply_body(ServiceContext& ctx, const json& body, registry::RoleAlias& alias,
                           bool role_required) {
  ZT_API_TRY_ASSIGN(auto role_arn, string_member(body, "roleArn"));
  ZT_API_TRY_ASSIGN(auto duration, integer_member(body, "credentialDurationSeconds"));
  if (!role_arn && role_required) {
    return invalid_request(
        "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: "
        "Member must not be null");
  }
  if (role_arn) {
    if (role_arn->size() < 20 || role_arn->size() > 2048) {
      return invalid_request(
          "1 validation error detected: Value '" + role_arn->substr(0, 1024) +
          "' at 'roleArn' failed to satisfy constraint: Member must have "
          "length " +
          (role_arn->size() < 20 ? "greater than or equal to 20" : "less than or equal to 2048"));
    }
    alias.role_arn = *role_arn;
  }
  if (duration) {
    if (*duration < kMinDuration || *duration > kMaxDuration) {
      return invalid_request(
          "1 validation error detected: Value '" + std::to_string(*duration) +
          "' at 'credentialDurationSeconds' failed to satisfy constraint: Member must have value " +
          (*duration < kMinDuration ? "greater than or equal to 900"
                                    : "less than or equal to 43200"));
    }
    alias.credential_duration_seconds = *duration;
  }
  ZT_API_TRY_ASSIGN(auto role, ctx.registry.find_role_by_arn(alias.role_arn));
  if (!role) return invalid_request("Role " + alias.role_arn + " does not exist");
  // "This value must be less than or equal to the maximum session duration of the IAM role that
  // the role alias references" (API reference, CreateRoleAlias).
  if (alias.credential_duration_seconds > role->max_session_duration) {
    return invalid_request("credentialDurationSeconds " +
                           std::to_string(alias.credential_duration_seconds) +
                           " exceeds the maximum session duration of role " + role->name + " (" +
                           std::to_string(role->max_session_duration) + ")");
  }
  return {};
}

ApiResult<registry::RoleAlias> require_alias(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, alias_param(request));
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_role_alias(name));
  if (!found) return not_found("Role alias " + name + " does not exist");
  return std::move(*found);
}

json alias_reply(const ServiceContext& ctx, const registry::RoleAlias& alias) {
  return {{"roleAlias", alias.name}, {"roleAliasArn", alias_arn(ctx, alias.name)}};
}

ApiResult<Reply> create_role_alias(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, alias_param(request));
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  double now = now_seconds();
  registry::RoleAlias alias{.name = name, .creation_date = now, .last_modified = now};
  ZT_API_TRY(apply_body(ctx, body, alias, true));
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_role_alias(name));
  if (existing) {
    return already_exists("Role alias " + name + " already exists", name, alias_arn(ctx, name));
  }
  ZT_API_TRY(ctx.registry.insert_role_alias(alias));
  return json_reply(alias_reply(ctx, alias));
}

ApiResult<Reply> describe_role_alias(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(registry::RoleAlias alias, require_alias(ctx, request));
  return json_reply({{"roleAliasDescription",
                      {{"roleAlias", alias.name},
                       {"roleAliasArn", alias_arn(ctx, alias.name)},
                       {"roleArn", alias.role_arn},
                       {"owner", ctx.account_id},
                       {"credentialDurationSeconds", alias.credential_duration_seconds},
                       {"creationDate", alias.creation_date},
                       {"lastModifiedDate", alias.last_modified}}}});
}

ApiResult<Reply> list_role_aliases(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "marker", "pageSize", 250));
  ZT_API_TRY_ASSIGN(page.ascending, query_bool(request, "isAscendingOrder", true));
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_role_aliases(page));
  json names = json::array();
  for (const auto& alias : result.items) names.push_back(alias.name);
  json out = {{"roleAliases", names}};
  if (!result.next_key.empty()) out["nextMarker"] = page_token(result.next_key);
  return json_reply(out);
}

ApiResult<Reply> update_role_alias(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(registry::RoleAlias alias, require_alias(ctx, request));
  ZT_API_TRY_ASSIGN(json body, json_body(request, false));
  ZT_API_TRY(apply_body(ctx, body, alias, false));
  alias.last_modified = now_seconds();
  ZT_API_TRY(ctx.registry.update_role_alias(alias));
  return json_reply(alias_reply(ctx, alias));
}

ApiResult<Reply> delete_role_alias(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(registry::RoleAlias alias, require_alias(ctx, request));
  ZT_API_TRY(ctx.registry.delete_role_alias(alias.name));
  return no_content();
}

}  // namespace

void add_role_alias_routes(Router& r) {
  r.add("POST", "/role-aliases/{roleAlias}", "CreateRoleAlias", create_role_alias);
  r.add("GET", "/role-aliases/{roleAlias}", "DescribeRoleAlias", describe_role_alias);
  r.add("PUT", "/role-aliases/{roleAlias}", "UpdateRoleAlias", update_role_alias);
  r.add("DELETE", "/role-aliases/{roleAlias}", "DeleteRoleAlias", delete_role_alias);
  r.add("GET", "/role-aliases", "ListRoleAliases", list_role_aliases);
}

}  // namespace zt::cloud::api
