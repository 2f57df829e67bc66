#include "aws/iam_client.hpp"

namespace zt::aws {
namespace {

// IAM answers policy documents URL-encoded (IAM API Reference, Role.AssumeRolePolicyDocument and
// GetRolePolicy.PolicyDocument: "URL-encoded compliant with RFC 3986").
std::string policy_text(const XmlElement& element, std::string_view path) {
  return uri_decode(element.text_at(path));
}

IamRole role_of(const XmlElement& result) {
  return IamRole{result.text_at("Role/RoleName"), result.text_at("Role/Arn"),
                 policy_text(result, "Role/AssumeRolePolicyDocument")};
}

Status done(Result<XmlElement> result) {
  if (!result) return std::move(result).error();
  return ok();
}

}  // namespace

std::string form_encode(const QueryParameters& parameters) {
  std::string body;
  for (const auto& [key, value] : parameters) {
    if (!body.empty()) body += '&';
    body += uri_encode(key, false) + "=" + uri_encode(value, false);
  }
  return body;
}

IamClient::IamClient(ClientConfig config, HttpClientOptions options)
    : service_(std::move(config), kIamService, std::move(options)) {}

Result<XmlElement> IamClient::call(std::string_view action, const QueryParameters& parameters) {
  QueryParameters all{{"Action", std::string(action)}, {"Version", kIamApiVersion}};
  all.insert(all.end(), parameters.begin(), parameters.end());
  ZT_TRY_ASSIGN(HttpRequest request,
                service_.build("POST", "/", {}, form_encode(all),
                               "application/x-www-form-urlencoded; charset=utf-8"));
  ZT_TRY_ASSIGN(HttpResponse response, service_.send(request));
  auto document = parse_xml(response.body);
  std::string what = "calling " + std::string(action);
  if (response.status >= 300) {
    std::string code, message;
    if (document && document->name == "ErrorResponse") {
      code = document->text_at("Error/Code");
      message = document->text_at("Error/Message");
    }
    if (code.empty()) code = std::to_string(response.status);
    return make_error(errc_for_aws_error(code), code + " (HTTP " + std::to_string(response.status) +
                                                    ") " + what + ": " + message);
  }
  if (!document) {
    return make_error(Errc::parse, "answer " + what + " is not XML: " + document.error().message);
  }
  if (document->name != std::string(action) + "Response") {
    return make_error(Errc::parse, "answer " + what + " is <" + document->name + ">, not <" +
                                       std::string(action) + "Response>");
  }
  const XmlElement* result = document->child(std::string(action) + "Result");
  return result ? *result : XmlElement{std::string(action) + "Result", {}, {}};
}

Result<std::optional<IamRole>> IamClient::get_role(std::string_view name) {
  auto result = call("GetRole", {{"RoleName", std::string(name)}});
  if (!result && result.error().code == Errc::not_found) return std::optional<IamRole>();
  ZT_TRY_ASSIGN(XmlElement answer, std::move(result));
  IamRole role = role_of(answer);
  if (role.arn.empty()) return make_error(Errc::parse, "GetRole answer has no Role/Arn");
  return std::optional<IamRole>(std::move(role));
}

Result<IamRole> IamClient::create_role(std::string_view name, std::string_view trust_policy,
                                       std::string_view description) {
  QueryParameters parameters{{"RoleName", std::string(name)},
                             {"AssumeRolePolicyDocument", std::string(trust_policy)}};
  if (!description.empty()) parameters.emplace_back("Description", std::string(description));
  ZT_TRY_ASSIGN(XmlElement answer, call("CreateRole", parameters));
  IamRole role = role_of(answer);
  if (role.arn.empty()) return make_error(Errc::parse, "CreateRole answer has no Role/Arn");
  return role;
}

Status IamClient::delete_role(std::string_view name) {
  return done(call("DeleteRole", {{"RoleName", std::string(name)}}));
}

Status IamClient::put_role_policy(std::string_view role, std::string_view policy_name,
                                  std::string_view document) {
  return done(call("PutRolePolicy", {{"RoleName", std::string(role)},
                                     {"PolicyName", std::string(policy_name)},
                                     {"PolicyDocument", std::string(document)}}));
}

Result<std::optional<std::string>> IamClient::get_role_policy(std::string_view role,
                                                              std::string_view policy_name) {
  auto result = call("GetRolePolicy",
                     {{"RoleName", std::string(role)}, {"PolicyName", std::string(policy_name)}});
  if (!result && result.error().code == Errc::not_found) return std::optional<std::string>();
  ZT_TRY_ASSIGN(XmlElement answer, std::move(result));
  return std::optional<std::string>(policy_text(answer, "PolicyDocument"));
}

Status IamClient::delete_role_policy(std::string_view role, std::string_view policy_name) {
  return done(call("DeleteRolePolicy",
                   {{"RoleName", std::string(role)}, {"PolicyName", std::string(policy_name)}}));
}

Status IamClient::attach_role_policy(std::string_view role, std::string_view policy_arn) {
  return done(call("AttachRolePolicy",
                   {{"RoleName", std::string(role)}, {"PolicyArn", std::string(policy_arn)}}));
}

Status IamClient::detach_role_policy(std::string_view role, std::string_view policy_arn) {
  return done(call("DetachRolePolicy",
                   {{"RoleName", std::string(role)}, {"PolicyArn", std::string(policy_arn)}}));
}

Status IamClient::update_assume_role_policy(std::string_view role, std::string_view trust_policy) {
  return done(call("UpdateAssumeRolePolicy", {{"RoleName", std::string(role)},
                                              {"PolicyDocument", std::string(trust_policy)}}));
}

Status IamClient::list_pages(std::string_view action, std::string_view role,
                             const std::function<void(const XmlElement&)>& collect) {
  std::string marker;
  // Pages of up to 100 (MaxItems' default); a server that never stops paging is cut off.
  for (int page = 0; page < 100; ++page) {
    QueryParameters parameters{{"RoleName", std::string(role)}};
    if (!marker.empty()) parameters.emplace_back("Marker", marker);
    ZT_TRY_ASSIGN(XmlElement answer, call(action, parameters));
    collect(answer);
    if (answer.text_at("IsTruncated") != "true") return ok();
    marker = answer.text_at("Marker");
    if (marker.empty()) return ok();
  }
  return make_error(Errc::io, std::string(action) + ": more than 100 pages");
}

Result<std::vector<std::string>> IamClient::list_attached_role_policies(std::string_view role) {
  std::vector<std::string> arns;
  ZT_TRY(list_pages("ListAttachedRolePolicies", role, [&](const XmlElement& answer) {
    if (const XmlElement* list = answer.child("AttachedPolicies")) {
      for (const auto& member : list->children) {
        if (member.name == "member") arns.push_back(member.text_at("PolicyArn"));
      }
    }
  }));
  return arns;
}

Result<std::vector<std::string>> IamClient::list_role_policies(std::string_view role) {
  std::vector<std::string> names;
  ZT_TRY(list_pages("ListRolePolicies", role, [&](const XmlElement& answer) {
    if (const XmlElement* list = answer.child("PolicyNames")) {
      for (const auto& member : list->children) {
        if (member.name == "member") names.push_back(member.text);
      }
    }
  }));
  return names;
}

}  // namespace zt::aws
