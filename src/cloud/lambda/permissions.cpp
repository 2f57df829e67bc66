#include "cloud/lambda/permissions.hpp"

#include <algorithm>

#include "common/glob.hpp"

namespace zt::cloud::lambda {
namespace {

using nlohmann::json;

bool is_account_id(const std::string& text) {
  return text.size() == 12 && std::all_of(text.begin(), text.end(), ::isdigit);
}

bool names(const json& value, const std::string& wanted) {
  if (value.is_string()) return glob_match(value.get<std::string>(), wanted);
  if (value.is_array()) {
    return std::any_of(value.begin(), value.end(), [&](const json& item) {
      return item.is_string() && glob_match(item.get<std::string>(), wanted);
    });
  }
  return false;
}

// Every condition must hold; an operator or key we do not know fails the statement (safe side).
bool conditions_hold(const json& condition, const std::string& source_arn,
                     const std::string& source_account) {
  if (condition.is_null()) return true;
  if (!condition.is_object()) return false;
  for (const auto& [op, keys] : condition.items()) {
    if (!keys.is_object()) return false;
    for (const auto& [key, value] : keys.items()) {
      std::string lower = key;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      const std::string* actual = lower == "aws:sourcearn"       ? &source_arn
                                  : lower == "aws:sourceaccount" ? &source_account
                                                                 : nullptr;
      if (actual == nullptr || actual->empty()) return false;
      bool like = op == "ArnLike" || op == "StringLike";
      bool equals = op == "ArnEquals" || op == "StringEquals";
      if (!like && !equals) return false;
      auto check = [&](const json& item) {
        if (!item.is_string()) return false;
        return like ? glob_match(item.get<std::string>(), *actual)
                    : item.get<std::string>() == *actual;
      };
      bool held = value.is_array() ? std::any_of(value.begin(), value.end(), check) : check(value);
      if (!held) return false;
    }
  }
  return true;
}

}  // namespace

json permission_statement(const PermissionRequest& request, const std::string& function_arn) {
  json principal;
  if (request.principal == "*") {
    principal = "*";
  } else if (is_account_id(request.principal)) {
    principal = {{"AWS", "arn:aws:iam::" + request.principal + ":root"}};
  } else if (request.principal.starts_with("arn:")) {
    principal = {{"AWS", request.principal}};
  } else {
    principal = {{"Service", request.principal}};
  }
  json statement = {{"Sid", request.statement_id},
                    {"Effect", "Allow"},
                    {"Principal", principal},
                    {"Action", request.action},
                    {"Resource", function_arn}};
  json condition = json::object();
  if (request.source_account)
    condition["StringEquals"] = {{"AWS:SourceAccount", *request.source_account}};
  if (request.source_arn) condition["ArnLike"] = {{"AWS:SourceArn", *request.source_arn}};
  if (!condition.empty()) statement["Condition"] = condition;
  return statement;
}

json policy_document(const std::vector<json>& statements) {
  return {{"Version", "2012-10-17"}, {"Id", "default"}, {"Statement", statements}};
}

bool allows(const std::vector<std::string>& statements, const std::string& action,
            const std::string& service, const std::string& source_arn,
            const std::string& source_account) {
  for (const auto& text : statements) {
    json statement = json::parse(text, nullptr, false);
    if (!statement.is_object()) continue;
    if (statement.value("Effect", json()) != "Allow") continue;
    if (!names(statement.value("Action", json()), action)) continue;
    const json principal = statement.value("Principal", json());
    bool principal_matches =
        principal == "*" ||
        (principal.is_object() && names(principal.value("Service", json()), service));
    if (!principal_matches) continue;
    if (!conditions_hold(statement.value("Condition", json()), source_arn, source_account))
      continue;
    return true;
  }
  return false;
}

}  // namespace zt::cloud::lambda
