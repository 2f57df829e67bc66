// IAM policy documents as IAM checks them when they are stored (IAM User Guide, "IAM JSON policy
// element reference" and "Troubleshoot IAM policies"), and the one question the local cloud asks
// of a role's trust policy: may this AWS service assume the role? Policies are stored, not
// evaluated for API calls (docs/lambda-and-iam.md, "Where we differ from AWS").
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/result.hpp"

namespace zt::cloud::iam {

enum class PolicyKind {
  identity,  // PutRolePolicy: Action + Resource, no Principal
  trust,     // CreateRole's AssumeRolePolicyDocument: Action + Principal, no Resource
};

// The parsed document, or Errc::parse with IAM's MalformedPolicyDocument message ("This policy
// contains invalid Json", "Policy statement must contain resources.", "Has prohibited field
// Resource", …).
Result<nlohmann::json> parse_policy_document(std::string_view text, PolicyKind kind);

// Whether `trust_policy` (a document parse_policy_document accepted as PolicyKind::trust) lets
// the service principal `service` ("lambda.amazonaws.com") call sts:AssumeRole: an Allow
// statement whose Action matches sts:AssumeRole (exactly or by wildcard, case-insensitively, as
// IAM matches actions) and whose Principal is "*" or has Service equal to `service` (a string or
// a list), and no Deny statement that matches the same. Conditions are not evaluated: a
// statement with a Condition counts as if its condition held (the local cloud has no request
// context to test it against).
bool trust_allows_service(const nlohmann::json& trust_policy, std::string_view service);
// The same from a stored trust policy's text (registry::IamRole::trust_policy): false when it is
// not a trust policy. What CreateFunction's role check asks: may lambda.amazonaws.com assume it?
bool trust_document_allows_service(std::string_view trust_policy, std::string_view service);

}  // namespace zt::cloud::iam
