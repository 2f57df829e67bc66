// The Provisioner: runs a provisioning template for one device certificate (issue 15), for fleet
// provisioning's RegisterThing (cloud/service/fleet_provisioning*) and for JITP's first connect
// (cloud/service/auth.cpp). The steps, as AWS documents them ("Provisioning devices that don't have
// device certificates using fleet provisioning", "Just-in-time provisioning"):
//   1. the template is parsed and evaluated with the device's parameters, the
//      AWS::IoT::Certificate::* parameters read from the certificate, AWS::IoT::Provisioning::*;
//   2. the pre-provisioning hook (a Lambda function of the local cloud) is invoked, outside any
//      registry transaction; `allowProvisioning: false` refuses, `parameterOverrides` replace
//      parameters before a second evaluation;
//   3. every resource (thing, its groups/type/attributes, the certificate's status, the policy and
//      the attachments) is created or updated in ONE registry transaction: on any error nothing is
//      left behind.
// Each step is recorded on the device timeline (events::EventRecorder): the template evaluated,
// the hook's answer, a failure with AWS's error code.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <variant>

#include "cloud/events/recorder.hpp"
#include "cloud/lambda/invoker.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::provisioning {

// AWS's statusCode / errorCode / errorMessage of a refused provisioning.
struct ProvisioningError {
  int status = 400;
  std::string code;
  std::string message;
};

struct ProvisionRequest {
  std::string template_body;          // the template (a stored one's default version, or a CA's
                                      // registration config)
  std::string template_name;          // "" for JITP
  std::string pre_provisioning_hook;  // Lambda ARN or "" (fleet provisioning only)
  nlohmann::json parameters = nlohmann::json::object();  // the device's parameters
  std::string certificate_id;  // the device certificate, already in the registry
  std::string client_id;       // for the timeline
  // Fleet provisioning: the claim certificate the device connected with (the hook's
  // claimCertificateId); "" otherwise. Added after the agreed fields, with a default.
  std::string claim_certificate_id{};
};

struct ProvisionOutcome {
  std::string thing_name;  // "" when the template makes no thing
  nlohmann::json device_configuration = nlohmann::json::object();
};

class Provisioner {
 public:
  Provisioner(registry::Registry& registry, std::string account_id, std::string region,
              lambda::Invoker* hooks, events::EventRecorder* recorder);
  // Evaluates the template (AWS::IoT::Certificate::* parameters read from the certificate), runs
  // the hook (outside any registry transaction), then creates/updates every resource in ONE
  // transaction; on any error nothing is left.
  std::variant<ProvisionOutcome, ProvisioningError> provision(const ProvisionRequest& request);

 private:
  Result<nlohmann::json, ProvisioningError> run_hook(const ProvisionRequest& request,
                                                     const std::string& certificate_pem,
                                                     const nlohmann::json& parameters);
  void record(const ProvisionRequest& request, const char* kind, const std::string& detail);
  ProvisioningError fail(const ProvisionRequest& request, ProvisioningError error);

  registry::Registry& registry_;
  std::string account_id_;
  std::string region_;
  lambda::Invoker* hooks_;
  events::EventRecorder* recorder_;
};

}  // namespace zt::cloud::provisioning
