// Applying a Plan to the registry: the thing (its type, attributes, groups, with OverrideSettings
// for one that exists), the certificate's status, the policies (an inline document becomes a
// policy named by its hash; a named one must exist) and the attachments. Runs inside the caller's
// registry transaction: any error rolls everything back.
#pragma once

#include <string>

#include "cloud/provisioning/plan.hpp"
#include "cloud/provisioning/provisioner.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::provisioning {

struct ApplyContext {
  registry::Registry& registry;
  std::string certificate_id;
  std::string certificate_arn;  // arn:aws:iot:<region>:<account>:cert/<id>
};

// Errors are AWS's provisioning errors (statusCode, errorCode, errorMessage).
Result<void, ProvisioningError> apply_plan(const ApplyContext& context, const Plan& plan);

}  // namespace zt::cloud::provisioning
