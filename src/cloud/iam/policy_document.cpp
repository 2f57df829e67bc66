#include "cloud/iam/policy_document.hpp"

#include <algorithm>
#include <cctype>

#include "common/glob.hpp"
#include "common/json.hpp"

namespace zt::cloud::iam {
namespace {

using nlohmann::json;

Error malformed(std::string message) { return make_error(Errc::parse, std::move(message)); }

// A string, or a non-empty array of strings (Action, Resource, Principal.Service…).
bool string_or_strings(const json& value) {
  if (value.is_string()) return true;
  if (!value.is_array() || value.empty()) return false;
  return std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_string(); });
}

bool valid_principal(const json& principal) {
  if (principal.is_string()) return principal.get_ref<const std::string&>() == "*";
  if (!principal.is_object() || principal.empty()) return false;
  for (auto it = principal.begin(); it != principal.end(); ++it) {
    static constexpr std::string_view kKinds[] = {"AWS", "Service", "Federated", "CanonicalUser"};
    if (std::find(std::begin(kKinds), std::end(kKinds), it.key()) == std::end(kKinds)) {
      return false;
    }
    if (!string_or_strings(it.value())) return false;
  }
  return true;
}

Status check_statement(const json& statement, PolicyKind kind) {
  if (!statement.is_object()) return malformed("Syntax errors in policy.");
  static constexpr std::string_view kElements[] = {"Sid",       "Effect",       "Action",
                                                   "NotAction", "Resource",     "NotResource",
                                                   "Principal", "NotPrincipal", "Condition"};
  for (auto it = statement.begin(); it != statement.end(); ++it) {
    if (std::find(std::begin(kElements), std::end(kElements), it.key()) == std::end(kElements)) {
      return malformed("Syntax errors in policy.");
    }
  }
  if (auto sid = statement.find("Sid"); sid != statement.end() && !sid->is_string())
    return malformed("Syntax errors in policy.");
  auto effect = statement.find("Effect");
  if (effect == statement.end()) return malformed("Missing required field Effect");
  if (!effect->is_string() || (*effect != "Allow" && *effect != "Deny"))
    return malformed("Invalid effect: " + effect->dump().substr(0, 64));
  bool has_action = statement.contains("Action") || statement.contains("NotAction");
  if (!has_action) return malformed("Policy statement must contain actions.");
  for (const char* name : {"Action", "NotAction", "Resource", "NotResource"}) {
    if (auto it = statement.find(name); it != statement.end() && !string_or_strings(*it))
      return malformed("Syntax errors in policy.");
  }
  if (auto it = statement.find("Condition"); it != statement.end() && !it->is_object())
    return malformed("Syntax errors in policy.");
  bool has_principal = statement.contains("Principal") || statement.contains("NotPrincipal");
  for (const char* name : {"Principal", "NotPrincipal"}) {
    if (auto it = statement.find(name); it != statement.end() && !valid_principal(*it))
      return malformed("Invalid principal in policy: " + it->dump().substr(0, 128));
  }
  bool has_resource = statement.contains("Resource") || statement.contains("NotResource");
  if (kind == PolicyKind::identity) {
    if (has_principal) return malformed("Policy document should not specify a principal.");
    if (!has_resource) return malformed("Policy statement must contain resources.");
  } else {
    if (has_resource) {
      return malformed(statement.contains("Resource") ? "Has prohibited field Resource"
                                                      : "Has prohibited field NotResource");
    }
    if (!has_principal) return malformed("Missing required field Principal");
  }
  return ok();
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool any_string(const json& value, const auto& predicate) {
  if (value.is_string()) return predicate(value.get_ref<const std::string&>());
  if (!value.is_array()) return false;
  return std::any_of(value.begin(), value.end(), [&](const json& item) {
    return item.is_string() && predicate(item.get_ref<const std::string&>());
  });
}

bool matches_assume_role(const json& statement) {
  auto action_matches = [](const std::string& pattern) {
    return glob_match(lower(pattern), "sts:assumerole");
  };
  if (auto action = statement.find("Action"); action != statement.end())
    return any_string(*action, action_matches);
  if (auto not_action = statement.find("NotAction"); not_action != statement.end())
    return !any_string(*not_action, action_matches);
  return false;
}

bool names_service(const json& principal, std::string_view service) {
  if (principal.is_string()) return principal.get_ref<const std::string&>() == "*";
  if (!principal.is_object()) return false;
  if (auto aws = principal.find("AWS");
      aws != principal.end() && any_string(*aws, [](const std::string& v) { return v == "*"; }))
    return true;
  auto services = principal.find("Service");
  return services != principal.end() &&
         any_string(*services, [&](const std::string& v) { return v == service; });
}

bool matches_principal(const json& statement, std::string_view service) {
  if (auto principal = statement.find("Principal"); principal != statement.end())
    return names_service(*principal, service);
  if (auto not_principal = statement.find("NotPrincipal"); not_principal != statement.end())
    return !names_service(*not_principal, service);
  return false;
}

}  // namespace

Result<json> parse_policy_document(std::string_view text, PolicyKind kind) {
  auto parsed = parse_json(text);
  if (!parsed || !parsed->is_object()) return malformed("This policy contains invalid Json");
  const json& document = *parsed;
  for (auto it = document.begin(); it != document.end(); ++it) {
    if (it.key() != "Version" && it.key() != "Id" && it.key() != "Statement")
      return malformed("Syntax errors in policy.");
  }
  if (auto version = document.find("Version"); version != document.end()) {
    // "Version": the current 2012-10-17 or the legacy 2008-10-17 (policy element reference).
    if (!version->is_string() || (*version != "2012-10-17" && *version != "2008-10-17"))
      return malformed("The policy failed legacy parsing");
  }
  if (auto id = document.find("Id"); id != document.end() && !id->is_string())
    return malformed("Syntax errors in policy.");
  auto statements = document.find("Statement");
  if (statements == document.end()) return malformed("Missing required field Statement");
  if (statements->is_object()) {
    ZT_TRY(check_statement(*statements, kind));
  } else if (statements->is_array() && !statements->empty()) {
    for (const json& statement : *statements) ZT_TRY(check_statement(statement, kind));
  } else {
    return malformed("Syntax errors in policy.");
  }
  return std::move(*parsed);
}

bool trust_allows_service(const json& trust_policy, std::string_view service) {
  if (!trust_policy.is_object()) return false;
  auto statements = trust_policy.find("Statement");
  if (statements == trust_policy.end()) return false;
  json list = statements->is_array() ? *statements : json::array({*statements});
  bool allowed = false;
  for (const json& statement : list) {
    if (!statement.is_object()) continue;
    auto effect = statement.find("Effect");
    if (effect == statement.end() || !effect->is_string()) continue;
    if (!matches_assume_role(statement) || !matches_principal(statement, service)) continue;
    if (*effect == "Deny") return false;  // an explicit deny wins (policy evaluation logic)
    if (*effect == "Allow") allowed = true;
  }
  return allowed;
}

bool trust_document_allows_service(std::string_view trust_policy, std::string_view service) {
  auto parsed = parse_policy_document(trust_policy, PolicyKind::trust);
  return parsed && trust_allows_service(*parsed, service);
}

}  // namespace zt::cloud::iam
