// The aggregations of fleet indexing (GetStatistics, GetCardinality, GetPercentiles,
// GetBucketsAggregation; AWS IoT API reference) over the values the matching things hold.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace zt::cloud::index {

// Feeds the values of one field, thing by thing.
class Aggregator {
 public:
  void add(const nlohmann::json& value);
  void add_thing() { ++things_; }

  // GetStatistics' "statistics": count only for a String or Boolean field ("If the aggregation
  // field is of type String, only the count statistic is returned"); average, sum, minimum,
  // maximum, sumOfSquares, variance and stdDeviation (population) for a Number field.
  nlohmann::json statistics(bool numeric) const;
  // GetCardinality: the number of distinct values (exact here; AWS's is approximate).
  int64_t cardinality() const;
  // GetPercentiles: each of `percents` (0..100) by linear interpolation between closest ranks.
  nlohmann::json percentiles(const std::vector<double>& percents) const;
  // GetBucketsAggregation (termsAggregation): the `max_buckets` most frequent values.
  nlohmann::json buckets(std::size_t max_buckets) const;
  int64_t things() const { return things_; }

 private:
  std::vector<double> numbers_;
  std::vector<std::string> texts_;  // every value as text (cardinality, buckets)
  int64_t values_ = 0;
  int64_t things_ = 0;
};

}  // namespace zt::cloud::index
