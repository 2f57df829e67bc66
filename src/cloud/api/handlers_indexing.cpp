// Fleet indexing (AWS IoT API reference: GetIndexingConfiguration, UpdateIndexingConfiguration,
// SearchIndex, DescribeIndex, ListIndices; the aggregations are in
// handlers_indexing_aggregations.cpp). The query language and configuration rules are
// cloud/index's; the scan is the registry's.
#include "cloud/api/handlers_indexing.hpp"

#include "cloud/index/configuration.hpp"

namespace zt::cloud::api {

using nlohmann::json;

ApiResult<index::IndexingConfiguration> indexing_configuration(ServiceContext& ctx) {
  ZT_API_TRY_ASSIGN(auto configuration, ctx.registry.indexing_configuration());
  return configuration;
}

// An index that exists: AWS_Things while thing indexing is on, AWS_ThingGroups while thing-group
// indexing is on; any other name, or an index turned OFF, is ResourceNotFoundException.
ApiResult<index::IndexingConfiguration> require_index(ServiceContext& ctx,
                                                      const std::string& name) {
  ZT_API_TRY_ASSIGN(auto configuration, indexing_configuration(ctx));
  bool exists = (name == index::kThingsIndex && configuration.things_indexed()) ||
                (name == index::kThingGroupsIndex && configuration.thing_groups_indexed());
  if (!exists) return not_found("Index " + name + " does not exist");
  return configuration;
}

ApiResult<IndexQuery> index_query(ServiceContext& ctx, const json& body, bool things_only) {
  ZT_API_TRY_ASSIGN(auto index_name, string_member(body, "indexName"));
  ZT_API_TRY_ASSIGN(auto query_string, string_member(body, "queryString"));
  ZT_API_TRY_ASSIGN(auto version, string_member(body, "queryVersion"));
  (void)version;  // "2017-09-30" is the only version; any is accepted as AWS does
  std::string name = index_name.value_or(index::kThingsIndex);
  if (!query_string || query_string->empty()) {
    return invalid_request("queryString: Member must have length greater than or equal to 1");
  }
  ZT_API_TRY_ASSIGN(auto configuration, require_index(ctx, name));
  if (things_only && name != index::kThingsIndex) {
    return invalid_request("Aggregations are supported on the " + std::string(index::kThingsIndex) +
                           " index only");
  }
  auto query = index::parse_query(*query_string);
  if (!query) return api_error(400, "InvalidQueryException", query.error().message);
  return IndexQuery{.index_name = name, .query = std::move(*query), .configuration = configuration};
}

namespace {

// The document as SearchIndex answers it (registryVersion is the query's, not AWS's shape).
json answered(json document) {
  document.erase("registryVersion");
  return document;
}

// API reference, SearchIndex: "This maximum number cannot exceed 100" per page; maxResults is
// 1..500 on the wire (larger values are answered with pages of 100).
constexpr int kMaxSearchPage = 100;

ApiResult<Reply> get_indexing_configuration(ServiceContext& ctx, const ApiRequest&) {
  ZT_API_TRY_ASSIGN(auto configuration, indexing_configuration(ctx));
  return json_reply(index::to_response(configuration));
}

ApiResult<Reply> update_indexing_configuration(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(auto current, indexing_configuration(ctx));
  ZT_API_TRY_ASSIGN(auto next, index::apply_update(current, body));
  ZT_API_TRY(ctx.registry.set_indexing_configuration(next));
  return no_content();
}

ApiResult<Reply> search_index(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(IndexQuery target, index_query(ctx, body, false));
  ZT_API_TRY_ASSIGN(auto max_results, integer_member(body, "maxResults", "maxResults", 1, 500));
  ZT_API_TRY_ASSIGN(auto token, string_member(body, "nextToken"));
  registry::PageRequest page{.after = "",
                             .limit = static_cast<int>(std::min<int64_t>(
                                 max_results.value_or(kMaxSearchPage), kMaxSearchPage))};
  if (token && !token->empty()) {
    auto decoded = base64_decode(*token);
    if (!decoded || token->size() > 1024) {
      return invalid_request("nextToken is not a token this service issued");
    }
    page.after.assign(decoded->begin(), decoded->end());
  }
  if (target.index_name == index::kThingGroupsIndex) {
    // The thing-group index holds the groups' managed fields; groups are searched by
    // handlers_thing_groups' data when it exists (docs/fleet-indexing.md).
    return json_reply(json{{"thingGroups", json::array()}});
  }
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.search_things(target.query, page));
  json things = json::array();
  for (auto& document : found.items) things.push_back(answered(std::move(document)));
  json out = {{"things", std::move(things)}};
  if (!found.next_key.empty()) out["nextToken"] = page_token(found.next_key);
  return json_reply(out);
}

ApiResult<Reply> describe_index(ServiceContext& ctx, const ApiRequest& request) {
  const std::string& name = request.path.at("indexName");
  ZT_API_TRY_ASSIGN(auto configuration, require_index(ctx, name));
  // Our index is the registry itself: it is ACTIVE at once, never BUILDING or REBUILDING.
  std::string schema =
      name == index::kThingsIndex ? index::things_schema(configuration) : "REGISTRY";
  return json_reply(json{{"indexName", name}, {"indexStatus", "ACTIVE"}, {"schema", schema}});
}

ApiResult<Reply> list_indices(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "nextToken", "maxResults", 500));
  ZT_API_TRY_ASSIGN(auto configuration, indexing_configuration(ctx));
  std::vector<std::string> names;
  if (configuration.things_indexed()) names.push_back(index::kThingsIndex);
  if (configuration.thing_groups_indexed()) names.push_back(index::kThingGroupsIndex);
  json out = {{"indexNames", json::array()}};
  std::string last;
  for (const auto& name : names) {
    if (!page.after.empty() && name <= page.after) continue;
    if (out["indexNames"].size() == static_cast<std::size_t>(page.limit)) {
      out["nextToken"] = page_token(last);
      break;
    }
    out["indexNames"].push_back(name);
    last = name;
  }
  return json_reply(out);
}

}  // namespace

void add_indexing_routes(Router& r) {
  r.add("GET", "/indexing/config", "GetIndexingConfiguration", get_indexing_configuration);
  r.add("POST", "/indexing/config", "UpdateIndexingConfiguration", update_indexing_configuration);
  r.add("POST", "/indices/search", "SearchIndex", search_index);
  r.add("GET", "/indices", "ListIndices", list_indices);
  r.add("GET", "/indices/{indexName}", "DescribeIndex", describe_index);
  add_indexing_aggregation_routes(r);
}

}  // namespace zt::cloud::api
