// The built-in JITR function's ControlPlane (cloud/jitr) implemented in-process on the registry:
// the same records the REST handlers write, without a network round trip.
#pragma once

#include "cloud/jitr/jitr_function.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::service {

class RegistryControlPlane final : public jitr::ControlPlane {
 public:
  explicit RegistryControlPlane(registry::Registry& registry) : registry_(registry) {}
  Result<jitr::CertificateDescription> describe_certificate(
      const std::string& certificate_id) override;
  Status create_thing_type(const std::string& name) override;
  Status create_thing(const std::string& name, const std::string& thing_type) override;
  Status create_policy(const std::string& name, const std::string& document) override;
  Status attach_principal_policy(const std::string& policy_name,
                                 const std::string& principal_arn) override;
  Status attach_thing_principal(const std::string& thing_name,
                                const std::string& principal_arn) override;
  // PENDING_ACTIVATION → ACTIVE; ACTIVE stays (nothing written); any other state is refused.
  Status activate_certificate(const std::string& certificate_id) override;

 private:
  registry::Registry& registry_;
};

}  // namespace zt::cloud::service
