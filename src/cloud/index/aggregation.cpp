#include "cloud/index/aggregation.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_set>

namespace zt::cloud::index {

using nlohmann::json;

void Aggregator::add(const json& value) {
  ++values_;
  if (value.is_number()) {
    numbers_.push_back(value.get<double>());
    texts_.push_back(value.dump());
  } else if (value.is_boolean()) {
    texts_.push_back(value.get<bool>() ? "true" : "false");
  } else if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    texts_.push_back(text);
    // A custom Number field over string attributes (attributes are strings in the registry).
    char* end = nullptr;
    double number = std::strtod(text.c_str(), &end);
    if (!text.empty() && end == text.c_str() + text.size() && std::isfinite(number)) {
      numbers_.push_back(number);
    }
  }
}

json Aggregator::statistics(bool numeric) const {
  if (!numeric) return {{"count", values_}};
  json out = {{"count", static_cast<int64_t>(numbers_.size())}};
  if (numbers_.empty()) return out;
  double sum = 0, squares = 0;
  for (double number : numbers_) {
    sum += number;
    squares += number * number;
  }
  double count = static_cast<double>(numbers_.size());
  double average = sum / count;
  double variance = std::max(0.0, squares / count - average * average);
  out["average"] = average;
  out["sum"] = sum;
  out["minimum"] = *std::min_element(numbers_.begin(), numbers_.end());
  out["maximum"] = *std::max_element(numbers_.begin(), numbers_.end());
  out["sumOfSquares"] = squares;
  out["variance"] = variance;
  out["stdDeviation"] = std::sqrt(variance);
  return out;
}

int64_t Aggregator::cardinality() const {
  std::unordered_set<std::string> distinct(texts_.begin(), texts_.end());
  return static_cast<int64_t>(distinct.size());
}

json Aggregator::percentiles(const std::vector<double>& percents) const {
  json out = json::array();
  if (numbers_.empty()) return out;
  std::vector<double> sorted = numbers_;
  std::sort(sorted.begin(), sorted.end());
  for (double percent : percents) {
    double rank = percent / 100.0 * static_cast<double>(sorted.size() - 1);
    auto below = static_cast<std::size_t>(std::floor(rank));
    std::size_t above = std::min(below + 1, sorted.size() - 1);
    double value =
        sorted[below] + (rank - static_cast<double>(below)) * (sorted[above] - sorted[below]);
    out.push_back({{"percent", percent}, {"value", value}});
  }
  return out;
}

json Aggregator::buckets(std::size_t max_buckets) const {
  std::map<std::string, int64_t> counts;
  for (const auto& text : texts_) ++counts[text];
  std::vector<std::pair<std::string, int64_t>> ordered(counts.begin(), counts.end());
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  json out = json::array();
  for (std::size_t i = 0; i < ordered.size() && i < max_buckets; ++i) {
    out.push_back({{"keyValue", ordered[i].first}, {"count", ordered[i].second}});
  }
  return out;
}

}  // namespace zt::cloud::index
