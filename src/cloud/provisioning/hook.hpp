// The pre-provisioning hook (AWS IoT developer guide, "Pre-provisioning hooks"): a Lambda function
// of the account, named by its ARN in the template's preProvisioningHook.targetArn, invoked with
// {claimCertificateId, certificateId, certificatePem, templateArn, clientId, parameters} before a
// device is provisioned; it answers {"allowProvisioning": bool, "parameterOverrides": {…}}.
// "The provisioning proceeds only if the Lambda function returns an object with
// "allowProvisioning": True"; a function that fails, or answers without allowProvisioning, fails
// the request; it "must finish running and return within 5 seconds".
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace zt::cloud::provisioning {

inline constexpr std::chrono::milliseconds kHookDeadline{5000};
// preProvisioningHook.payloadVersion when the request names none (the only version AWS documents).
inline constexpr const char* kDefaultHookPayloadVersion = "2020-04-01";

// The function name of arn:aws:lambda:<region>:<account>:function:<name> in this region and
// account; nullopt for any other ARN (another account, region or service, a qualified ARN).
std::optional<std::string> hook_function_name(std::string_view arn, std::string_view region,
                                              std::string_view account_id);

struct HookAnswer {
  bool allow = false;
  nlohmann::json parameter_overrides = nlohmann::json::object();  // string → string
};

// The function's answer. Errors (Errc::invalid_argument): not a JSON object, no boolean
// allowProvisioning, parameterOverrides not an object of strings.
Result<HookAnswer> parse_hook_answer(std::string_view payload);

}  // namespace zt::cloud::provisioning
