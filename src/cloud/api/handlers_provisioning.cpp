// Provisioning templates (AWS IoT API reference: CreateProvisioningTemplate,
// DescribeProvisioningTemplate, ListProvisioningTemplates, UpdateProvisioningTemplate,
// DeleteProvisioningTemplate). The body is checked by the template language's own parser
// (cloud/provisioning/template.hpp) at creation, so a stored template cannot fail later for a
// reason visible then; the role must be an IAM role of the account that AWS IoT may assume; the
// pre-provisioning hook a Lambda function of the account (FLEET_PROVISIONING templates only).
#include "cloud/api/handlers_provisioning.hpp"

#include <regex>

#include "cloud/iam/policy_document.hpp"
#include "cloud/provisioning/hook.hpp"
#include "cloud/provisioning/template.hpp"

namespace zt::cloud::api::provisioning_handlers {

using nlohmann::json;

namespace {

// AWS's validation wording for a member that breaks the model's constraints.
ApiError constraint(const std::string& value, const char* member, const std::string& rule) {
  return invalid_request("1 validation error detected: Value '" + value.substr(0, 200) + "' at '" +
                         member + "' failed to satisfy constraint: " + rule);
}

bool valid_template_name(const std::string& name) {
  static const std::regex pattern("^[0-9A-Za-z_-]+$");
  return !name.empty() && name.size() <= 36 && std::regex_match(name, pattern);
}

ApiResult<std::string> checked_name(const std::string& name, const char* member) {
  if (!valid_template_name(name)) {
    return constraint(name, member,
                      "Member must satisfy regular expression pattern: ^[0-9A-Za-z_-]+$ and have "
                      "length between 1 and 36");
  }
  return name;
}

}  // namespace

std::string template_arn(const ServiceContext& ctx, const std::string& name) {
  return ctx.arn("provisioningtemplate/" + name);
}

ApiResult<std::string> template_name_param(const ApiRequest& request) {
  return checked_name(request.path.at("templateName"), "templateName");
}

ApiResult<registry::ProvisioningTemplate> require_template(ServiceContext& ctx,
                                                           const std::string& name) {
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_provisioning_template(name));
  if (!found) return not_found("The provisioning template " + name + " does not exist");
  return std::move(*found);
}

ApiResult<std::string> checked_template_body(const json& body) {
  ZT_API_TRY_ASSIGN(auto text, string_member(body, "templateBody"));
  if (!text) return invalid_request("templateBody is required");
  if (text->size() > provisioning::kMaxTemplateBody) {
    return constraint(*text, "templateBody", "Member must have length less than or equal to 10240");
  }
  auto parsed = provisioning::parse_template(*text);
  if (!parsed) return invalid_request(parsed.error().message);
  return std::move(*text);
}

namespace {

// provisioningRoleArn: "The role ARN for the role associated with the provisioning template. This
// IoT role grants permission to provision a device." A role of this account whose trust policy lets
// iot.amazonaws.com assume it (as JITP's roleArn).
ApiResult<std::string> checked_role(ServiceContext& ctx, const std::string& arn) {
  if (arn.size() < 20 || arn.size() > 2048) {
    return constraint(arn, "provisioningRoleArn", "Member must have length between 20 and 2048");
  }
  ZT_API_TRY_ASSIGN(auto role, ctx.registry.find_role_by_arn(arn));
  if (!role) return invalid_request("The role " + arn + " does not exist in this account");
  if (!iam::trust_document_allows_service(role->trust_policy, "iot.amazonaws.com"))
    return invalid_request("The role " + arn + " cannot be assumed by iot.amazonaws.com");
  return arn;
}

struct Hook {
  std::string target_arn;
  std::string payload_version;
};

ApiResult<Hook> checked_hook(ServiceContext& ctx, const json& hook, const std::string& type) {
  if (!hook.is_object()) return invalid_request("preProvisioningHook must be an object");
  if (type != "FLEET_PROVISIONING") {
    return invalid_request(
        "A pre-provisioning hook is supported only for templates of type FLEET_PROVISIONING");
  }
  Hook out;
  ZT_API_TRY_ASSIGN(auto target, string_member(hook, "targetArn", "preProvisioningHook.targetArn"));
  if (!target) return invalid_request("preProvisioningHook.targetArn is required");
  out.target_arn = *target;
  ZT_API_TRY_ASSIGN(auto version,
                    string_member(hook, "payloadVersion", "preProvisioningHook.payloadVersion"));
  out.payload_version = version.value_or(provisioning::kDefaultHookPayloadVersion);
  static const std::regex version_pattern("^[0-9-]+$");
  if (out.payload_version.size() < 10 || out.payload_version.size() > 32 ||
      !std::regex_match(out.payload_version, version_pattern)) {
    return constraint(out.payload_version, "preProvisioningHook.payloadVersion",
                      "Member must satisfy regular expression pattern: ^[0-9-]+$ and have length "
                      "between 10 and 32");
  }
  // "Only Lambda functions are currently supported" (ProvisioningHook.targetArn): one of ours.
  auto function = provisioning::hook_function_name(out.target_arn, ctx.region, ctx.account_id);
  if (!function) {
    return invalid_request("preProvisioningHook.targetArn " + out.target_arn.substr(0, 200) +
                           " is not the ARN of a Lambda function of this account and region");
  }
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_lambda_function(*function));
  if (!found) return invalid_request("The Lambda function " + *function + " does not exist");
  return out;
}

ApiResult<std::string> checked_description(const json& body) {
  ZT_API_TRY_ASSIGN(auto description, string_member(body, "description"));
  if (description && description->size() > 500)
    return constraint(*description, "description",
                      "Member must have length less than or equal to 500");
  return description.value_or("");
}

ApiResult<Reply> create_template(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(auto name, string_member(body, "templateName"));
  if (!name) return invalid_request("templateName is required");
  ZT_API_TRY(checked_name(*name, "templateName"));
  registry::ProvisioningTemplate record;
  record.name = *name;
  ZT_API_TRY_ASSIGN(auto type, string_member(body, "type"));
  record.type = type.value_or("FLEET_PROVISIONING");
  if (record.type != "FLEET_PROVISIONING" && record.type != "JITP") {
    return constraint(record.type, "type",
                      "Member must satisfy enum value set: [FLEET_PROVISIONING, JITP]");
  }
  ZT_API_TRY_ASSIGN(std::string template_body, checked_template_body(body));
  ZT_API_TRY_ASSIGN(record.description, checked_description(body));
  ZT_API_TRY_ASSIGN(auto enabled, bool_member(body, "enabled"));
  record.enabled = enabled.value_or(false);
  ZT_API_TRY_ASSIGN(auto role, string_member(body, "provisioningRoleArn"));
  if (!role) return invalid_request("provisioningRoleArn is required");
  ZT_API_TRY_ASSIGN(record.provisioning_role_arn, checked_role(ctx, *role));
  if (auto hook = body.find("preProvisioningHook"); hook != body.end() && !hook->is_null()) {
    ZT_API_TRY_ASSIGN(Hook checked, checked_hook(ctx, *hook, record.type));
    record.hook_target_arn = checked.target_arn;
    record.hook_payload_version = checked.payload_version;
  }
  // tags: accepted and not stored (docs/provisioning-templates.md).
  ZT_API_TRY(array_member(body, "tags"));
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_provisioning_template(record.name));
  if (existing) {
    return already_exists("The provisioning template " + record.name + " already exists",
                          record.name, template_arn(ctx, record.name));
  }
  record.creation_date = record.last_modified_date = now_seconds();
  ZT_API_TRY(ctx.registry.insert_provisioning_template(record, template_body));
  return json_reply({{"templateArn", template_arn(ctx, record.name)},
                     {"templateName", record.name},
                     {"defaultVersionId", 1}});
}

json hook_json(const registry::ProvisioningTemplate& record) {
  return {{"targetArn", *record.hook_target_arn}, {"payloadVersion", record.hook_payload_version}};
}

ApiResult<Reply> describe_template(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, template_name_param(request));
  ZT_API_TRY_ASSIGN(auto record, require_template(ctx, name));
  ZT_API_TRY_ASSIGN(auto version, ctx.registry.find_provisioning_template_version(
                                      name, record.default_version_id));
  json out = {{"templateArn", template_arn(ctx, name)},
              {"templateName", name},
              {"description", record.description},
              {"creationDate", record.creation_date},
              {"lastModifiedDate", record.last_modified_date},
              {"defaultVersionId", record.default_version_id},
              {"templateBody", version ? version->body : ""},
              {"enabled", record.enabled},
              {"provisioningRoleArn", record.provisioning_role_arn},
              {"type", record.type}};
  if (record.hook_target_arn) out["preProvisioningHook"] = hook_json(record);
  return json_reply(out);
}

ApiResult<Reply> list_templates(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "nextToken", "maxResults", 250));
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_provisioning_templates(page));
  json templates = json::array();
  for (const auto& record : result.items) {
    templates.push_back({{"templateArn", template_arn(ctx, record.name)},
                         {"templateName", record.name},
                         {"description", record.description},
                         {"creationDate", record.creation_date},
                         {"lastModifiedDate", record.last_modified_date},
                         {"enabled", record.enabled},
                         {"type", record.type}});
  }
  json out = {{"templates", templates}};
  if (!result.next_key.empty()) out["nextToken"] = page_token(result.next_key);
  return json_reply(out);
}

ApiResult<Reply> update_template(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, template_name_param(request));
  ZT_API_TRY_ASSIGN(json body, json_body(request, false));
  ZT_API_TRY_ASSIGN(auto record, require_template(ctx, name));
  if (body.contains("description")) {
    ZT_API_TRY_ASSIGN(record.description, checked_description(body));
  }
  ZT_API_TRY_ASSIGN(auto enabled, bool_member(body, "enabled"));
  if (enabled) record.enabled = *enabled;
  ZT_API_TRY_ASSIGN(auto version, integer_member(body, "defaultVersionId"));
  if (version) {
    ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_provisioning_template_version(name, *version));
    if (!found) {
      return not_found("The version " + std::to_string(*version) + " of provisioning template " +
                       name + " does not exist");
    }
    record.default_version_id = *version;
  }
  ZT_API_TRY_ASSIGN(auto role, string_member(body, "provisioningRoleArn"));
  if (role) {
    ZT_API_TRY_ASSIGN(record.provisioning_role_arn, checked_role(ctx, *role));
  }
  ZT_API_TRY_ASSIGN(auto remove_hook, bool_member(body, "removePreProvisioningHook"));
  auto hook = body.find("preProvisioningHook");
  bool has_hook = hook != body.end() && !hook->is_null();
  if (has_hook && remove_hook.value_or(false)) {
    return invalid_request(
        "preProvisioningHook and removePreProvisioningHook cannot both be given");
  }
  if (has_hook) {
    ZT_API_TRY_ASSIGN(Hook checked, checked_hook(ctx, *hook, record.type));
    record.hook_target_arn = checked.target_arn;
    record.hook_payload_version = checked.payload_version;
  } else if (remove_hook.value_or(false)) {
    record.hook_target_arn.reset();
    record.hook_payload_version.clear();
  }
  record.last_modified_date = now_seconds();
  ZT_API_TRY(ctx.registry.update_provisioning_template(record));
  return no_content();
}

ApiResult<Reply> delete_template(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, template_name_param(request));
  ZT_API_TRY(require_template(ctx, name));
  ZT_API_TRY(ctx.registry.delete_provisioning_template(name));
  return no_content();
}

}  // namespace
}  // namespace zt::cloud::api::provisioning_handlers

namespace zt::cloud::api {

void add_provisioning_routes(Router& r) {
  using namespace provisioning_handlers;
  r.add("POST", "/provisioning-templates", "CreateProvisioningTemplate", create_template);
  r.add("GET", "/provisioning-templates", "ListProvisioningTemplates", list_templates);
  r.add("GET", "/provisioning-templates/{templateName}", "DescribeProvisioningTemplate",
        describe_template);
  r.add("PATCH", "/provisioning-templates/{templateName}", "UpdateProvisioningTemplate",
        update_template);
  r.add("DELETE", "/provisioning-templates/{templateName}", "DeleteProvisioningTemplate",
        delete_template);
  add_provisioning_version_routes(r);
}

}  // namespace zt::cloud::api
