// The records of policy versions, role aliases and domain configurations
// (registry_policy_versions.cpp, registry_role_aliases.cpp, registry_domain_configurations.cpp).
#pragma once

#include <cstdint>
#include <string>

namespace zt::cloud::registry {

// One version of an IoT policy (policies keep at most five, AWS's quota; one is the default).
struct PolicyVersion {
  std::string policy_name{};
  int64_t version = 1;
  std::string document{};
  double creation_date = 0;
  bool is_default = false;
};

// A role alias (AWS IoT credentials provider): an alias devices name instead of the role's ARN.
struct RoleAlias {
  std::string name{};
  std::string role_arn{};
  int64_t credential_duration_seconds = 3600;  // 900..43200
  double creation_date = 0;
  double last_modified = 0;
};

// A domain configuration: one more endpoint name the broker accepts (by SNI), with its own server
// certificate. `details` is the JSON of what is only stored and shown (serverCertificateArns,
// authorizerConfig, tlsConfig, serverCertificateConfig, serviceType, validationCertificateArn).
struct DomainConfiguration {
  std::string name{};
  std::string domain_name{};  // lowercase
  std::string domain_type{};  // ENDPOINT, AWS_MANAGED, CUSTOMER_MANAGED
  std::string status = "ENABLED";
  std::string details = "{}";
  std::string certificate_pem{};  // the server chain the broker presents for this name
  std::string key_pem{};          // its key (the cloud's own issuer made it); "" when imported
  double creation_date = 0;
  double last_status_change = 0;
};

}  // namespace zt::cloud::registry
