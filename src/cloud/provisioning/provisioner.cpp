#include "cloud/provisioning/provisioner.hpp"

#include <utility>

#include "cloud/lambda/permissions.hpp"
#include "cloud/provisioning/apply.hpp"
#include "cloud/provisioning/certificate_parameters.hpp"
#include "cloud/provisioning/hook.hpp"
#include "cloud/provisioning/plan.hpp"
#include "common/uuid.hpp"

namespace zt::cloud::provisioning {

using nlohmann::json;

Provisioner::Provisioner(registry::Registry& registry, std::string account_id, std::string region,
                         lambda::Invoker* hooks, events::EventRecorder* recorder)
    : registry_(registry),
      account_id_(std::move(account_id)),
      region_(std::move(region)),
      hooks_(hooks),
      recorder_(recorder) {}

void Provisioner::record(const ProvisionRequest& request, const char* kind,
                         const std::string& detail) {
  if (recorder_) recorder_->record(request.certificate_id, kind, detail, request.client_id);
}

ProvisioningError Provisioner::fail(const ProvisionRequest& request, ProvisioningError error) {
  record(request, events::kProvisioningFailed, error.code + ": " + error.message);
  return error;
}

// The pre-provisioning hook: the function of the ARN, allowed to be invoked by AWS IoT (a
// resource-policy statement for iot.amazonaws.com, as `aws lambda add-permission` makes it),
// invoked with the documented input, answering within 5 seconds. Returns the parameters with the
// answer's parameterOverrides added.
Result<json, ProvisioningError> Provisioner::run_hook(const ProvisionRequest& request,
                                                      const std::string& certificate_pem,
                                                      const json& parameters) {
  auto refuse = [](std::string message) {
    return ProvisioningError{500, "InternalFailure", std::move(message)};
  };
  if (!hooks_) return refuse("pre-provisioning hooks cannot run: the local cloud has no Lambda");
  auto name = hook_function_name(request.pre_provisioning_hook, region_, account_id_);
  if (!name) return refuse("the pre-provisioning hook is not a Lambda function of this account");
  std::string template_arn = "arn:aws:iot:" + region_ + ":" + account_id_ +
                             ":provisioningtemplate/" + request.template_name;
  auto statements = registry_.lambda_permissions(*name);
  if (!statements) return refuse(statements.error().message);
  std::vector<std::string> texts;
  for (const auto& statement : *statements) texts.push_back(statement.statement);
  if (!lambda::allows(texts, "lambda:InvokeFunction", "iot.amazonaws.com", template_arn,
                      account_id_)) {
    return ProvisioningError{403, "AccessDenied",
                             "AWS IoT is not allowed to invoke the pre-provisioning hook " + *name +
                                 " (aws lambda add-permission --principal iot.amazonaws.com)"};
  }
  json event = {{"claimCertificateId", request.claim_certificate_id},
                {"certificateId", request.certificate_id},
                {"certificatePem", certificate_pem},
                {"templateArn", template_arn},
                {"clientId", request.client_id},
                {"parameters", parameters}};
  auto outcome = hooks_->invoke(*name, event.dump(), new_uuid());
  if (!outcome) return refuse("the pre-provisioning hook failed: " + outcome.error().message);
  if (outcome->function_error)
    return refuse("the pre-provisioning hook failed: " + outcome->error_type);
  if (outcome->duration_ms > kHookDeadline.count())
    return refuse("the pre-provisioning hook did not return within 5 seconds");
  auto answer = parse_hook_answer(outcome->payload);
  if (!answer) return refuse(answer.error().message);
  std::string overrides;
  for (const auto& [key, value] : answer->parameter_overrides.items())
    overrides += (overrides.empty() ? "" : ", ") + key;
  record(request, events::kProvisioningHookAnswered,
         std::string("allowProvisioning: ") + (answer->allow ? "true" : "false") +
             (overrides.empty() ? "" : "; parameterOverrides: " + overrides));
  if (!answer->allow) {
    return ProvisioningError{403, "AccessDenied",
                             "The pre-provisioning hook did not allow provisioning"};
  }
  json merged = parameters;
  for (const auto& [key, value] : answer->parameter_overrides.items()) merged[key] = value;
  return merged;
}

std::variant<ProvisionOutcome, ProvisioningError> Provisioner::provision(
    const ProvisionRequest& request) {
  auto parsed = parse_template(request.template_body);
  if (!parsed) return fail(request, {400, "InvalidRequest", parsed.error().message});
  if (!request.parameters.is_object())
    return fail(request, {400, "InvalidParameters", "parameters must be a JSON object"});
  auto certificate = registry_.find_certificate(request.certificate_id);
  if (!certificate) return fail(request, {500, "InternalFailure", certificate.error().message});
  if (!*certificate) {
    return fail(request, {404, "ResourceNotFound",
                          "The certificate " + request.certificate_id + " does not exist"});
  }
  // The device's parameters, with AWS::IoT::Certificate::* always the certificate's own.
  json parameters = json::object();
  for (const auto& [key, value] : request.parameters.items()) {
    if (key.rfind(kCertificateParameterPrefix, 0) != 0) parameters[key] = value;
  }
  auto from_certificate = certificate_parameters((*certificate)->pem, request.certificate_id);
  if (!from_certificate)
    return fail(request, {400, "InvalidRequest", from_certificate.error().message});
  // The hook sees what the device sent (developer guide: "the properties in the parameters
  // argument passed in the RegisterThing request payload").
  if (!request.pre_provisioning_hook.empty()) {
    auto hooked = run_hook(request, (*certificate)->pem, parameters);
    if (!hooked) return fail(request, std::move(hooked).error());
    parameters = std::move(*hooked);
  }
  for (const auto& [key, value] : from_certificate->items()) parameters[key] = value;
  auto plan = evaluate(*parsed, parameters);
  if (!plan) return fail(request, {400, "InvalidParameters", plan.error().message});
  record(request, events::kProvisioningTemplateEvaluated,
         (request.template_name.empty() ? std::string("JITP template") : request.template_name) +
             (plan->thing ? ": thing " + plan->thing->name : "") + ", " +
             std::to_string(plan->policies.size()) + " policies");
  ApplyContext context{.registry = registry_,
                       .certificate_id = request.certificate_id,
                       .certificate_arn = "arn:aws:iot:" + region_ + ":" + account_id_ + ":cert/" +
                                          request.certificate_id};
  // Every resource in ONE transaction: a failing one undoes those before it.
  ProvisioningError refused;
  Status applied = registry_.transaction([&]() -> Status {
    auto outcome = apply_plan(context, *plan);
    if (outcome) return ok();
    refused = std::move(outcome).error();
    return make_error(Errc::conflict, refused.message);
  });
  if (!applied) {
    if (refused.code.empty()) refused = {500, "InternalFailure", applied.error().message};
    return fail(request, std::move(refused));
  }
  ProvisionOutcome out;
  if (plan->thing) out.thing_name = plan->thing->name;
  out.device_configuration = std::move(plan->device_configuration);
  return out;
}

}  // namespace zt::cloud::provisioning
