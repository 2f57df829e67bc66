#include "cloud/policy/policy.hpp"

#include <gtest/gtest.h>

namespace zt::cloud::policy {
namespace {

constexpr const char* kArn = "arn:aws:iot:us-east-1:123456789012:";

// The seed's ZTPolicy_<certificateId> (reference/kit.md), for thing/client "abc".
constexpr const char* kZeroTouchPolicy = R"({
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:us-east-1:123456789012:client/abc"},
    {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
     "Resource": ["arn:aws:iot:us-east-1:123456789012:topic/${iot:ClientId}/*",
                  "arn:aws:iot:us-east-1:123456789012:topic/$aws/things/${iot:ClientId}/shadow/*"]},
    {"Effect": "Allow", "Action": "iot:Subscribe",
     "Resource": ["arn:aws:iot:us-east-1:123456789012:topicfilter/${iot:ClientId}/#",
                  "arn:aws:iot:us-east-1:123456789012:topicfilter/$aws/things/${iot:ClientId}/shadow/*"]},
    {"Effect": "Allow", "Action": ["iot:UpdateThingShadow", "iot:GetThingShadow"],
     "Resource": "arn:aws:iot:us-east-1:123456789012:thing/${iot:ClientId}"}
  ]
})";

std::string arn(const std::string& rest) { return kArn + rest; }

TEST(Policy, ZeroTouchPolicyAllowsOnlyItsOwnThing) {
  auto policy = parse_policy(kZeroTouchPolicy, "ZTPolicy_x");
  ASSERT_TRUE(policy) << policy.error().message;
  std::vector<Policy> policies{*policy};
  RequestContext abc{.client_id = "abc"};
  RequestContext other{.client_id = "other"};
  EXPECT_EQ(evaluate(policies, "iot:Connect", arn("client/abc"), abc), Decision::allow);
  EXPECT_EQ(evaluate(policies, "iot:Connect", arn("client/other"), other), Decision::implicit_deny);
  EXPECT_EQ(evaluate(policies, "iot:Publish", arn("topic/$aws/things/abc/shadow/update"), abc),
            Decision::allow);
  EXPECT_EQ(evaluate(policies, "iot:Publish", arn("topic/$aws/things/xyz/shadow/update"), abc),
            Decision::implicit_deny);
  EXPECT_EQ(evaluate(policies, "iot:Subscribe",
                     arn("topicfilter/$aws/things/abc/shadow/update/delta"), abc),
            Decision::allow);
  // MQTT wildcards are literal in policies: the filter "abc/#" is allowed, "+/#" is not.
  EXPECT_EQ(evaluate(policies, "iot:Subscribe", arn("topicfilter/abc/#"), abc), Decision::allow);
  EXPECT_EQ(evaluate(policies, "iot:Subscribe", arn("topicfilter/+/#"), abc),
            Decision::implicit_deny);
  EXPECT_EQ(evaluate(policies, "iot:Receive", arn("topic/abc/data"), abc), Decision::allow);
  EXPECT_EQ(evaluate(policies, "iot:RetainPublish", arn("topic/abc/data"), abc),
            Decision::implicit_deny);
  EXPECT_EQ(evaluate(policies, "iot:GetThingShadow", arn("thing/abc"), abc), Decision::allow);
}

TEST(Policy, ExplicitDenyWinsAcrossPolicies) {
  auto allow_all = parse_policy(
      R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iot:*","Resource":"*"}})");
  auto deny = parse_policy(
      R"({"Statement":[{"Effect":"Deny","Action":"iot:Publish","Resource":"arn:aws:iot:*:*:topic/secret/*"}]})");
  ASSERT_TRUE(allow_all && deny);
  std::vector<Policy> policies{*allow_all, *deny};
  RequestContext context{.client_id = "c"};
  EXPECT_EQ(evaluate(policies, "iot:Publish", arn("topic/secret/x"), context),
            Decision::explicit_deny);
  EXPECT_EQ(evaluate(policies, "iot:Publish", arn("topic/public/x"), context), Decision::allow);
  EXPECT_EQ(evaluate(policies, "IOT:PUBLISH", arn("topic/public/x"), context),
            Decision::allow);  // actions ignore case
  EXPECT_EQ(evaluate({}, "iot:Publish", arn("topic/public/x"), context), Decision::implicit_deny);
}

TEST(Policy, ThingAndCertificateVariables) {
  auto policy = parse_policy(R"({"Statement":[
    {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}"},
    {"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:*:*:topic/cn/${iot:Certificate.Subject.CommonName}"},
    {"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:*:*:topic/attached/${iot:Connection.Thing.IsAttached}"},
    {"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:*:*:topic/lit/${*}"}]})");
  ASSERT_TRUE(policy) << policy.error().message;
  std::vector<Policy> policies{*policy};
  RequestContext attached{.client_id = "t1",
                          .thing_name = "t1",
                          .certificate = {{"Subject.CommonName", "Example Device"}}};
  RequestContext detached{.client_id = "t1"};
  EXPECT_EQ(evaluate(policies, "iot:Connect", arn("client/t1"), attached), Decision::allow);
  // Unresolvable variable: the statement does not match.
  EXPECT_EQ(evaluate(policies, "iot:Connect", arn("client/t1"), detached), Decision::implicit_deny);
  EXPECT_EQ(evaluate(policies, "iot:Publish", arn("topic/cn/Example Device"), attached),
            Decision::allow);
  EXPECT_EQ(evaluate(policies, "iot:Publish", arn("topic/attached/false"), detached),
            Decision::allow);
  EXPECT_EQ(evaluate(policies, "iot:Publish", arn("topic/attached/true"), detached),
            Decision::implicit_deny);
  // ${*} is a literal star, not a wildcard.
  EXPECT_EQ(evaluate(policies, "iot:Publish", arn("topic/lit/*"), detached), Decision::allow);
  EXPECT_EQ(evaluate(policies, "iot:Publish", arn("topic/lit/x"), detached),
            Decision::implicit_deny);
}

TEST(Policy, VariableValuesWithWildcardsAreNotSubstituted) {
  RequestContext plus{.client_id = "+"};
  EXPECT_FALSE(substitute("topicfilter/my/${iot:ClientId}/topic", plus));
  RequestContext star{.client_id = "a*"};
  EXPECT_FALSE(substitute("client/${iot:ClientId}", star));
  RequestContext long_id{.client_id = std::string(1025, 'a')};
  EXPECT_FALSE(substitute("client/${iot:ClientId}", long_id));
  RequestContext fine{.client_id = "dev-1"};
  EXPECT_EQ(*substitute("client/${iot:ClientId}", fine), "client/dev-1");
}

TEST(Policy, ConditionsAreConservative) {
  auto policy = parse_policy(R"({"Statement":[
    {"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"Bool":{"iot:Connection.Thing.IsAttached":"true"}}},
    {"Effect":"Deny","Action":"iot:Publish","Resource":"*","Condition":{"StringEquals":{"x":"y"}}},
    {"Effect":"Allow","Action":"iot:Publish","Resource":"*"}]})");
  ASSERT_TRUE(policy);
  RequestContext context{.client_id = "c"};
  EXPECT_EQ(evaluate({*policy}, "iot:Connect", arn("client/c"), context), Decision::implicit_deny);
  EXPECT_EQ(evaluate({*policy}, "iot:Publish", arn("topic/a"), context), Decision::explicit_deny);
}

TEST(Glob, StarQuestionAndEscapes) {
  EXPECT_TRUE(glob_match("a*", "a/b/c"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "ac"));
  EXPECT_TRUE(glob_match("*b*d", "abcd"));
  EXPECT_FALSE(glob_match("*b*d", "abce"));
  EXPECT_TRUE(glob_match("a\\*", "a*"));
  EXPECT_FALSE(glob_match("a\\*", "ab"));
  EXPECT_TRUE(glob_match("topic/a/#", "topic/a/#"));
  EXPECT_FALSE(glob_match("topic/a/#", "topic/a/b"));
}

struct BadPolicy {
  const char* document;
  const char* message_part;
};
class PolicyRejects : public testing::TestWithParam<BadPolicy> {};
TEST_P(PolicyRejects, NamingTheProblem) {
  auto policy = parse_policy(GetParam().document);
  ASSERT_FALSE(policy);
  EXPECT_NE(policy.error().message.find(GetParam().message_part), std::string::npos)
      << policy.error().message;
}
INSTANTIATE_TEST_SUITE_P(
    Errors, PolicyRejects,
    testing::Values(
        BadPolicy{"{", "not valid JSON"}, BadPolicy{"[]", "JSON object"},
        BadPolicy{R"({"Version":"2020-01-01","Statement":[]})", "Version"},
        BadPolicy{R"({"Version":"2012-10-17"})", "no Statement"},
        BadPolicy{R"({"Statement":[{"Effect":"Maybe","Action":"iot:*","Resource":"*"}]})",
                  "Effect"},
        BadPolicy{R"({"Statement":[{"Effect":"Allow","Resource":"*"}]})", "no Action"},
        BadPolicy{R"({"Statement":[{"Effect":"Allow","Action":"iot:*"}]})", "no Resource"},
        BadPolicy{R"({"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]})",
                  "not an iot: action"},
        BadPolicy{R"({"Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]})",
                  "Statement[0].Action"},
        BadPolicy{
            R"({"Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*","Principal":"x"}]})",
            "Principal"}));

TEST(Policy, DocumentSizeLimitExcludesWhitespace) {
  std::string resources;
  for (int i = 0; i < 120; ++i)
    resources += std::string(i ? "," : "") + "\"arn:aws:iot:*:*:topic/t" + std::to_string(i) + "\"";
  std::string document =
      R"({"Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":[)" + resources + "]}]}";
  auto policy = parse_policy(document);
  ASSERT_FALSE(policy);
  EXPECT_NE(policy.error().message.find("2048"), std::string::npos);
  std::string padded = std::string(5000, ' ') +
                       R"({"Statement":{"Effect":"Allow","Action":"iot:*","Resource":"*"}})";
  EXPECT_TRUE(parse_policy(padded));
}

}  // namespace
}  // namespace zt::cloud::policy
