// Topic validation and matching, with AWS IoT's documented deviations (reference/aws-iot.md §6.2,
// §6.3).
#include <gtest/gtest.h>

#include <string>

#include "mqtt/topic.hpp"

namespace zt::mqtt {
namespace {

struct MatchCase {
  const char* filter;
  const char* topic;
  bool aws;
  bool spec;
};

TEST(TopicMatch, Table) {
  const MatchCase cases[] = {
      {"a/b", "a/b", true, true},
      {"a/b", "a/c", false, false},
      {"a/+", "a/b", true, true},
      {"a/+", "a/b/c", false, false},
      {"a/+", "a/", true, true},  // `+` matches an empty level
      {"+/+", "/finance", true, true},
      {"+", "/finance", false, false},
      {"a/#", "a/b/c", true, true},
      {"a/#", "a/", true, true},
      {"a/#", "a", false, true},  // AWS: "sensor/#" does not match "sensor"
      {"#", "a/b", true, true},
      {"#", "/", true, true},
      {"a/+/c", "a/b/c", true, true},
      {"a/+/#", "a/b", false, true},
      {"+/b", "a/b", true, true},
      {"#", "$aws/things/t/shadow/update", false, false},  // §4.7.2
      {"+/things/#", "$aws/things/t", false, false},
      {"$aws/things/+/shadow/#", "$aws/things/t/shadow/update", true, true},
      {"$aws/#", "$aws/events/presence/connected/c", true, true},
      {"$SYS/#", "$SYS/x", true, true},
      {"a/b", "a/b/", false, false},
      {"A/b", "a/b", false, false},  // case-sensitive
  };
  for (const auto& c : cases) {
    EXPECT_EQ(topic_matches(c.filter, c.topic, kAwsTopicRules), c.aws)
        << c.filter << " ~ " << c.topic;
    EXPECT_EQ(topic_matches(c.filter, c.topic, kSpecTopicRules), c.spec)
        << c.filter << " ~ " << c.topic;
  }
}

TEST(TopicValidation, NamesAndFilters) {
  EXPECT_TRUE(validate_topic_name("a/b"));
  EXPECT_TRUE(validate_topic_name("/"));
  EXPECT_FALSE(validate_topic_name(""));
  EXPECT_FALSE(validate_topic_name("a/+"));
  EXPECT_FALSE(validate_topic_name("a/#"));
  EXPECT_TRUE(validate_topic_filter("#"));
  EXPECT_TRUE(validate_topic_filter("+/a/+/#"));
  EXPECT_FALSE(validate_topic_filter("a/#/b"));
  EXPECT_FALSE(validate_topic_filter("a#"));
  EXPECT_FALSE(validate_topic_filter("a/b+"));
  EXPECT_FALSE(validate_topic_filter(""));
}

TEST(TopicValidation, AwsLimits) {
  // §6.3: at most 7 '/' and 256 bytes.
  EXPECT_TRUE(validate_topic_name("1/2/3/4/5/6/7/8"));
  auto too_deep = validate_topic_name("1/2/3/4/5/6/7/8/9");
  ASSERT_FALSE(too_deep);
  EXPECT_NE(too_deep.error().message.find("limit is 7"), std::string::npos);
  EXPECT_TRUE(validate_topic_name("1/2/3/4/5/6/7/8/9", kSpecTopicRules));
  EXPECT_TRUE(validate_topic_name(std::string(256, 'a')));
  EXPECT_FALSE(validate_topic_name(std::string(257, 'a')));
  EXPECT_FALSE(validate_topic_filter(std::string(257, 'a')));
  // The Basic Ingest prefix does not count toward the limits.
  EXPECT_TRUE(validate_topic_name("$aws/rules/myRule/1/2/3/4/5/6/7/8"));
  EXPECT_FALSE(validate_topic_name("$aws/rules/myRule/1/2/3/4/5/6/7/8/9"));
  EXPECT_FALSE(validate_topic_name("a\xc3"));
}

}  // namespace
}  // namespace zt::mqtt
