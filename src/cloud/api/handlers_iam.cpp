// IAM's query protocol: the form body, the Action's handler, the XML envelope and IAM's errors.
// The actions: handlers_iam_roles.cpp (roles and their policies), handlers_iam_users.cpp (users
// and access keys).
#include "cloud/api/handlers_iam.hpp"

#include <algorithm>

#include "common/time.hpp"
#include "common/uuid.hpp"
#include "crypto/digest.hpp"

namespace zt::cloud::api {
namespace iam_api {

ApiError iam_error(int status, std::string_view code, std::string_view message) {
  return api_error(status, code, message);
}

ApiError to_iam_error(const Error& error) {
  switch (error.code) {
    case Errc::not_found:
      return no_such_entity(error.message);
    case Errc::already_exists:
      return entity_already_exists(error.message);
    case Errc::invalid_argument:
      return validation_error(error.message);
    case Errc::parse:
      return iam_error(400, "MalformedPolicyDocument", error.message);
    default:
      // IAM's ServiceFailure: "The request processing has failed because of an unknown error,
      // exception or failure." Our cause goes to the log, not to the client.
      return iam_error(500, "ServiceFailure",
                       "The request processing has failed because of an unknown error, "
                       "exception or failure.");
  }
}

ApiResult<std::string> required(const IamCall& call, std::string_view name,
                                std::string_view member) {
  auto value = iam::form_value(call.params, name);
  if (!value) {
    return validation_error("1 validation error detected: Value null at '" + std::string(member) +
                            "' failed to satisfy constraint: Member must not be null");
  }
  return std::move(*value);
}

std::optional<std::string> optional(const IamCall& call, std::string_view name) {
  return iam::form_value(call.params, name);
}

std::string iam_date(double unix_seconds) {
  return format_iso8601(static_cast<int64_t>(unix_seconds));
}

std::string new_iam_id(std::string_view prefix, size_t length) {
  // IAM User Guide, "IAM identifiers" (unique identifiers): a four-letter prefix for the kind
  // (AROA, AIDA, AKIA…) and upper-case letters and digits.
  return std::string(prefix) +
         crypto::random_text("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", length - prefix.size());
}

ApiResult<std::optional<registry::IamUser>> calling_user(IamCall& call) {
  ZT_IAM_TRY_ASSIGN(auto key,
                    call.ctx.registry.find_user_access_key(call.request.caller_access_key));
  if (!key) return std::optional<registry::IamUser>();
  ZT_IAM_TRY_ASSIGN(auto user, call.ctx.registry.find_user(key->user_name));
  return user;
}

}  // namespace iam_api

namespace {

using namespace iam_api;

const ActionTable& actions() {
  static const ActionTable table = [] {
    ActionTable out;
    add_role_actions(out);
    add_user_actions(out);
    return out;
  }();
  return table;
}

Reply xml_reply(int status, std::string body, const std::string& request_id) {
  Reply reply;
  reply.status = status;
  reply.body = std::move(body);
  reply.headers.emplace_back("Content-Type", "text/xml");
  reply.headers.emplace_back("x-amzn-RequestId", request_id);
  return reply;
}

// The query protocol's names of the SigV4 refusals (IAM API Reference, "Common errors"): the
// rest-json services' *Exception types without the suffix, an unknown key is InvalidClientTokenId
// and a credential-scope mistake is a SignatureDoesNotMatch.
std::pair<int, std::string> query_error_code(const ApiError& error) {
  if (error.type == "IncompleteSignatureException") return {400, "IncompleteSignature"};
  if (error.type == "InvalidSignatureException") return {403, "SignatureDoesNotMatch"};
  if (error.type == "UnrecognizedClientException") return {403, "InvalidClientTokenId"};
  if (error.type == "MissingAuthenticationTokenException")
    return {403, "MissingAuthenticationToken"};
  if (error.type == "ResourceNotFoundException" || error.type == "UnknownOperationException")
    return {400, "InvalidAction"};
  if (error.type == "InternalFailureException") return {500, "ServiceFailure"};
  return {error.status, error.type};
}

Reply iam_error_reply(const ApiError& error) {
  auto [status, code] = query_error_code(error);
  std::string request_id = new_uuid();
  return xml_reply(status, iam::query_error(status < 500, code, error.message, request_id),
                   request_id);
}

ApiResult<Reply> handle_iam(ServiceContext& ctx, const ApiRequest& request) {
  // POST with the form in the body (what the SDKs send) or GET with it in the query string.
  std::string_view raw = request.body();
  if (request.http->method == "GET") {
    std::string_view target = request.http->target;
    size_t question = target.find('?');
    raw = question == std::string_view::npos ? "" : target.substr(question + 1);
  }
  auto params = iam::parse_form(raw);
  if (!params) {
    return iam_error(
        400, params.error().code == Errc::parse ? "MalformedQueryString" : "ValidationError",
        params.error().message);
  }
  auto action = iam::form_value(*params, "Action");
  if (!action || action->empty()) {
    return iam_error(400, "MissingAction",
                     "The request is missing an action or a required parameter.");
  }
  auto version = iam::form_value(*params, "Version");
  auto found = actions().find(*action);
  if (found == actions().end() || (version && *version != "2010-05-08")) {
    return iam_error(400, "InvalidAction",
                     "Could not find operation " + action->substr(0, 64) + " for version " +
                         version.value_or("2010-05-08").substr(0, 32));
  }
  IamCall call{ctx, request, *params};
  ZT_IAM_TRY_ASSIGN(std::string result, found->second(call));
  std::string request_id = new_uuid();
  return xml_reply(200, iam::query_response(found->first, result, request_id), request_id);
}

}  // namespace

std::vector<std::string> iam_action_names() {
  std::vector<std::string> names;
  for (const auto& [name, handler] : actions()) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

Router make_iam_router() {
  Router router(&iam_error_reply);
  router.add("POST", "/", "IAM", handle_iam);
  router.add("GET", "/", "IAM", handle_iam);
  return router;
}

}  // namespace zt::cloud::api
