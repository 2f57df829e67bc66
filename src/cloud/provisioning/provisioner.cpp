#include "cloud/provisioning/provisioner.hpp"

#include <utility>

namespace zt::cloud::provisioning {

Provisioner::Provisioner(registry::Registry& registry, std::string account_id, std::string region,
                         lambda::Invoker* hooks, events::EventRecorder* recorder)
    : registry_(registry),
      account_id_(std::move(account_id)),
      region_(std::move(region)),
      hooks_(hooks),
      recorder_(recorder) {}

std::variant<ProvisionOutcome, ProvisioningError> Provisioner::provision(
    const ProvisionRequest& request) {
  (void)request;
  return ProvisioningError{500, "InternalFailure",
                           "provisioning templates are not implemented yet"};
}

}  // namespace zt::cloud::provisioning
