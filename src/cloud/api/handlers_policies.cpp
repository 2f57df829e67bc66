// IoT policies and their attachments to principals/targets (reference/aws-iot.md §1.6, §5).
#include "cloud/api/handler_util.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;

constexpr size_t kMaxPoliciesPerTarget = 10;  // quota: 10 policies per certificate (§6.3)

ApiResult<std::string> policy_name_param(const ApiRequest& request) {
  const std::string& name = request.path.at("policyName");
  if (!valid_policy_name(name)) return invalid_request("policyName must match [\\w+=,.@-]{1,128}");
  return name;
}

bool string_or_string_array(const json& value) {
  if (value.is_string()) return true;
  if (!value.is_array() || value.empty()) return false;
  for (const auto& item : value) {
    if (!item.is_string()) return false;
  }
  return true;
}

// IAM-style policy document checks (§5); the broker evaluates what passes here.
std::optional<std::string> policy_document_problem(const std::string& text) {
  size_t non_space = 0;
  for (char c : text) non_space += !std::isspace(static_cast<unsigned char>(c));
  if (non_space > 2048) return "the policy document exceeds 2048 characters (excluding whitespace)";
  auto parsed = parse_json(text);
  if (!parsed) return "the policy document: " + parsed.error().message;
  const json& document = *parsed;
  if (!document.is_object()) return "the policy document must be a JSON object";
  auto version = document.find("Version");
  if (version != document.end() &&
      (!version->is_string() || (*version != "2012-10-17" && *version != "2008-10-17"))) {
    return "Version must be 2012-10-17";
  }
  auto statement_member = document.find("Statement");
  if (statement_member == document.end()) return "the policy document has no Statement";
  json statements = *statement_member;
  if (statements.is_object()) statements = json::array({statements});
  if (!statements.is_array() || statements.empty())
    return "Statement must be an object or a non-empty array";
  for (const auto& statement : statements) {
    if (!statement.is_object()) return "each Statement must be an object";
    auto effect = statement.find("Effect");
    if (effect == statement.end() || !effect->is_string() ||
        (*effect != "Allow" && *effect != "Deny")) {
      return "each Statement needs Effect Allow or Deny";
    }
    auto action = statement.find("Action");
    if (action == statement.end() || !string_or_string_array(*action)) {
      return "each Statement needs Action (a string or an array of strings)";
    }
    auto resource = statement.find("Resource");
    if (resource == statement.end() || !string_or_string_array(*resource)) {
      return "each Statement needs Resource (a string or an array of strings)";
    }
  }
  return std::nullopt;
}

ApiResult<Reply> create_policy(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, policy_name_param(request));
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(auto document, string_member(body, "policyDocument"));
  if (!document) return invalid_request("policyDocument is required");
  if (auto problem = policy_document_problem(*document)) {
    return api_error(400, "MalformedPolicyException", *problem);
  }
  std::string arn = ctx.arn("policy/" + name);
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_policy(name));
  if (existing) {
    return already_exists("Policy cannot be created - name already exists (name=" + name + ")",
                          name, arn);
  }
  ZT_API_TRY(ctx.registry.insert_policy(name, *document, now_seconds(), new_uuid()));
  return json_reply({{"policyName", name},
                     {"policyArn", arn},
                     {"policyDocument", *document},
                     {"policyVersionId", "1"}});
}

ApiResult<registry::Policy> require_policy(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, policy_name_param(request));
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_policy(name));
  if (!found) return not_found("Policy not found (name=" + name + ")");
  return std::move(*found);
}

ApiResult<Reply> get_policy(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(registry::Policy policy, require_policy(ctx, request));
  return json_reply({{"policyName", policy.name},
                     {"policyArn", ctx.arn("policy/" + policy.name)},
                     {"policyDocument", policy.document},
                     {"defaultVersionId", std::to_string(policy.default_version)},
                     {"creationDate", policy.creation_date},
                     {"lastModifiedDate", policy.last_modified},
                     {"generationId", policy.generation_id}});
}

json policy_list(const ServiceContext& ctx, const registry::Page<registry::Policy>& page) {
  json items = json::array();
  for (const auto& policy : page.items) {
    items.push_back({{"policyName", policy.name}, {"policyArn", ctx.arn("policy/" + policy.name)}});
  }
  json out = {{"policies", items}};
  if (!page.next_key.empty()) out["nextMarker"] = page_token(page.next_key);
  return out;
}

ApiResult<Reply> list_policies(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "marker", "pageSize", 250));
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_policies(page));
  return json_reply(policy_list(ctx, result));
}

ApiResult<Reply> delete_policy(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(registry::Policy policy, require_policy(ctx, request));
  ZT_API_TRY_ASSIGN(int64_t targets, ctx.registry.count_policy_targets(policy.name));
  if (targets > 0) {
    return api_error(409, "DeleteConflictException",
                     "The policy cannot be deleted as the policy is attached to one or more "
                     "principals (name=" +
                         policy.name + ")");
  }
  ZT_API_TRY(ctx.registry.delete_policy(policy.name));
  return no_content();
}

ApiResult<Reply> attach(ServiceContext& ctx, const ApiRequest& request,
                        const std::optional<std::string>& target) {
  ZT_API_TRY_ASSIGN(registry::Policy policy, require_policy(ctx, request));
  if (!target || target->empty()) return invalid_request("target (principal) is required");
  ZT_API_TRY(check_principal(ctx, *target));
  ZT_API_TRY_ASSIGN(auto attached,
                    ctx.registry.list_attached_policies(*target, {.after = "", .limit = 1000}));
  bool already = false;
  for (const auto& p : attached.items) already = already || p.name == policy.name;
  if (!already && attached.items.size() >= kMaxPoliciesPerTarget) {
    return api_error(410, "LimitExceededException",
                     "A principal can have at most 10 policies attached");
  }
  ZT_API_TRY(ctx.registry.attach_policy(policy.name, *target));
  return no_content();
}

ApiResult<Reply> detach(ServiceContext& ctx, const ApiRequest& request,
                        const std::optional<std::string>& target) {
  ZT_API_TRY_ASSIGN(registry::Policy policy, require_policy(ctx, request));
  if (!target || target->empty()) return invalid_request("target (principal) is required");
  ZT_API_TRY(ctx.registry.detach_policy(policy.name, *target));
  return no_content();
}

// AttachPolicy / DetachPolicy: the target is the body's "target".
ApiResult<std::optional<std::string>> body_target(const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(auto target, string_member(body, "target"));
  return target;
}

ApiResult<Reply> attach_policy(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(auto target, body_target(request));
  return attach(ctx, request, target);
}

ApiResult<Reply> detach_policy(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(auto target, body_target(request));
  return detach(ctx, request, target);
}

ApiResult<Reply> attach_principal_policy(ServiceContext& ctx, const ApiRequest& request) {
  return attach(ctx, request, request.header("x-amzn-iot-principal"));
}

ApiResult<Reply> detach_principal_policy(ServiceContext& ctx, const ApiRequest& request) {
  return detach(ctx, request, request.header("x-amzn-iot-principal"));
}

ApiResult<Reply> list_for_target(ServiceContext& ctx, const ApiRequest& request,
                                 const std::optional<std::string>& target) {
  if (!target || target->empty()) return invalid_request("the principal/target is required");
  ZT_API_TRY(check_principal(ctx, *target));
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "marker", "pageSize", 250));
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_attached_policies(*target, page));
  return json_reply(policy_list(ctx, result));
}

ApiResult<Reply> list_principal_policies(ServiceContext& ctx, const ApiRequest& request) {
  return list_for_target(ctx, request, request.header("x-amzn-iot-principal"));
}

ApiResult<Reply> list_attached_policies(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY(query_bool(request, "recursive"));
  // The target ARN arrives as ONE encoded path segment (…%3Acert%2F<id>), decoded by the router.
  return list_for_target(ctx, request, request.path.at("target"));
}

ApiResult<Reply> list_targets_for_policy(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(registry::Policy policy, require_policy(ctx, request));
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "marker", "pageSize", 250));
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_policy_targets(policy.name, page));
  json out = {{"targets", result.items}};
  if (!result.next_key.empty()) out["nextMarker"] = page_token(result.next_key);
  return json_reply(out);
}

}  // namespace

void add_policy_routes(Router& r) {
  r.add("POST", "/policies/{policyName}", "CreatePolicy", create_policy);
  r.add("GET", "/policies/{policyName}", "GetPolicy", get_policy);
  r.add("DELETE", "/policies/{policyName}", "DeletePolicy", delete_policy);
  r.add("GET", "/policies", "ListPolicies", list_policies);
  r.add("PUT", "/target-policies/{policyName}", "AttachPolicy", attach_policy);
  r.add("POST", "/target-policies/{policyName}", "DetachPolicy", detach_policy);
  r.add("PUT", "/principal-policies/{policyName}", "AttachPrincipalPolicy",
        attach_principal_policy);
  r.add("DELETE", "/principal-policies/{policyName}", "DetachPrincipalPolicy",
        detach_principal_policy);
  r.add("GET", "/principal-policies", "ListPrincipalPolicies", list_principal_policies);
  r.add("POST", "/attached-policies/{target}", "ListAttachedPolicies", list_attached_policies);
  r.add("POST", "/policy-targets/{policyName}", "ListTargetsForPolicy", list_targets_for_policy);
}

Router make_control_plane_router() {
  Router router;
  add_ca_certificate_routes(router);
  add_certificate_routes(router);
  add_endpoint_routes(router);
  add_thing_routes(router);
  add_policy_routes(router);
  add_rule_routes(router);
  add_provisioning_routes(router);
  return router;
}

}  // namespace zt::cloud::api
