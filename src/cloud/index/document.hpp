// The pieces of an indexed thing document (query.hpp's shape, SearchIndex's ThingDocument) that
// need more than a copy: the shadow section built from cloud/shadow's stored form, as AWS indexes
// it ("reported, desired, delta, and metadata sections", hasDelta, version), and the values a
// field holds for the aggregations.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zt::cloud::index {

// One shadow's section from its stored document (cloud/shadow's to_storage); nullopt when the
// shadow does not exist (deleted, or unreadable).
std::optional<nlohmann::json> shadow_section(std::string_view stored);

// The "shadow" text of the document: the classic shadow's section with the indexed named shadows
// under "name": {"<shadow>": section}; nullopt when there is none of either.
std::optional<std::string> shadow_text(
    const std::optional<nlohmann::json>& classic,
    const std::vector<std::pair<std::string, nlohmann::json>>& named);

// Every scalar value `field` holds in `thing` (an array's elements one by one), as `matches`
// resolves fields: what GetStatistics, GetCardinality and GetPercentiles aggregate.
std::vector<nlohmann::json> field_values(const nlohmann::json& thing, std::string_view field);

}  // namespace zt::cloud::index
