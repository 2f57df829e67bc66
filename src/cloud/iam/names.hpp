// IAM names, paths and ARNs (IAM API Reference, the parameter constraints of CreateRole,
// CreateUser, PutRolePolicy; IAM User Guide "IAM identifiers"), and the AWS managed policies this
// cloud knows by ARN. Failed checks are Errc::invalid_argument errors worded as IAM's
// ValidationError ("1 validation error detected: Value 'x' at 'roleName' failed to satisfy
// constraint: …").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace zt::cloud::iam {

// Role, user and policy names: [\w+=,.@-]+ of 1..max_length characters. `member` is the
// parameter as IAM's messages name it ("roleName").
Status check_name(std::string_view member, std::string_view value, size_t max_length);
inline constexpr size_t kMaxRoleName = 64;
inline constexpr size_t kMaxUserName = 64;
inline constexpr size_t kMaxPolicyName = 128;

// IAM names are unique without regard to case ("you cannot create roles named both PRODROLE and
// prodrole"): whether two names are the same name.
bool same_name(std::string_view a, std::string_view b);

// Path: "/" or "/…/" of printable ASCII (\u0021-\u007E), at most 512 characters.
Status check_path(std::string_view member, std::string_view value);
// Description: at most 1000 characters of [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF].
Status check_description(std::string_view value);
// MaxSessionDuration: an integer 3600..43200 (seconds).
Result<int64_t> parse_max_session_duration(std::string_view value);

// arn:aws:iam::<account>:role<path><name> (the path starts and ends with '/').
std::string role_arn(std::string_view account, std::string_view path, std::string_view name);
std::string user_arn(std::string_view account, std::string_view path, std::string_view name);

struct ParsedArn {
  std::string account;  // "aws" for AWS managed policies
  std::string path;     // "/" or "/…/"
  std::string name;
};
// arn:aws:iam::<account>:<kind><path><name>; nullopt when `arn` is not of that form.
std::optional<ParsedArn> parse_iam_arn(std::string_view arn, std::string_view kind);

// An AWS managed policy (arn:aws:iam::aws:policy/…) this cloud accepts for AttachRolePolicy:
// the ones the seed's guide and the Lambda/IoT roles use. Its name, or nullopt for an ARN that is
// not one of them (IAM: NoSuchEntity).
std::optional<std::string> aws_managed_policy_name(std::string_view arn);

// ValidationError's wording, for the checks done elsewhere.
std::string validation_message(std::string_view member, std::string_view value,
                               std::string_view constraint);

}  // namespace zt::cloud::iam
