// IoT policies and their attachments to principals/targets (reference/aws-iot.md §1.6, §5).
#include "cloud/api/handler_util.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;

constexpr size_t kMaxPoliciesPerTarget = 10;  // quota: 10 policies per certificate (§6.3)

std::optional<std::string> policy_name_param(const ApiRequest& request, Reply& error) {
  const std::string& name = request.path.at("policyName");
  if (!valid_policy_name(name)) {
    error = invalid_request("policyName must match [\\w+=,.@-]{1,128}");
    return std::nullopt;
  }
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

Reply create_policy(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto name = policy_name_param(request, error);
  if (!name) return error;
  auto body = json_body(request, error, true);
  if (!body) return error;
  ZT_API_TRY_ASSIGN(auto document, string_member(*body, "policyDocument"));
  if (!document) return invalid_request("policyDocument is required");
  if (auto problem = policy_document_problem(*document)) {
    return error_reply(400, "MalformedPolicyException", *problem);
  }
  std::string arn = ctx.arn("policy/" + *name);
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_policy(*name));
  if (existing) {
    return already_exists("Policy cannot be created - name already exists (name=" + *name + ")",
                          *name, arn);
  }
  ZT_API_TRY(ctx.registry.insert_policy(*name, *document, now_seconds(), new_uuid()));
  return json_reply({{"policyName", *name},
                     {"policyArn", arn},
                     {"policyDocument", *document},
                     {"policyVersionId", "1"}});
}

std::optional<registry::Policy> require_policy(ServiceContext& ctx, const ApiRequest& request,
                                               Reply& error) {
  auto name = policy_name_param(request, error);
  if (!name) return std::nullopt;
  auto found = ctx.registry.find_policy(*name);
  if (!found) {
    error = registry_failure(found.error());
    return std::nullopt;
  }
  if (!*found) {
    error = not_found("Policy not found (name=" + *name + ")");
    return std::nullopt;
  }
  return std::move(**found);
}

Reply get_policy(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto policy = require_policy(ctx, request, error);
  if (!policy) return error;
  return json_reply({{"policyName", policy->name},
                     {"policyArn", ctx.arn("policy/" + policy->name)},
                     {"policyDocument", policy->document},
                     {"defaultVersionId", std::to_string(policy->default_version)},
                     {"creationDate", policy->creation_date},
                     {"lastModifiedDate", policy->last_modified},
                     {"generationId", policy->generation_id}});
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

Reply list_policies(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto page = page_request(request, error, "marker", "pageSize", 250);
  if (!page) return error;
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_policies(*page));
  return json_reply(policy_list(ctx, result));
}

Reply delete_policy(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto policy = require_policy(ctx, request, error);
  if (!policy) return error;
  ZT_API_TRY_ASSIGN(int64_t targets, ctx.registry.count_policy_targets(policy->name));
  if (targets > 0) {
    return error_reply(409, "DeleteConflictException",
                       "The policy cannot be deleted as the policy is attached to one or more "
                       "principals (name=" +
                           policy->name + ")");
  }
  ZT_API_TRY(ctx.registry.delete_policy(policy->name));
  return no_content();
}

Reply attach(ServiceContext& ctx, const ApiRequest& request,
             const std::optional<std::string>& target) {
  Reply error;
  auto policy = require_policy(ctx, request, error);
  if (!policy) return error;
  if (!target || target->empty()) return invalid_request("target (principal) is required");
  if (auto problem = check_principal(ctx, *target)) return *problem;
  ZT_API_TRY_ASSIGN(auto attached,
                    ctx.registry.list_attached_policies(*target, {.after = "", .limit = 1000}));
  bool already = false;
  for (const auto& p : attached.items) already = already || p.name == policy->name;
  if (!already && attached.items.size() >= kMaxPoliciesPerTarget) {
    return error_reply(410, "LimitExceededException",
                       "A principal can have at most 10 policies attached");
  }
  ZT_API_TRY(ctx.registry.attach_policy(policy->name, *target));
  return no_content();
}

Reply detach(ServiceContext& ctx, const ApiRequest& request,
             const std::optional<std::string>& target) {
  Reply error;
  auto policy = require_policy(ctx, request, error);
  if (!policy) return error;
  if (!target || target->empty()) return invalid_request("target (principal) is required");
  ZT_API_TRY(ctx.registry.detach_policy(policy->name, *target));
  return no_content();
}

std::optional<std::string> body_target(const ApiRequest& request, Reply& error, bool& failed) {
  failed = false;
  auto body = json_body(request, error, true);
  if (!body) {
    failed = true;
    return std::nullopt;
  }
  auto target = string_member(*body, "target");
  if (!target) {
    error = invalid_request(target.error().message);
    failed = true;
    return std::nullopt;
  }
  return *target;
}

Reply attach_policy(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  bool failed = false;
  auto target = body_target(request, error, failed);
  return failed ? error : attach(ctx, request, target);
}

Reply detach_policy(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  bool failed = false;
  auto target = body_target(request, error, failed);
  return failed ? error : detach(ctx, request, target);
}

Reply attach_principal_policy(ServiceContext& ctx, const ApiRequest& request) {
  return attach(ctx, request, request.header("x-amzn-iot-principal"));
}

Reply detach_principal_policy(ServiceContext& ctx, const ApiRequest& request) {
  return detach(ctx, request, request.header("x-amzn-iot-principal"));
}

Reply list_for_target(ServiceContext& ctx, const ApiRequest& request,
                      const std::optional<std::string>& target) {
  if (!target || target->empty()) return invalid_request("the principal/target is required");
  if (auto problem = check_principal(ctx, *target)) return *problem;
  Reply error;
  auto page = page_request(request, error, "marker", "pageSize", 250);
  if (!page) return error;
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_attached_policies(*target, *page));
  return json_reply(policy_list(ctx, result));
}

Reply list_principal_policies(ServiceContext& ctx, const ApiRequest& request) {
  return list_for_target(ctx, request, request.header("x-amzn-iot-principal"));
}

Reply list_attached_policies(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  if (!query_bool(request, "recursive", error)) return error;
  // The target ARN arrives as ONE encoded path segment (…%3Acert%2F<id>), decoded by the router.
  return list_for_target(ctx, request, request.path.at("target"));
}

Reply list_targets_for_policy(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto policy = require_policy(ctx, request, error);
  if (!policy) return error;
  auto page = page_request(request, error, "marker", "pageSize", 250);
  if (!page) return error;
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_policy_targets(policy->name, *page));
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
  add_certificate_routes(router);
  add_thing_routes(router);
  add_policy_routes(router);
  add_rule_routes(router);
  return router;
}

}  // namespace zt::cloud::api
