#include "cloud/provisioning/apply.hpp"

#include <nlohmann/json.hpp>
#include <set>

#include "common/json.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"

namespace zt::cloud::provisioning {
namespace {

using nlohmann::json;
using Outcome = Result<void, ProvisioningError>;

ProvisioningError invalid(std::string message) {
  return ProvisioningError{400, "InvalidRequest", std::move(message)};
}
// OverrideSettings FAIL: "Cause the request to fail with a ResourceConflictsException".
ProvisioningError conflict(std::string message) {
  return ProvisioningError{409, "ResourceConflictsException", std::move(message)};
}
ProvisioningError internal(const Error& error) {
  return ProvisioningError{500, "InternalFailure", error.message};
}

// What a thing's property becomes when the thing exists: `current` kept (DO_NOTHING), replaced,
// merged (attributes) or a conflict when the template asks for something else (FAIL).
Outcome resolve_attributes(const ThingPlan& plan, registry::Thing& thing) {
  if (!plan.attributes) return {};
  auto current = parse_json(thing.attributes).value_or(json::object());
  if (!current.is_object()) current = json::object();
  json wanted = json::object();
  for (const auto& [name, value] : *plan.attributes) wanted[name] = value;
  switch (plan.attributes_override) {
    case Override::do_nothing:
      return {};
    case Override::replace:
      thing.attributes = wanted.dump();
      return {};
    case Override::merge:
      current.update(wanted);
      thing.attributes = current.dump();
      return {};
    case Override::fail:
      if (current != wanted)
        return conflict("The thing " + thing.name + " exists with other attributes");
      return {};
  }
  return {};
}

Outcome resolve_type(const ThingPlan& plan, registry::Thing& thing) {
  if (!plan.type_name || thing.type_name == plan.type_name) return {};
  switch (plan.type_override) {
    case Override::do_nothing:
      return {};
    case Override::fail:
      return conflict("The thing " + thing.name + " exists with another thing type");
    default:
      thing.type_name = plan.type_name;
      return {};
  }
}

Outcome check_type_exists(registry::Registry& registry, const ThingPlan& plan) {
  if (!plan.type_name) return {};
  auto type = registry.find_thing_type(*plan.type_name);
  if (!type) return internal(type.error());
  if (!*type) return invalid("The thing type " + *plan.type_name + " does not exist");
  if ((*type)->deprecated) return invalid("The thing type " + *plan.type_name + " is deprecated");
  return {};
}

// ThingGroups (static groups of the registry's thing-group contract): a new thing joins them; an
// existing one follows OverrideSettings.ThingGroups — DO_NOTHING keeps its groups, MERGE adds the
// template's, REPLACE makes its static groups exactly the template's, FAIL refuses a difference.
Outcome apply_groups(registry::Registry& registry, const ThingPlan& plan, bool existed) {
  if (!plan.groups) return {};
  std::set<std::string> wanted(plan.groups->begin(), plan.groups->end());
  for (const auto& name : wanted) {
    auto group = registry.find_thing_group(name);
    if (!group) return internal(group.error());
    if (!*group) return invalid("The thing group " + name + " does not exist");
    if ((*group)->dynamic)
      return invalid("The thing group " + name +
                     " is dynamic: a template cannot add a thing to it");
  }
  std::set<std::string> current;
  if (existed) {
    auto groups = registry.list_thing_groups_for_thing(plan.name);
    if (!groups) return internal(groups.error());
    for (const auto& name : *groups) {
      auto group = registry.find_thing_group(name);
      if (!group) return internal(group.error());
      if (*group && !(*group)->dynamic) current.insert(name);
    }
    switch (plan.groups_override) {
      case Override::do_nothing:
        return {};
      case Override::fail:
        if (current != wanted)
          return conflict("The thing " + plan.name + " exists in other thing groups");
        return {};
      case Override::replace:
        for (const auto& name : current) {
          if (wanted.count(name)) continue;
          auto removed = registry.remove_thing_from_thing_group(name, plan.name);
          if (!removed) return internal(removed.error());
        }
        break;
      case Override::merge:
        break;
    }
  }
  for (const auto& name : wanted) {
    if (current.count(name)) continue;
    auto added = registry.add_thing_to_thing_group(name, plan.name);
    if (!added) {
      if (added.error().code == Errc::invalid_argument) return invalid(added.error().message);
      return internal(added.error());
    }
  }
  return {};
}

Outcome apply_thing(const ApplyContext& context, const ThingPlan& plan) {
  auto& registry = context.registry;
  if (plan.name.empty() || plan.name.size() > 128 ||
      plan.name.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_-") !=
          std::string::npos) {
    return invalid("ThingName " + plan.name.substr(0, 128) +
                   " must match [a-zA-Z0-9:_-]+ (1..128 characters)");
  }
  auto existing = registry.find_thing(plan.name);
  if (!existing) return internal(existing.error());
  if (!*existing) {
    if (auto checked = check_type_exists(registry, plan); !checked) return checked;
    json attributes = json::object();
    if (plan.attributes) {
      for (const auto& [name, value] : *plan.attributes) attributes[name] = value;
    }
    registry::Thing thing{.name = plan.name,
                          .id = new_uuid(),
                          .type_name = plan.type_name,
                          .attributes = attributes.dump(),
                          .version = 1};
    if (auto inserted = registry.insert_thing(thing); !inserted) return internal(inserted.error());
  } else {
    registry::Thing thing = **existing;
    if (auto resolved = resolve_attributes(plan, thing); !resolved) return resolved;
    if (auto resolved = resolve_type(plan, thing); !resolved) return resolved;
    if (thing.type_name != (*existing)->type_name) {
      if (auto checked = check_type_exists(registry, plan); !checked) return checked;
    }
    if (thing.attributes != (*existing)->attributes || thing.type_name != (*existing)->type_name) {
      thing.version += 1;
      if (auto updated = registry.update_thing(thing); !updated) return internal(updated.error());
    }
  }
  if (auto grouped = apply_groups(registry, plan, existing->has_value()); !grouped) return grouped;
  if (plan.billing_group) {
    auto group = registry.find_billing_group(*plan.billing_group);
    if (!group) return internal(group.error());
    if (!*group) return invalid("The billing group " + *plan.billing_group + " does not exist");
    // A thing is in at most one billing group: adding it moves it (AddThingToBillingGroup).
    auto added = registry.add_thing_to_billing_group(*plan.billing_group, plan.name);
    if (!added) return internal(added.error());
  }
  auto attached =
      registry.attach_thing_principal(plan.name, context.certificate_arn, "NON_EXCLUSIVE_THING");
  if (!attached) return internal(attached.error());
  return {};
}

Outcome apply_certificate(const ApplyContext& context, const CertificatePlan& plan) {
  if (plan.has_csr) {
    return invalid(
        "CertificateSigningRequest is for bulk registration, which the local cloud does "
        "not offer; use CertificateId");
  }
  if (plan.certificate_id && *plan.certificate_id != context.certificate_id) {
    return invalid("CertificateId " + plan.certificate_id->substr(0, 64) +
                   " is not the certificate being provisioned");
  }
  auto certificate = context.registry.find_certificate(context.certificate_id);
  if (!certificate) return internal(certificate.error());
  if (!*certificate)
    return invalid("The certificate " + context.certificate_id + " does not exist");
  if (plan.certificate_pem) {
    // JITP's template names the device certificate by its PEM: it must be this one.
    auto normalize = [](std::string text) {
      std::erase_if(text, [](char c) { return c == '\r' || c == '\n' || c == ' '; });
      return text;
    };
    if (normalize(*plan.certificate_pem) != normalize((*certificate)->pem))
      return invalid("CertificatePem is not the certificate being provisioned");
  }
  const std::string& current = (*certificate)->status;
  // A certificate still pending (JITP's PENDING_ACTIVATION) is not yet an existing resource: its
  // status is always set. A settled one follows OverrideSettings.Status (REPLACE by default).
  bool settled = current == registry::kActive || current == registry::kInactive;
  if (settled && current != plan.status) {
    if (plan.status_override == Override::do_nothing) return {};
    if (plan.status_override == Override::fail)
      return conflict("The certificate " + context.certificate_id + " is " + current);
  }
  if (current == plan.status) return {};
  if (current == registry::kRevoked)
    return invalid("The certificate " + context.certificate_id + " is REVOKED");
  auto updated = context.registry.update_certificate_status(context.certificate_id, plan.status);
  if (!updated) return internal(updated.error());
  return {};
}

Outcome apply_policy(const ApplyContext& context, const PolicyPlan& plan) {
  auto& registry = context.registry;
  auto existing = registry.find_policy(plan.name);
  if (!existing) return internal(existing.error());
  if (!*existing) {
    if (!plan.document) return invalid("The policy " + plan.name + " does not exist");
    auto inserted =
        registry.insert_policy(plan.name, *plan.document, unix_now_seconds(), new_uuid());
    if (!inserted) return internal(inserted.error());
  }
  auto attached = registry.attach_policy(plan.name, context.certificate_arn);
  if (!attached) return internal(attached.error());
  return {};
}

}  // namespace

Result<void, ProvisioningError> apply_plan(const ApplyContext& context, const Plan& plan) {
  // The certificate first: its checks (the right certificate, not revoked) come before anything
  // is written for it.
  if (plan.certificate) {
    if (auto applied = apply_certificate(context, *plan.certificate); !applied) return applied;
  }
  for (const auto& policy : plan.policies) {
    if (auto applied = apply_policy(context, policy); !applied) return applied;
  }
  if (plan.thing) {
    if (auto applied = apply_thing(context, *plan.thing); !applied) return applied;
  }
  return {};
}

}  // namespace zt::cloud::provisioning
