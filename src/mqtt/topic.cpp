#include "mqtt/topic.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "mqtt/packet.hpp"

namespace zt::mqtt {
namespace {

// §6.3 limits apply to the part after `$aws/rules/<rule>/` (Basic Ingest).
std::string_view limited_part(std::string_view text, const TopicRules& rules) {
  constexpr std::string_view kPrefix = "$aws/rules/";
  if (!rules.strip_basic_ingest_prefix || !text.starts_with(kPrefix)) return text;
  size_t rule_end = text.find('/', kPrefix.size());
  if (rule_end == std::string_view::npos) return text;
  return text.substr(rule_end + 1);
}

Status check_common(std::string_view text, std::string_view what, const TopicRules& rules) {
  // §4.7.3: topic names and filters are at least one character long.
  if (text.empty()) return make_error(Errc::invalid_argument, fmt::format("{} is empty", what));
  if (!is_valid_mqtt_utf8(text)) {
    return make_error(Errc::invalid_argument, fmt::format("{} is not well-formed UTF-8", what));
  }
  std::string_view limited = limited_part(text, rules);
  if (limited.size() > rules.max_bytes) {
    return make_error(Errc::invalid_argument,
                      fmt::format("{} '{}' is {} bytes; the limit is {}", what, text,
                                  limited.size(), rules.max_bytes));
  }
  auto slashes = static_cast<size_t>(std::count(limited.begin(), limited.end(), '/'));
  if (slashes > rules.max_slashes) {
    return make_error(Errc::invalid_argument, fmt::format("{} '{}' has {} '/'; the limit is {}",
                                                          what, text, slashes, rules.max_slashes));
  }
  return ok();
}

// Calls fn(level, is_last) for each `/`-separated level (empty levels included).
template <class Fn>
void for_each_level(std::string_view text, Fn&& fn) {
  size_t begin = 0;
  while (true) {
    size_t end = text.find('/', begin);
    if (end == std::string_view::npos) {
      fn(text.substr(begin), true);
      return;
    }
    fn(text.substr(begin, end - begin), false);
    begin = end + 1;
  }
}

}  // namespace

std::vector<std::string_view> split_topic_levels(std::string_view text) {
  std::vector<std::string_view> levels;
  // One allocation per topic (routing splits every PUBLISH's topic), not one per growth step.
  levels.reserve(static_cast<size_t>(std::count(text.begin(), text.end(), '/')) + 1);
  for_each_level(text, [&](std::string_view level, bool) { levels.push_back(level); });
  return levels;
}

Status validate_topic_name(std::string_view topic, const TopicRules& rules) {
  ZT_TRY(check_common(topic, "topic name", rules));
  // §4.7.1.1: wildcards MUST NOT be used within a topic name.
  if (topic.find_first_of("#+") != std::string_view::npos) {
    return make_error(Errc::invalid_argument,
                      fmt::format("topic name '{}' contains a wildcard", topic));
  }
  return ok();
}

Status validate_topic_filter(std::string_view filter, const TopicRules& rules) {
  ZT_TRY(check_common(filter, "topic filter", rules));
  std::string_view problem;
  for_each_level(filter, [&](std::string_view level, bool last) {
    if (!problem.empty()) return;
    bool has_hash = level.find('#') != std::string_view::npos;
    bool has_plus = level.find('+') != std::string_view::npos;
    // §4.7.1.2: `#` alone and last; §4.7.1.3: `+` occupies an entire level.
    if (has_hash && (level != "#" || !last)) problem = "'#' must be the whole last level";
    if (has_plus && level != "+") problem = "'+' must be a whole level";
  });
  if (!problem.empty()) {
    return make_error(Errc::invalid_argument,
                      fmt::format("topic filter '{}': {}", filter, problem));
  }
  return ok();
}

bool is_wildcard_filter(std::string_view filter) {
  return filter.find_first_of("#+") != std::string_view::npos;
}

bool topic_matches(std::string_view filter, std::string_view topic, const TopicRules& rules) {
  // §4.7.2: a filter starting with a wildcard does not match a topic starting with `$`.
  if (!topic.empty() && topic[0] == '$' && !filter.empty() &&
      (filter[0] == '#' || filter[0] == '+')) {
    return false;
  }
  size_t f = 0;
  size_t t = 0;
  while (true) {
    size_t f_end = filter.find('/', f);
    std::string_view f_level =
        filter.substr(f, f_end == std::string_view::npos ? std::string_view::npos : f_end - f);
    if (f_level == "#") return true;  // reached only when the topic still has a level here
    size_t t_end = topic.find('/', t);
    std::string_view t_level =
        topic.substr(t, t_end == std::string_view::npos ? std::string_view::npos : t_end - t);
    if (f_level != "+" && f_level != t_level) return false;
    bool filter_done = f_end == std::string_view::npos;
    bool topic_done = t_end == std::string_view::npos;
    if (filter_done || topic_done) {
      if (filter_done && topic_done) return true;
      // Topic exhausted with `/#` left in the filter: spec matches the parent, AWS does not.
      if (topic_done && rules.parent_matches_multi_level) return filter.substr(f_end + 1) == "#";
      return false;
    }
    f = f_end + 1;
    t = t_end + 1;
  }
}

}  // namespace zt::mqtt
