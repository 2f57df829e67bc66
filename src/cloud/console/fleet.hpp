// The console's fleet view (issue 8): the contract's JSON shapes of the registry's fleet queries
// (Registry::list_cas_with_devices, list_devices, device_timeline, list_function_invocations;
// brief-console-contract.md, "Fleet API"). The queries and their paging live in cloud/registry.
#pragma once

#include <nlohmann/json.hpp>

#include <vector>

#include "cloud/registry/registry.hpp"

namespace zt::cloud::console {

using registry::CaSummary;
using registry::DevicePage;
using registry::DeviceQuery;
using registry::InvocationPage;
using registry::InvocationQuery;
using registry::kMaxPageSize;
using registry::Timeline;

// Times as ISO-8601 UTC.
nlohmann::json to_json(const std::vector<CaSummary>& cas);
nlohmann::json to_json(const DevicePage& page);
nlohmann::json to_json(const Timeline& timeline);
nlohmann::json to_json(const InvocationPage& page);

}  // namespace zt::cloud::console
