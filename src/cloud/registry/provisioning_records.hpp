// The records of provisioning templates (registry_provisioning.cpp): a template and its versions
// (CreateProvisioningTemplate, CreateProvisioningTemplateVersion; AWS IoT API reference).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace zt::cloud::registry {

struct ProvisioningTemplate {
  std::string name{};
  std::string description{};
  std::string type = "FLEET_PROVISIONING";  // FLEET_PROVISIONING | JITP
  bool enabled = false;
  std::string provisioning_role_arn{};
  std::optional<std::string> hook_target_arn{};  // preProvisioningHook.targetArn
  std::string hook_payload_version{};            // preProvisioningHook.payloadVersion
  int64_t default_version_id = 1;
  double creation_date = 0;
  double last_modified_date = 0;
};

struct ProvisioningTemplateVersion {
  std::string template_name{};
  int64_t version_id = 0;
  std::string body{};
  double creation_date = 0;
};

}  // namespace zt::cloud::registry
