// The AWS side of the seed guide (§III.4-5 and §V) as API calls: the role ZTLambdaJITRRole (the
// Lambda trust policy, the inline policy ZTLambdaJITRPolicy, AWSLambdaBasicExecutionRole), the
// function ZTLambdaJITR (functions/jitr/lambda_function.py, zipped), the permission for AWS IoT
// to invoke it from the rule, and the rule ZeroTouchJustInTimeRegistration. `ztp aws deploy-jitr`
// and `ztp demo` run it against real AWS or the local cloud alike; each call is printed as the aws
// CLI command that does the same.
//
// Idempotent: every resource is read first and created or updated only when it is missing or
// differs, so a second run changes nothing and says so. Teardown removes it all, tolerating what
// is already gone.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "aws/iam_client.hpp"
#include "aws/iot_client.hpp"
#include "aws/lambda_client.hpp"
#include "common/result.hpp"

namespace zt::cli {

inline constexpr const char* kJitrRoleName = "ZTLambdaJITRRole";
inline constexpr const char* kJitrRolePolicyName = "ZTLambdaJITRPolicy";
inline constexpr const char* kLambdaBasicExecutionPolicy =
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
inline constexpr const char* kJitrFunctionName = "ZTLambdaJITR";
inline constexpr const char* kJitrRuleName = "ZeroTouchJustInTimeRegistration";
inline constexpr const char* kJitrPermissionId = "iot-rule-ZeroTouchJustInTimeRegistration";
inline constexpr const char* kJitrHandler = "lambda_function.lambda_handler";
inline constexpr const char* kJitrRuntime = "python3.12";

// The project's JITR function (functions/jitr/lambda_function.py), built into ztp.
std::string_view builtin_jitr_function_source();

// The documents of the stack: the Lambda trust policy, the seed's ZTLambdaJITRPolicy (plus
// iot:AttachThingPrincipal, which our function calls), the rule's payload for a function ARN.
std::string lambda_trust_policy();
std::string jitr_role_policy();
nlohmann::json jitr_rule_payload(std::string_view function_arn);

struct JitrClients {
  aws::IamClient& iam;
  aws::LambdaClient& lambda;
  aws::IotClient& iot;
};

struct JitrStackOptions {
  // Print the calls of a deployment on an account without the stack; send nothing.
  bool dry_run = false;
  std::string code;        // lambda_function.py's text
  std::string code_label;  // where it came from, for the printed zip command
  std::string runtime = kJitrRuntime;
  std::string aws_options;  // printed between "aws" and the service (aws_global_options)
  std::function<void(std::string_view)> print;  // one line of output
  // How to wait between retries (IAM is eventually consistent: a new role may not be assumable
  // by Lambda for some seconds). Tests pass one that does not sleep.
  std::function<void(std::chrono::milliseconds)> sleep;
};

struct JitrStackReport {
  int changes = 0;           // resources created, updated or removed
  std::string function_arn;  // deploy only
  std::string rule_arn;      // deploy only
};

Result<JitrStackReport> deploy_jitr_stack(JitrClients clients, const JitrStackOptions& options);
Result<JitrStackReport> teardown_jitr_stack(JitrClients clients, const JitrStackOptions& options);

}  // namespace zt::cli
