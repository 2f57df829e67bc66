#include "cloud/api/handler_util.hpp"

#include <algorithm>
#include <cctype>

namespace zt::cloud::api {

ApiResult<nlohmann::json> json_body(const ApiRequest& request, bool required) {
  if (request.body().empty()) {
    if (required) return invalid_request("the request body is empty; a JSON object is required");
    return nlohmann::json::object();
  }
  auto body = parse_json(request.body());
  if (!body) {
    // Not JSON: AWS's SerializationException; JSON nested too deep: a request we refuse.
    if (body.error().code == Errc::parse)
      return api_error(400, "SerializationException", "the request body is not valid JSON");
    return invalid_request("the request body: " + body.error().message);
  }
  if (!body->is_object())
    return api_error(400, "SerializationException", "the request body is not a JSON object");
  return std::move(*body);
}

ApiResult<registry::PageRequest> page_request(const ApiRequest& request, const char* token_name,
                                              const char* size_name, int max_size) {
  registry::PageRequest page{.after = "", .limit = max_size, .ascending = true};
  if (auto size = request.query_value(size_name)) {
    int value = 0;
    bool digits = !size->empty() && size->size() < 8 &&
                  std::all_of(size->begin(), size->end(),
                              [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    if (digits) value = std::stoi(*size);
    if (!digits || value < 1 || value > max_size) {
      return invalid_request(std::string(size_name) + " must be between 1 and " +
                             std::to_string(max_size));
    }
    page.limit = value;
  }
  if (auto token = request.query_value(token_name); token && !token->empty()) {
    auto decoded = base64_decode(*token);
    if (!decoded || token->size() > 1024)
      return invalid_request(std::string(token_name) + " is not a token this service issued");
    page.after = std::string(decoded->begin(), decoded->end());
  }
  ZT_API_TRY_ASSIGN(page.ascending, query_bool(request, "isAscendingOrder", true));
  return page;
}

std::string page_token(const std::string& next_key) {
  return next_key.empty() ? std::string() : base64_encode(as_bytes(next_key));
}

ApiResult<bool> query_bool(const ApiRequest& request, const char* name, bool fallback) {
  auto value = request.query_value(name);
  if (!value) return fallback;
  std::string lower = *value;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  if (lower == "true") return true;
  if (lower == "false") return false;
  return invalid_request(std::string(name) + " must be true or false");
}

ApiError constraint_violation(std::string_view value, std::string_view member,
                              std::string_view pattern, size_t max_length) {
  std::string constraint;
  if (value.empty()) {
    constraint = "Member must have length greater than or equal to 1";
  } else if (value.size() > max_length) {
    constraint = "Member must have length less than or equal to " + std::to_string(max_length);
  } else {
    constraint = "Member must satisfy regular expression pattern: " + std::string(pattern);
  }
  // The value is echoed as AWS does, cut so a huge one cannot make a huge answer.
  std::string shown(value.substr(0, 1024));
  return invalid_request("1 validation error detected: Value '" + shown + "' at '" +
                         std::string(member) + "' failed to satisfy constraint: " + constraint);
}

namespace {
bool all_of_set(std::string_view name, size_t max, bool (*allowed)(char)) {
  return !name.empty() && name.size() <= max && std::all_of(name.begin(), name.end(), allowed);
}
}  // namespace

bool valid_thing_name(std::string_view name) {
  return all_of_set(name, 128, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '_' || c == '-';
  });
}
bool valid_policy_name(std::string_view name) {
  return all_of_set(name, 128, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("_+=,.@-").find(c) != std::string_view::npos;
  });
}
bool valid_rule_name(std::string_view name) {
  return all_of_set(name, 128,
                    [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}
bool valid_certificate_id(std::string_view id) {
  return id.size() == 64 && std::all_of(id.begin(), id.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c));
         });
}

std::optional<std::string> certificate_id_of_arn(std::string_view arn) {
  // arn:aws:iot:<region>:<account>:cert/<id>
  if (arn.rfind("arn:", 0) != 0) return std::nullopt;
  size_t slash = arn.rfind(":cert/");
  if (slash == std::string_view::npos) return std::nullopt;
  std::string id(arn.substr(slash + 6));
  if (!valid_certificate_id(id)) return std::nullopt;
  std::transform(id.begin(), id.end(), id.begin(), ::tolower);
  return id;
}

ApiResult<void> check_principal(ServiceContext& ctx, std::string_view principal) {
  if (principal.empty() || principal.size() > 2048) {
    return invalid_request("the principal is missing or too long");
  }
  // A thing group's ARN (AttachPolicy to a group): the group must exist, as AWS answers
  // ResourceNotFoundException for a missing one.
  if (auto at = principal.find(":thinggroup/"); at != std::string_view::npos) {
    std::string name(principal.substr(at + 12));
    ZT_API_TRY_ASSIGN(auto group, ctx.registry.find_thing_group(name));
    if (!group) return not_found("Thing group " + name + " does not exist");
    return {};
  }
  if (principal.find(":cert/") == std::string_view::npos) return {};  // Cognito etc.
  auto id = certificate_id_of_arn(principal);
  if (!id)
    return invalid_request("'" + std::string(principal.substr(0, 200)) +
                           "' is not a certificate ARN");
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_certificate(*id));
  if (!found) return not_found("The certificate " + *id + " does not exist");
  return {};
}

}  // namespace zt::cloud::api
