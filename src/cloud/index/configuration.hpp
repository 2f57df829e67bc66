// Fleet indexing's configuration (UpdateIndexingConfiguration / GetIndexingConfiguration, AWS IoT
// API reference; developer guide "Managing thing indexing", "Managed fields", "Custom fields"):
// what the AWS_Things and AWS_ThingGroups indexes hold, checked as AWS checks it, and the managed
// fields AWS lists for each mode.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace zt::cloud::index {

inline constexpr const char* kThingsIndex = "AWS_Things";
inline constexpr const char* kThingGroupsIndex = "AWS_ThingGroups";
// AWS IoT Device Management quotas: 10 named shadows per account by default. Custom fields: ours.
inline constexpr std::size_t kMaxNamedShadowNames = 10;
inline constexpr std::size_t kMaxCustomFields = 50;

struct Field {
  std::string name;
  std::string type;  // String | Number | Boolean
};

struct IndexingConfiguration {
  std::string thing_indexing_mode = "OFF";                 // OFF | REGISTRY | REGISTRY_AND_SHADOW
  std::string thing_connectivity_indexing_mode = "OFF";    // OFF | STATUS
  std::string device_defender_indexing_mode = "OFF";       // OFF | VIOLATIONS (accepted, no data)
  std::string named_shadow_indexing_mode = "OFF";          // OFF | ON
  std::vector<std::string> named_shadow_names;             // filter.namedShadowNames
  nlohmann::json geo_locations = nlohmann::json::array();  // filter.geoLocations, kept as given
  std::vector<Field> custom_fields;
  std::string thing_group_indexing_mode = "OFF";  // OFF | ON
  std::vector<Field> thing_group_custom_fields;

  bool things_indexed() const { return thing_indexing_mode != "OFF"; }
  bool shadow_indexed() const { return thing_indexing_mode == "REGISTRY_AND_SHADOW"; }
  bool connectivity_indexed() const {
    return things_indexed() && thing_connectivity_indexing_mode == "STATUS";
  }
  bool named_shadows_indexed() const {
    return things_indexed() && named_shadow_indexing_mode == "ON";
  }
  bool thing_groups_indexed() const { return thing_group_indexing_mode == "ON"; }
};

// UpdateIndexingConfiguration: `body` replaces the thing and/or thing-group part it names (AWS:
// "Updating the custom fields in indexing configuration overwrites all existing custom fields").
// Errc::invalid_argument with AWS's reason for a configuration AWS refuses.
Result<IndexingConfiguration> apply_update(const IndexingConfiguration& current,
                                           const nlohmann::json& body);

// GetIndexingConfiguration's answer, managedFields as AWS lists them for the modes.
nlohmann::json to_response(const IndexingConfiguration& configuration);

// The stored form (a registry setting) and back; a missing or unreadable one is all OFF.
std::string to_storage(const IndexingConfiguration& configuration);
IndexingConfiguration from_storage(std::string_view text);

// DescribeIndex's schema for AWS_Things (REGISTRY, REGISTRY_AND_SHADOW,
// REGISTRY_AND_CONNECTIVITY_STATUS, REGISTRY_AND_SHADOW_AND_CONNECTIVITY_STATUS).
std::string things_schema(const IndexingConfiguration& configuration);

// The type of a field aggregations may use (a managed or custom field of the things index), or
// nullopt. Named shadows' managed fields match any configured shadow name.
std::optional<std::string> aggregation_field_type(const IndexingConfiguration& configuration,
                                                  std::string_view field);

}  // namespace zt::cloud::index
