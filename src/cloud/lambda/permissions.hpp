// A function's resource-based policy: the statement AddPermission stores (the JSON AWS's GetPolicy
// returns) and the check a caller must pass to invoke it. AWS IoT's rule engine invokes a function
// only when a statement allows lambda:InvokeFunction to the principal iot.amazonaws.com (AWS IoT
// developer guide, "Lambda" rule action), with any SourceArn / SourceAccount condition met.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace zt::cloud::lambda {

struct PermissionRequest {
  std::string statement_id;
  std::string action;     // lambda:InvokeFunction, lambda:*, ...
  std::string principal;  // a service (iot.amazonaws.com), an account id, an ARN or "*"
  std::optional<std::string> source_arn{};
  std::optional<std::string> source_account{};
};

// The statement as AWS writes it: Sid, Effect Allow, Principal {"Service"|"AWS": …}, Action,
// Resource (the function's ARN), Condition (ArnLike AWS:SourceArn, StringEquals AWS:SourceAccount).
nlohmann::json permission_statement(const PermissionRequest& request,
                                    const std::string& function_arn);

// The policy document GetPolicy returns (as a string, inside its answer).
nlohmann::json policy_document(const std::vector<nlohmann::json>& statements);

// Whether one of `statements` allows `action` to the service principal `service`, called on
// behalf of `source_arn` in `source_account`. A statement that is not valid JSON allows nothing.
bool allows(const std::vector<std::string>& statements, const std::string& action,
            const std::string& service, const std::string& source_arn,
            const std::string& source_account);

}  // namespace zt::cloud::lambda
