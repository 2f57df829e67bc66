// IAM roles and their policies: CreateRole, GetRole, DeleteRole, ListRoles,
// Attach/DetachRolePolicy, ListAttachedRolePolicies, Put/Get/DeleteRolePolicy, ListRolePolicies
// (IAM API Reference). Policies are stored, not evaluated (docs/lambda-and-iam.md, "Where we differ from AWS").
#include <algorithm>
#include <charconv>

#include "aws/sigv4.hpp"
#include "cloud/api/handlers_iam.hpp"
#include "cloud/iam/names.hpp"
#include "cloud/iam/policy_document.hpp"
#include "common/time.hpp"

namespace zt::cloud::api::iam_api {
namespace {

using registry::IamRole;

// IAM User Guide, "IAM and AWS STS quotas": roles per account 1,000; managed policies per role
// 10; role trust policy length 2,048 characters; inline role policies 10,240 characters in all
// (white space not counted).
constexpr int64_t kRolesPerAccount = 1000;
constexpr size_t kPoliciesPerRole = 10;
constexpr size_t kTrustPolicySize = 2048;
constexpr size_t kInlinePoliciesSize = 10240;

size_t policy_size(std::string_view document) {
  return static_cast<size_t>(std::count_if(document.begin(), document.end(), [](char c) {
    return c != ' ' && c != '\t' && c != '\n' && c != '\r';
  }));
}

ApiResult<std::string> role_name_param(const IamCall& call) {
  ZT_IAM_TRY_ASSIGN(std::string name, required(call, "RoleName", "roleName"));
  ZT_IAM_TRY(iam::check_name("roleName", name, iam::kMaxRoleName));
  return name;
}

std::string role_not_found(std::string_view name) {
  return "The role with name " + std::string(name) + " cannot be found.";
}

ApiResult<IamRole> existing_role(IamCall& call, const std::string& name) {
  ZT_IAM_TRY_ASSIGN(auto role, call.ctx.registry.find_role(name));
  if (!role) return no_such_entity(role_not_found(name));
  return std::move(*role);
}

// The Role structure; policy documents travel URL-encoded, as IAM returns them (botocore decodes
// them back into JSON for the CLI).
void write_role(iam::XmlWriter& xml, const ServiceContext& ctx, const IamRole& role,
                std::string_view element = "Role") {
  xml.open(element);
  xml.element("Path", role.path);
  xml.element("Arn", iam::role_arn(ctx.account_id, role.path, role.name));
  xml.element("RoleName", role.name);
  xml.element("AssumeRolePolicyDocument", aws::uri_encode(role.trust_policy, false));
  xml.element("CreateDate", iam_date(role.create_date));
  xml.element("RoleId", role.id);
  if (!role.description.empty()) xml.element("Description", role.description);
  xml.element("MaxSessionDuration", std::to_string(role.max_session_duration));
  xml.close();
}

ApiResult<std::string> create_role(IamCall& call) {
  ZT_IAM_TRY_ASSIGN(std::string name, role_name_param(call));
  ZT_IAM_TRY_ASSIGN(std::string trust,
                    required(call, "AssumeRolePolicyDocument", "assumeRolePolicyDocument"));
  std::string path = optional(call, "Path").value_or("/");
  ZT_IAM_TRY(iam::check_path("path", path));
  std::string description = optional(call, "Description").value_or("");
  ZT_IAM_TRY(iam::check_description(description));
  int64_t max_session = 3600;
  if (auto given = optional(call, "MaxSessionDuration")) {
    ZT_IAM_TRY_ASSIGN(max_session, iam::parse_max_session_duration(*given));
  }
  if (policy_size(trust) > kTrustPolicySize) {
    return limit_exceeded("Cannot exceed quota for ACLSizePerRole: " +
                          std::to_string(kTrustPolicySize));
  }
  ZT_IAM_TRY(iam::parse_policy_document(trust, iam::PolicyKind::trust));
  ZT_IAM_TRY_ASSIGN(auto existing, call.ctx.registry.find_role(name));
  if (existing) return entity_already_exists("Role with name " + name + " already exists.");
  ZT_IAM_TRY_ASSIGN(int64_t roles, call.ctx.registry.count_roles());
  if (roles >= kRolesPerAccount) {
    return limit_exceeded("Cannot exceed quota for RolesPerAccount: " +
                          std::to_string(kRolesPerAccount));
  }
  IamRole role{.name = name,
               .id = new_iam_id("AROA", 21),
               .path = path,
               .trust_policy = trust,
               .description = description,
               .max_session_duration = max_session,
               .create_date = static_cast<double>(unix_now())};
  ZT_IAM_TRY(call.ctx.registry.insert_role(role));
  iam::XmlWriter xml;
  write_role(xml, call.ctx, role);
  return xml.take();
}

ApiResult<std::string> get_role(IamCall& call) {
  ZT_IAM_TRY_ASSIGN(std::string name, role_name_param(call));
  ZT_IAM_TRY_ASSIGN(IamRole role, existing_role(call, name));
  iam::XmlWriter xml;
  write_role(xml, call.ctx, role);
  return xml.take();
}

ApiResult<std::string> delete_role(IamCall& call) {
  ZT_IAM_TRY_ASSIGN(std::string name, role_name_param(call));
  ZT_IAM_TRY_ASSIGN(IamRole role, existing_role(call, name));
  // DeleteRole: "you must first remove items attached to the role" — AWS's two messages.
  ZT_IAM_TRY_ASSIGN(auto attached, call.ctx.registry.list_attached_role_policies(role.name));
  if (!attached.empty())
    return delete_conflict("Cannot delete entity, must detach all policies first.");
  ZT_IAM_TRY_ASSIGN(auto inline_policies, call.ctx.registry.list_role_policies(role.name));
  if (!inline_policies.empty())
    return delete_conflict("Cannot delete entity, must delete policies first.");
  ZT_IAM_TRY(call.ctx.registry.delete_role(role.name));
  return std::string();
}

// MaxItems 1..1000 (default 100) and the Marker of the previous page.
ApiResult<registry::PageRequest> list_page(const IamCall& call) {
  registry::PageRequest page{.after = optional(call, "Marker").value_or(""), .limit = 100};
  if (auto max_items = optional(call, "MaxItems")) {
    int value = 0;
    auto [end, ec] =
        std::from_chars(max_items->data(), max_items->data() + max_items->size(), value);
    if (ec != std::errc() || end != max_items->data() + max_items->size() || value < 1 ||
        value > 1000) {
      return validation_error(iam::validation_message("maxItems", *max_items,
                                                      "Member must have value between 1 and 1000"));
    }
    page.limit = value;
  }
  return page;
}

ApiResult<std::string> list_roles(IamCall& call) {
  ZT_IAM_TRY_ASSIGN(auto page, list_page(call));
  std::string prefix = optional(call, "PathPrefix").value_or("/");
  ZT_IAM_TRY_ASSIGN(auto roles, call.ctx.registry.list_roles(page, prefix));
  iam::XmlWriter xml;
  xml.element("IsTruncated", roles.next_key.empty() ? "false" : "true");
  if (!roles.next_key.empty()) xml.element("Marker", roles.next_key);
  xml.open("Roles");
  // A list's items are <member> elements with the Role's children.
  for (const IamRole& role : roles.items) write_role(xml, call.ctx, role, "member");
  xml.close();
  return xml.take();
}

ApiResult<std::string> policy_arn_param(const IamCall& call) {
  ZT_IAM_TRY_ASSIGN(std::string arn, required(call, "PolicyArn", "policyArn"));
  if (arn.size() < 20 || arn.size() > 2048) {
    return validation_error(
        iam::validation_message("policyArn", arn, "Member must have length between 20 and 2048"));
  }
  if (!iam::parse_iam_arn(arn, "policy")) {
    return iam_error(400, "InvalidInput", "ARN " + arn.substr(0, 256) + " is not valid.");
  }
  return arn;
}

ApiResult<std::string> attach_role_policy(IamCall& call) {
  ZT_IAM_TRY_ASSIGN(std::string name, role_name_param(call));
  ZT_IAM_TRY_ASSIGN(std::string arn, policy_arn_param(call));
  ZT_IAM_TRY_ASSIGN(IamRole role, existing_role(call, name));
  // Customer managed policies (CreatePolicy) are not kept by this cloud: only the AWS managed
  // policies it knows attach.
  if (!iam::aws_managed_policy_name(arn)) {
    return no_such_entity("Policy " + arn + " does not exist or is not attachable.");
  }
  ZT_IAM_TRY_ASSIGN(auto attached, call.ctx.registry.list_attached_role_policies(role.name));
  if (std::find(attached.begin(), attached.end(), arn) == attached.end() &&
      attached.size() >= kPoliciesPerRole) {
    return limit_exceeded("Cannot exceed quota for PoliciesPerRole: " +
                          std::to_string(kPoliciesPerRole));
  }
  ZT_IAM_TRY(call.ctx.registry.attach_role_policy(role.name, arn));
  return std::string();
}

ApiResult<std::string> detach_role_policy(IamCall& call) {
  ZT_IAM_TRY_ASSIGN(std::string name, role_name_param(call));
  ZT_IAM_TRY_ASSIGN(std::string arn, policy_arn_param(call));
  ZT_IAM_TRY_ASSIGN(IamRole role, existing_role(call, name));
  ZT_IAM_TRY_ASSIGN(bool detached, call.ctx.registry.detach_role_policy(role.name, arn));
  if (!detached) return no_such_entity("Policy " + arn + " was not found.");
  return std::string();
}

ApiResult<std::string> list_attached_role_policies(IamCall& call) {
  ZT_IAM_TRY_ASSIGN(std::string name, role_name_param(call));
  ZT_IAM_TRY_ASSIGN(IamRole role, existing_role(call, name));
  ZT_IAM_TRY_ASSIGN(auto attached, call.ctx.registry.list_attached_role_policies(role.name));
  iam::XmlWriter xml;
  xml.element("IsTruncated", "false");
  xml.open("AttachedPolicies");
  for (const std::string& arn : attached) {
    xml.open("member");
    xml.element("PolicyName",
                iam::aws_managed_policy_name(arn).value_or(arn.substr(arn.rfind('/') + 1)));
    xml.element("PolicyArn", arn);
    xml.close();
  }
  xml.close();
  return xml.take();
}

ApiResult<std::string> policy_name_param(const IamCall& call) {
  ZT_IAM_TRY_ASSIGN(std::string name, required(call, "PolicyName", "policyName"));
  ZT_IAM_TRY(iam::check_name("policyName", name, iam::kMaxPolicyName));
  return name;
}

ApiResult<std::string> put_role_policy(IamCall& call) {
  ZT_IAM_TRY_ASSIGN(std::string name, role_name_param(call));
  ZT_IAM_TRY_ASSIGN(std::string policy_name, policy_name_param(call));
  ZT_IAM_TRY_ASSIGN(std::string document, required(call, "PolicyDocument", "policyDocument"));
  ZT_IAM_TRY_ASSIGN(IamRole role, existing_role(call, name));
  ZT_IAM_TRY(iam::parse_policy_document(document, iam::PolicyKind::identity));
  // The quota is on all of a role's inline policies together (the replaced one not counted).
  ZT_IAM_TRY_ASSIGN(auto others, call.ctx.registry.list_role_policies(role.name));
  size_t total = policy_size(document);
  for (const auto& other : others) {
    if (!iam::same_name(other.policy_name, policy_name)) total += policy_size(other.document);
  }
  if (total > kInlinePoliciesSize) {
    return limit_exceeded("Maximum policy size of " + std::to_string(kInlinePoliciesSize) +
                          " bytes exceeded for role " + role.name);
  }
  ZT_IAM_TRY(call.ctx.registry.put_role_policy({role.name, policy_name, document}));
  return std::string();
}

ApiResult<std::string> get_role_policy(IamCall& call) {
  ZT_IAM_TRY_ASSIGN(std::string name, role_name_param(call));
  ZT_IAM_TRY_ASSIGN(std::string policy_name, policy_name_param(call));
  ZT_IAM_TRY_ASSIGN(IamRole role, existing_role(call, name));
  ZT_IAM_TRY_ASSIGN(auto policy, call.ctx.registry.find_role_policy(role.name, policy_name));
  if (!policy) {
    return no_such_entity("The role policy with name " + policy_name + " cannot be found.");
  }
  iam::XmlWriter xml;
  xml.element("RoleName", role.name);
  xml.element("PolicyName", policy->policy_name);
  xml.element("PolicyDocument", aws::uri_encode(policy->document, false));
  return xml.take();
}

ApiResult<std::string> delete_role_policy(IamCall& call) {
  ZT_IAM_TRY_ASSIGN(std::string name, role_name_param(call));
  ZT_IAM_TRY_ASSIGN(std::string policy_name, policy_name_param(call));
  ZT_IAM_TRY_ASSIGN(IamRole role, existing_role(call, name));
  ZT_IAM_TRY_ASSIGN(bool deleted, call.ctx.registry.delete_role_policy(role.name, policy_name));
  if (!deleted) {
    return no_such_entity("The role policy with name " + policy_name + " cannot be found.");
  }
  return std::string();
}

ApiResult<std::string> list_role_policies(IamCall& call) {
  ZT_IAM_TRY_ASSIGN(std::string name, role_name_param(call));
  ZT_IAM_TRY_ASSIGN(IamRole role, existing_role(call, name));
  ZT_IAM_TRY_ASSIGN(auto policies, call.ctx.registry.list_role_policies(role.name));
  iam::XmlWriter xml;
  xml.element("IsTruncated", "false");
  xml.open("PolicyNames");
  for (const auto& policy : policies) xml.element("member", policy.policy_name);
  xml.close();
  return xml.take();
}

}  // namespace

void add_role_actions(ActionTable& table) {
  table.emplace("CreateRole", create_role);
  table.emplace("GetRole", get_role);
  table.emplace("DeleteRole", delete_role);
  table.emplace("ListRoles", list_roles);
  table.emplace("AttachRolePolicy", attach_role_policy);
  table.emplace("DetachRolePolicy", detach_role_policy);
  table.emplace("ListAttachedRolePolicies", list_attached_role_policies);
  table.emplace("PutRolePolicy", put_role_policy);
  table.emplace("GetRolePolicy", get_role_policy);
  table.emplace("DeleteRolePolicy", delete_role_policy);
  table.emplace("ListRolePolicies", list_role_policies);
}

}  // namespace zt::cloud::api::iam_api
