#include "cloud/service/control_plane.hpp"

#include "cloud/api/handler_util.hpp"
#include "cloud/policy/policy.hpp"

namespace zt::cloud::service {
namespace {

// "Already exists" is decided inside the transaction but reported after it: an inner transaction
// that fails would make the caller's enclosing transaction (the whole JITR function) roll back.
Status created_or_exists(Result<bool> created, const std::string& what) {
  if (!created) return created.error();
  if (!*created) return make_error(Errc::already_exists, what + " already exists");
  return ok();
}

}  // namespace

Result<jitr::CertificateDescription> RegistryControlPlane::describe_certificate(
    const std::string& certificate_id) {
  ZT_TRY_ASSIGN(auto certificate, registry_.find_certificate(certificate_id));
  if (!certificate)
    return make_error(Errc::not_found, "certificate " + certificate_id + " does not exist");
  return jitr::CertificateDescription{.pem = certificate->pem, .status = certificate->status};
}

Status RegistryControlPlane::create_thing_type(const std::string& name) {
  return created_or_exists(registry_.transaction([&]() -> Result<bool> {
    ZT_TRY_ASSIGN(auto existing, registry_.find_thing_type(name));
    if (existing) return false;
    ZT_TRY(registry_.insert_thing_type({.name = name,
                                        .id = api::new_uuid(),
                                        .properties = "{}",
                                        .creation_date = api::now_seconds()}));
    return true;
  }),
                           "thing type " + name);
}

Status RegistryControlPlane::create_thing(const std::string& name, const std::string& thing_type) {
  return created_or_exists(registry_.transaction([&]() -> Result<bool> {
    ZT_TRY_ASSIGN(auto existing, registry_.find_thing(name));
    if (existing) return false;
    ZT_TRY(registry_.insert_thing({.name = name,
                                   .id = api::new_uuid(),
                                   .type_name = thing_type,
                                   .attributes = "{}",
                                   .version = 1}));
    return true;
  }),
                           "thing " + name);
}

Status RegistryControlPlane::create_policy(const std::string& name, const std::string& document) {
  ZT_TRY(policy::parse_policy(document, name));  // validated as CreatePolicy does
  return created_or_exists(registry_.transaction([&]() -> Result<bool> {
    ZT_TRY_ASSIGN(auto existing, registry_.find_policy(name));
    if (existing) return false;
    ZT_TRY(registry_.insert_policy(name, document, api::now_seconds(), api::new_uuid()));
    return true;
  }),
                           "policy " + name);
}

Status RegistryControlPlane::attach_principal_policy(const std::string& policy_name,
                                                     const std::string& principal_arn) {
  return registry_.attach_policy(policy_name, principal_arn);
}

Status RegistryControlPlane::attach_thing_principal(const std::string& thing_name,
                                                    const std::string& principal_arn) {
  return registry_.attach_thing_principal(thing_name, principal_arn, "NON_EXCLUSIVE_THING");
}

Status RegistryControlPlane::activate_certificate(const std::string& certificate_id) {
  return registry_.transaction([&]() -> Status {
    // Already ACTIVE (a repeated event for the same registration): nothing to write, no commit to
    // wait for.
    ZT_TRY_ASSIGN(auto certificate, registry_.find_certificate(certificate_id));
    if (certificate && certificate->status == registry::kActive) return ok();
    // Never REVOKED/INACTIVE → ACTIVE from the data plane (the API refuses REVOKED → ACTIVE too).
    if (certificate && certificate->status != registry::kPendingActivation) {
      return make_error(Errc::conflict,
                        "certificate " + certificate_id + " is " + certificate->status);
    }
    return registry_.update_certificate_status(certificate_id, registry::kActive);
  });
}

}  // namespace zt::cloud::service
