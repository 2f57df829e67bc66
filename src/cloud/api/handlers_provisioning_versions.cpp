// Provisioning template versions (AWS IoT API reference: CreateProvisioningTemplateVersion,
// DescribeProvisioningTemplateVersion, ListProvisioningTemplateVersions,
// DeleteProvisioningTemplateVersion). Versions are numbered from 1 per template and never reused;
// a template has at most 5 (AWS IoT Core quotas, "Fleet provisioning template versions per
// template": VersionsLimitExceededException); the default version cannot be deleted
// (DeleteConflictException); UpdateProvisioningTemplate's defaultVersionId or
// CreateProvisioningTemplateVersion's setAsDefault choose the default.
#include "cloud/api/handlers_provisioning.hpp"

namespace zt::cloud::api::provisioning_handlers {
namespace {

using nlohmann::json;

constexpr int64_t kMaxVersions = 5;

ApiResult<int64_t> version_param(const ApiRequest& request) {
  const std::string& text = request.path.at("versionId");
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos)
    return invalid_request("versionId must be an integer");
  return static_cast<int64_t>(std::stoll(text));
}

ApiResult<registry::ProvisioningTemplateVersion> require_version(ServiceContext& ctx,
                                                                 const std::string& name,
                                                                 int64_t version_id) {
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_provisioning_template_version(name, version_id));
  if (!found) {
    return not_found("The version " + std::to_string(version_id) + " of provisioning template " +
                     name + " does not exist");
  }
  return std::move(*found);
}

ApiResult<Reply> create_version(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, template_name_param(request));
  ZT_API_TRY_ASSIGN(bool set_default, query_bool(request, "setAsDefault", false));
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(std::string template_body, checked_template_body(body));
  ZT_API_TRY(require_template(ctx, name));
  ZT_API_TRY_ASSIGN(int64_t count, ctx.registry.count_provisioning_template_versions(name));
  if (count >= kMaxVersions) {
    return api_error(409, "VersionsLimitExceededException",
                     "The provisioning template " + name + " already has " +
                         std::to_string(kMaxVersions) +
                         " versions; delete one before creating another");
  }
  ZT_API_TRY_ASSIGN(int64_t version_id, ctx.registry.insert_provisioning_template_version(
                                            name, template_body, now_seconds(), set_default));
  return json_reply({{"templateArn", template_arn(ctx, name)},
                     {"templateName", name},
                     {"versionId", version_id},
                     {"isDefaultVersion", set_default}});
}

ApiResult<Reply> describe_version(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, template_name_param(request));
  ZT_API_TRY_ASSIGN(int64_t version_id, version_param(request));
  ZT_API_TRY_ASSIGN(auto record, require_template(ctx, name));
  ZT_API_TRY_ASSIGN(auto version, require_version(ctx, name, version_id));
  return json_reply({{"versionId", version.version_id},
                     {"creationDate", version.creation_date},
                     {"templateBody", version.body},
                     {"isDefaultVersion", version.version_id == record.default_version_id}});
}

ApiResult<Reply> list_versions(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, template_name_param(request));
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "nextToken", "maxResults", 250));
  ZT_API_TRY_ASSIGN(auto record, require_template(ctx, name));
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_provisioning_template_versions(name, page));
  json versions = json::array();
  for (const auto& version : result.items) {
    versions.push_back({{"versionId", version.version_id},
                        {"creationDate", version.creation_date},
                        {"isDefaultVersion", version.version_id == record.default_version_id}});
  }
  json out = {{"versions", versions}};
  if (!result.next_key.empty()) out["nextToken"] = page_token(result.next_key);
  return json_reply(out);
}

ApiResult<Reply> delete_version(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, template_name_param(request));
  ZT_API_TRY_ASSIGN(int64_t version_id, version_param(request));
  ZT_API_TRY_ASSIGN(auto record, require_template(ctx, name));
  ZT_API_TRY(require_version(ctx, name, version_id));
  if (version_id == record.default_version_id) {
    return api_error(409, "DeleteConflictException",
                     "The default version of a provisioning template cannot be deleted");
  }
  ZT_API_TRY(ctx.registry.delete_provisioning_template_version(name, version_id));
  return no_content();
}

}  // namespace
}  // namespace zt::cloud::api::provisioning_handlers

namespace zt::cloud::api {

void add_provisioning_version_routes(Router& r) {
  using namespace provisioning_handlers;
  r.add("POST", "/provisioning-templates/{templateName}/versions",
        "CreateProvisioningTemplateVersion", create_version);
  r.add("GET", "/provisioning-templates/{templateName}/versions",
        "ListProvisioningTemplateVersions", list_versions);
  r.add("GET", "/provisioning-templates/{templateName}/versions/{versionId}",
        "DescribeProvisioningTemplateVersion", describe_version);
  r.add("DELETE", "/provisioning-templates/{templateName}/versions/{versionId}",
        "DeleteProvisioningTemplateVersion", delete_version);
}

}  // namespace zt::cloud::api
