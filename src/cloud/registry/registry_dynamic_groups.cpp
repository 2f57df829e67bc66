// Dynamic thing groups' members from their fleet-indexing queries.
#include "cloud/registry/registry.hpp"

namespace zt::cloud::registry {

// Evaluated once the query engine (cloud/index) is merged; until then a dynamic group keeps the
// members it has.
Status Registry::refresh_dynamic_thing_group(std::string_view) { return ok(); }
Status Registry::refresh_dynamic_thing_groups_for_thing(std::string_view) { return ok(); }

}  // namespace zt::cloud::registry
