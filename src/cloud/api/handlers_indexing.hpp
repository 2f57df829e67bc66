// Shared by the fleet-indexing handlers (handlers_indexing.cpp,
// handlers_indexing_aggregations.cpp).
#pragma once

#include <string>

#include "cloud/api/handler_util.hpp"
#include "cloud/index/configuration.hpp"
#include "cloud/index/query.hpp"

namespace zt::cloud::api {

// A request's index and query: the index must exist (ResourceNotFoundException otherwise), the
// query must parse (InvalidQueryException with the parser's reason).
struct IndexQuery {
  std::string index_name;
  index::Query query;
  index::IndexingConfiguration configuration;
};
ApiResult<IndexQuery> index_query(ServiceContext& ctx, const nlohmann::json& body,
                                  bool things_only);

void add_indexing_aggregation_routes(Router& router);

}  // namespace zt::cloud::api
