// Shared pieces of the control-plane handlers: AWS error replies, body/paging/name parsing.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cloud/api/service.hpp"
#include "common/hex.hpp"
#include "common/json.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"

namespace zt::cloud::api {

inline double now_seconds() { return unix_now_seconds(); }

inline ApiError invalid_request(std::string_view message) {
  return api_error(400, "InvalidRequestException", message);
}
inline ApiError not_found(std::string_view message) {
  return api_error(404, "ResourceNotFoundException", message);
}
inline ApiError already_exists(std::string_view message, std::string_view id,
                               std::string_view arn) {
  return api_error(409, "ResourceAlreadyExistsException", message,
                   {{"resourceId", id}, {"resourceArn", arn}});
}
inline Reply no_content() { return json_reply(nlohmann::json::object()); }

// An Error of a step below the API (registry, JSON member checks) as the client sees it: the
// expected ones map to their AWS shapes; one that is not the client's fault (disk, corruption)
// is a 500.
inline ApiError to_api_error(const Error& error) {
  switch (error.code) {
    case Errc::not_found:
      return not_found(error.message);
    case Errc::already_exists:
      return api_error(409, "ResourceAlreadyExistsException", error.message);
    case Errc::invalid_argument:
      return invalid_request(error.message);
    case Errc::conflict:
      return api_error(409, "ConflictingResourceUpdateException", error.message);
    default:
      return api_error(500, "InternalFailureException", error.message);
  }
}
inline ApiError to_api_error(ApiError error) { return error; }

// ZT_API_TRY(expr) / ZT_API_TRY_ASSIGN(lhs, expr): as ZT_TRY / ZT_TRY_ASSIGN inside a function
// returning ApiResult, for a Result of either error type (an Error goes through to_api_error).
#define ZT_API_TRY_ASSIGN(lhs, expr) \
  ZT_API_TRY_ASSIGN_IMPL(ZT_CONCAT(zt_api_tmp_, __LINE__), lhs, expr)
#define ZT_API_TRY_ASSIGN_IMPL(tmp, lhs, expr)                             \
  auto tmp = (expr);                                                       \
  if (!tmp) return ::zt::cloud::api::to_api_error(std::move(tmp).error()); \
  lhs = std::move(*tmp)
#define ZT_API_TRY(expr)                                                                           \
  do {                                                                                             \
    auto zt_api_status_ = (expr);                                                                  \
    if (!zt_api_status_) return ::zt::cloud::api::to_api_error(std::move(zt_api_status_).error()); \
  } while (false)

// Parses the body as a JSON object ("" → {} unless required) with parse_json (common/json.hpp:
// at most kMaxJsonDepth levels). Members are read with the checked accessors of common/json.hpp
// (string_member, bool_member, ...) through ZT_API_TRY_ASSIGN, so a member of the wrong type is a
// 400 InvalidRequestException naming it, never a type_error.
ApiResult<nlohmann::json> json_body(const ApiRequest& request, bool required);

// Paging: marker/pageSize (1..max) or nextToken/maxResults. Markers are base64 of the last key.
ApiResult<registry::PageRequest> page_request(const ApiRequest& request, const char* token_name,
                                              const char* size_name, int max_size);
std::string page_token(const std::string& next_key);

// Query booleans: "true"/"false" (case-insensitive); anything else → error.
ApiResult<bool> query_bool(const ApiRequest& request, const char* name, bool fallback = false);

// Name checks (reference §1.6 patterns).
bool valid_thing_name(std::string_view name);    // [a-zA-Z0-9:_-]{1,128}
bool valid_policy_name(std::string_view name);   // [\w+=,.@-]{1,128}
bool valid_rule_name(std::string_view name);     // [a-zA-Z0-9_]{1,128}
bool valid_certificate_id(std::string_view id);  // 64 hex

// A member that breaks its API model constraint, in AWS's validation wording (as AWS IoT answers,
// InvalidRequestException): "1 validation error detected: Value 'x!' at 'thingName' failed to
// satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9:_-]+". The
// length constraint is named first when the length is what fails (1..max_length).
ApiError constraint_violation(std::string_view value, std::string_view member,
                              std::string_view pattern, size_t max_length = 128);

// cert/<id> from a certificate ARN, nullopt if the ARN is not a certificate's.
std::optional<std::string> certificate_id_of_arn(std::string_view arn);

}  // namespace zt::cloud::api

namespace zt::cloud::api {
using zt::new_uuid;  // thingId, thingTypeId (common/uuid.hpp)
// A principal named in a request must exist when it is one of our certificates.
ApiResult<void> check_principal(ServiceContext& ctx, std::string_view principal);
}  // namespace zt::cloud::api
