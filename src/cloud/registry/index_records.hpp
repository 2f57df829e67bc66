// Fleet indexing's records (registry_index.cpp): the configuration (cloud/index/configuration.hpp)
// and the query (cloud/index/query.hpp) the registry's search reads.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>

#include "cloud/index/configuration.hpp"
#include "cloud/index/query.hpp"

namespace zt::cloud::registry {

// Called with each indexed document that matches, in thing-name order; false stops the walk.
using IndexedThingVisitor = std::function<bool(nlohmann::json&& document)>;

}  // namespace zt::cloud::registry
