// Fleet indexing's aggregations (AWS IoT API reference: GetStatistics, GetCardinality,
// GetPercentiles, GetBucketsAggregation) over the things a query matches. The field must be a
// managed or custom field of the index ("Aggregation queries work with the managed fields and the
// provided customFields based on the data type"), else InvalidAggregationException.
#include "cloud/api/handlers_indexing.hpp"
#include "cloud/index/aggregation.hpp"
#include "cloud/index/document.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;

ApiError invalid_aggregation(std::string_view message) {
  return api_error(400, "InvalidAggregationException", message);
}

struct Aggregation {
  index::Aggregator aggregator;
  std::string field_type;  // "" when no field was named
};

// Runs the query and feeds the field's values (`required`: the request must name a field;
// `numeric`: the field must be a Number).
ApiResult<Aggregation> aggregate(ServiceContext& ctx, const json& body, bool required,
                                 bool numeric) {
  ZT_API_TRY_ASSIGN(IndexQuery target, index_query(ctx, body, true));
  ZT_API_TRY_ASSIGN(auto field, string_member(body, "aggregationField"));
  Aggregation out;
  if (!field && required) return invalid_request("aggregationField is required");
  if (field) {
    auto type = index::aggregation_field_type(target.configuration, *field);
    if (!type) {
      return invalid_aggregation("aggregationField " + *field +
                                 " is neither a managed nor a custom field of the index");
    }
    if (numeric && *type != "Number") {
      return invalid_aggregation("aggregationField " + *field + " is of type " + *type +
                                 ", not Number");
    }
    out.field_type = *type;
  }
  // Managed registry fields are aggregated under their query names.
  std::string path = field.value_or("");
  if (path.starts_with("registry.") && path != "registry.version") path = path.substr(9);
  ZT_API_TRY(ctx.registry.visit_indexed_things(target.query, [&](json&& document) {
    out.aggregator.add_thing();
    if (!path.empty()) {
      for (const json& value : index::field_values(document, path)) out.aggregator.add(value);
    }
    return true;
  }));
  return out;
}

ApiResult<Reply> get_statistics(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(Aggregation result, aggregate(ctx, body, false, false));
  json statistics = result.field_type.empty()
                        ? json{{"count", result.aggregator.things()}}
                        : result.aggregator.statistics(result.field_type == "Number");
  return json_reply(json{{"statistics", statistics}});
}

ApiResult<Reply> get_cardinality(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(Aggregation result, aggregate(ctx, body, false, false));
  int64_t cardinality =
      result.field_type.empty() ? result.aggregator.things() : result.aggregator.cardinality();
  return json_reply(json{{"cardinality", cardinality}});
}

ApiResult<Reply> get_percentiles(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  // API reference: the default percentiles are 1, 5, 25, 50, 75, 95, 99.
  std::vector<double> percents = {1, 5, 25, 50, 75, 95, 99};
  ZT_API_TRY_ASSIGN(const json* given, array_member(body, "percents"));
  if (given != nullptr) {
    if (given->size() > 100) return invalid_request("percents may hold at most 100 values");
    percents.clear();
    for (const json& percent : *given) {
      if (!percent.is_number() || percent.get<double>() < 0 || percent.get<double>() > 100) {
        return invalid_request("percents: Member must be a number between 0 and 100");
      }
      percents.push_back(percent.get<double>());
    }
  }
  ZT_API_TRY_ASSIGN(Aggregation result, aggregate(ctx, body, true, true));
  return json_reply(json{{"percentiles", result.aggregator.percentiles(percents)}});
}

ApiResult<Reply> get_buckets_aggregation(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(const json* type, object_member(body, "bucketsAggregationType"));
  if (type == nullptr) return invalid_request("bucketsAggregationType is required");
  ZT_API_TRY_ASSIGN(const json* terms, object_member(*type, "termsAggregation",
                                                     "bucketsAggregationType.termsAggregation"));
  int64_t max_buckets = 10;
  if (terms != nullptr) {
    ZT_API_TRY_ASSIGN(
        auto given, integer_member(*terms, "maxBuckets",
                                   "bucketsAggregationType.termsAggregation.maxBuckets", 1, 10000));
    max_buckets = given.value_or(max_buckets);
  }
  ZT_API_TRY_ASSIGN(Aggregation result, aggregate(ctx, body, true, false));
  return json_reply(
      json{{"totalCount", result.aggregator.things()},
           {"buckets", result.aggregator.buckets(static_cast<std::size_t>(max_buckets))}});
}

}  // namespace

void add_indexing_aggregation_routes(Router& r) {
  r.add("POST", "/indices/statistics", "GetStatistics", get_statistics);
  r.add("POST", "/indices/cardinality", "GetCardinality", get_cardinality);
  r.add("POST", "/indices/percentiles", "GetPercentiles", get_percentiles);
  r.add("POST", "/indices/buckets", "GetBucketsAggregation", get_buckets_aggregation);
}

}  // namespace zt::cloud::api
