// Topic names and filters (MQTT 3.1.1 §4.7) with AWS IoT's deviations (reference/aws-iot.md §6):
//  - `a/#` does not match `a` (AWS documents this departure from §4.7.1.2);
//  - `#` and `+` in the first level never match a topic starting with `$` (§4.7.2, and AWS: a `#`
//    subscriber does not receive `$aws/...`);
//  - a topic or filter is at most 256 bytes with at most 7 `/` (§6.3), not counting a
//    `$aws/rules/<rule>/` Basic Ingest prefix.
#pragma once

#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace zt::mqtt {

struct TopicRules {
  size_t max_bytes = 65535;
  size_t max_slashes = SIZE_MAX;
  bool parent_matches_multi_level = true;  // §4.7.1.2: `a/#` matches `a`
  bool strip_basic_ingest_prefix = false;  // limits exclude `$aws/rules/<rule>/`
};

// Plain MQTT 3.1.1, for a device talking to any broker.
inline constexpr TopicRules kSpecTopicRules{};
// AWS IoT Core, for our broker.
inline constexpr TopicRules kAwsTopicRules{.max_bytes = 256,
                                           .max_slashes = 7,
                                           .parent_matches_multi_level = false,
                                           .strip_basic_ingest_prefix = true};

// A topic name for PUBLISH: non-empty, UTF-8, no wildcards, within the rules' limits.
Status validate_topic_name(std::string_view topic, const TopicRules& rules = kAwsTopicRules);

// A topic filter for SUBSCRIBE/UNSUBSCRIBE: `#` only as the whole last level, `+` only as a whole
// level.
Status validate_topic_filter(std::string_view filter, const TopicRules& rules = kAwsTopicRules);

bool is_wildcard_filter(std::string_view filter);

// The `/`-separated levels of a topic or filter, empty levels included ("a//b" → a, "", b).
std::vector<std::string_view> split_topic_levels(std::string_view text);

// Whether `topic` (a valid name) matches `filter` (a valid filter).
bool topic_matches(std::string_view filter, std::string_view topic,
                   const TopicRules& rules = kAwsTopicRules);

}  // namespace zt::mqtt
