// What the IAM handlers share (handlers_iam*.cpp): one call's parameters, IAM's errors and the
// pieces of its XML. IAM speaks the AWS query protocol (IAM API Reference, "Making query
// requests"): POST / with a form body naming the Action, answers in XML, errors as
// <ErrorResponse> with the IAM error code (NoSuchEntity, EntityAlreadyExists, …).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "cloud/api/service.hpp"
#include "cloud/iam/form.hpp"
#include "cloud/iam/xml.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::api::iam_api {

struct IamCall {
  ServiceContext& ctx;
  const ApiRequest& request;
  const iam::FormFields& params;
};

// An action answers the inside of its <ActionResult> element ("" for none).
using Action = ApiResult<std::string> (*)(IamCall& call);
using ActionTable = std::map<std::string, Action, std::less<>>;
void add_role_actions(ActionTable& table);
void add_user_actions(ActionTable& table);

// IAM's errors (IAM API Reference, "Common errors" and each action's Errors).
ApiError iam_error(int status, std::string_view code, std::string_view message);
inline ApiError no_such_entity(std::string_view message) {
  return iam_error(404, "NoSuchEntity", message);
}
inline ApiError entity_already_exists(std::string_view message) {
  return iam_error(409, "EntityAlreadyExists", message);
}
inline ApiError delete_conflict(std::string_view message) {
  return iam_error(409, "DeleteConflict", message);
}
inline ApiError limit_exceeded(std::string_view message) {
  return iam_error(409, "LimitExceeded", message);
}
inline ApiError validation_error(std::string_view message) {
  return iam_error(400, "ValidationError", message);
}
// A failure below the API: a client mistake keeps its meaning; anything else is IAM's
// ServiceFailure (500).
ApiError to_iam_error(const Error& error);
inline ApiError to_iam_error(ApiError error) { return error; }

#define ZT_IAM_TRY_ASSIGN(lhs, expr) \
  ZT_IAM_TRY_ASSIGN_IMPL(ZT_CONCAT(zt_iam_tmp_, __LINE__), lhs, expr)
#define ZT_IAM_TRY_ASSIGN_IMPL(tmp, lhs, expr)                                      \
  auto tmp = (expr);                                                                \
  if (!tmp) return ::zt::cloud::api::iam_api::to_iam_error(std::move(tmp).error()); \
  lhs = std::move(*tmp)
#define ZT_IAM_TRY(expr)                                                                 \
  do {                                                                                   \
    auto zt_iam_status_ = (expr);                                                        \
    if (!zt_iam_status_)                                                                 \
      return ::zt::cloud::api::iam_api::to_iam_error(std::move(zt_iam_status_).error()); \
  } while (false)

// A parameter the action needs: ValidationError "… Member must not be null" when absent.
ApiResult<std::string> required(const IamCall& call, std::string_view name,
                                std::string_view member);
std::optional<std::string> optional(const IamCall& call, std::string_view name);

// CreateDate and friends: ISO 8601 in UTC.
std::string iam_date(double unix_seconds);
// A new unique id of IAM's form: the prefix (AROA roles, AIDA users, AKIA access keys) and
// upper-case letters and digits, `length` characters in all.
std::string new_iam_id(std::string_view prefix, size_t length);

// The caller's user (GetUser, CreateAccessKey without UserName); nullopt for the account's own
// key (the root user).
ApiResult<std::optional<registry::IamUser>> calling_user(IamCall& call);

}  // namespace zt::cloud::api::iam_api
