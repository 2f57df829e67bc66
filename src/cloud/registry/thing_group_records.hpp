// The records of thing groups and billing groups (registry_thing_groups.cpp,
// registry_billing_groups.cpp). A thing group is static (things added by name) or dynamic (its
// members are the things its fleet-indexing query matches, kept current by cloud/service); both
// keep their members in one table, so "the groups of a thing" reads one place. Static groups form
// a hierarchy (parent, at most kMaxThingGroupDepth levels); a dynamic group has no parent and no
// children, as AWS documents ("Dynamic thing groups can't be part of a hierarchy").
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace zt::cloud::registry {

// AWS IoT quotas (developer guide, "AWS IoT Core endpoints and quotas", thing groups): a thing
// belongs to at most 10 thing groups; a hierarchy is at most 7 levels deep; a thing belongs to at
// most one billing group.
inline constexpr int kMaxThingGroupsPerThing = 10;
inline constexpr int kMaxThingGroupDepth = 7;

struct ThingGroup {
  std::string name{};
  std::string id{};
  std::optional<std::string> parent_name{};  // static groups only
  std::string description{};                 // thingGroupProperties.thingGroupDescription
  std::string attributes = "{}";             // attributePayload.attributes: string → string
  int64_t version = 1;
  double creation_date = 0;
  // Dynamic groups (CreateDynamicThingGroup): the SearchIndex query and AWS's fields for it.
  bool dynamic = false;
  std::string query_string{};
  std::string query_version = "2017-09-30";
  std::string index_name = "AWS_Things";
  std::string status = "ACTIVE";  // dynamic: ACTIVE | BUILDING | REBUILDING
};

// ListThingGroups' filters. `parent_name` set: the children of that group (all descendants when
// `recursive`); unset: every group (only the roots when `roots_only`).
struct ThingGroupFilter {
  std::optional<std::string> parent_name{};
  std::string name_prefix{};
  bool recursive = true;
  bool roots_only = false;
  std::optional<bool> dynamic{};  // only dynamic / only static groups; unset = both
};

struct BillingGroup {
  std::string name{};
  std::string id{};
  std::string description{};  // billingGroupProperties.billingGroupDescription
  int64_t version = 1;
  double creation_date = 0;
};

// A thing ↔ principal attachment with its type (ListThingPrincipalsV2 / ListPrincipalThingsV2):
// EXCLUSIVE_THING or NON_EXCLUSIVE_THING.
struct ThingPrincipal {
  std::string thing_name{};
  std::string principal{};
  std::string type{};
};

}  // namespace zt::cloud::registry
