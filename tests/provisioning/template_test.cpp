// The provisioning template language: what parse_template refuses at creation (each with its
// reason) and what evaluate() makes of one device's parameters.
#include <gtest/gtest.h>

#include <string>

#include "cloud/provisioning/plan.hpp"
#include "cloud/provisioning/template.hpp"

namespace zt::cloud::provisioning {
namespace {

using nlohmann::json;

// The developer guide's fleet provisioning example, with Conditions added.
const char* kFleetTemplate = R"({
  "Parameters": {
    "SerialNumber": {"Type": "String"},
    "DeviceLocation": {"Type": "String", "Default": "Seattle"},
    "AWS::IoT::Certificate::Id": {"Type": "String"},
    "Tags": {"Type": "CommaDelimitedList", "Default": "a,b,c"}
  },
  "Mappings": {"LocationTable": {"Seattle": {"LocationUrl": "https://example.aws"},
                                    "Paris": {"LocationUrl": "https://example.fr"}}},
  "Conditions": {
    "InSeattle": {"Fn::Equals": [{"Ref": "DeviceLocation"}, "Seattle"]},
    "NotSeattle": {"Fn::Not": [{"Condition": "InSeattle"}]},
    "Both": {"Fn::And": [{"Condition": "InSeattle"}, {"Fn::Or": [{"Condition": "NotSeattle"}, {"Fn::Equals": ["x", "x"]}]}]}
  },
  "Resources": {
    "thing": {
      "Type": "AWS::IoT::Thing",
      "Properties": {
        "ThingName": {"Fn::Join": ["", ["ThingPrefix_", {"Ref": "SerialNumber"}]]},
        "AttributePayload": {"version": "v1", "serialNumber": {"Ref": "SerialNumber"},
                             "second": {"Fn::Select": [1, {"Ref": "Tags"}]},
                             "site": {"Fn::If": ["InSeattle", "west", {"Ref": "AWS::NoValue"}]}},
        "ThingGroups": ["v1-lightbulbs", {"Ref": "DeviceLocation"}]
      },
      "OverrideSettings": {"AttributePayload": "MERGE", "ThingTypeName": "REPLACE", "ThingGroups": "DO_NOTHING"}
    },
    "certificate": {
      "Type": "AWS::IoT::Certificate",
      "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "Active"}
    },
    "policy": {
      "Type": "AWS::IoT::Policy",
      "Properties": {"PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["iot:Publish"], "Resource": ["*"]}]}}
    }
  },
  "DeviceConfiguration": {
    "FallbackUrl": "https://www.example.com/test-site",
    "LocationUrl": {"Fn::FindInMap": ["LocationTable", {"Ref": "DeviceLocation"}, "LocationUrl"]},
    "Greeting": {"Fn::Sub": "hello ${SerialNumber} ${!Literal}"},
    "Encoded": {"Fn::Base64Encode": {"Ref": "SerialNumber"}},
    "Part": {"Fn::Select": ["2", {"Fn::Split": ["-", "a-b-c-d"]}]},
    "Both": {"Fn::If": ["Both", "yes", "no"]},
    "Vars": {"Fn::Sub": ["${X}/${SerialNumber}", {"X": {"Ref": "DeviceLocation"}}]}
  }
})";

Plan evaluate_ok(const std::string& body, const json& parameters) {
  auto parsed = parse_template(body);
  if (!parsed) ADD_FAILURE() << parsed.error().message;
  if (!parsed) return {};
  auto plan = evaluate(*parsed, parameters);
  if (!plan) ADD_FAILURE() << plan.error().message;
  if (!plan) return {};
  return std::move(*plan);
}

std::string refusal(const std::string& body) {
  auto parsed = parse_template(body);
  if (parsed) return "";
  EXPECT_EQ(parsed.error().code, Errc::invalid_argument);
  return parsed.error().message;
}

TEST(ProvisioningTemplate, EvaluatesEveryIntrinsic) {
  Plan plan =
      evaluate_ok(kFleetTemplate, {{"SerialNumber", "123"}, {"AWS::IoT::Certificate::Id", "abc"}});
  ASSERT_TRUE(plan.thing);
  EXPECT_EQ(plan.thing->name, "ThingPrefix_123");
  std::map<std::string, std::string> attributes = {
      {"version", "v1"}, {"serialNumber", "123"}, {"second", "b"}, {"site", "west"}};
  EXPECT_EQ(plan.thing->attributes, attributes);
  EXPECT_EQ(plan.thing->groups, (std::vector<std::string>{"v1-lightbulbs", "Seattle"}));
  EXPECT_EQ(plan.thing->attributes_override, Override::merge);
  EXPECT_EQ(plan.thing->type_override, Override::replace);
  ASSERT_TRUE(plan.certificate);
  EXPECT_EQ(plan.certificate->certificate_id, "abc");
  EXPECT_EQ(plan.certificate->status, "ACTIVE");
  ASSERT_EQ(plan.policies.size(), 1u);
  ASSERT_TRUE(plan.policies[0].document);
  EXPECT_EQ(plan.policies[0].name, policy_name_for_document(*plan.policies[0].document));
  EXPECT_EQ(plan.policies[0].name.size(), 64u);
  const json& config = plan.device_configuration;
  EXPECT_EQ(config["LocationUrl"], "https://example.aws");
  EXPECT_EQ(config["Greeting"], "hello 123 ${Literal}");
  EXPECT_EQ(config["Encoded"], "MTIz");
  EXPECT_EQ(config["Part"], "c");
  EXPECT_EQ(config["Both"], "yes");
  EXPECT_EQ(config["Vars"], "Seattle/123");
}

TEST(ProvisioningTemplate, ConditionsFollowTheParameters) {
  Plan plan = evaluate_ok(
      kFleetTemplate,
      {{"SerialNumber", "9"}, {"DeviceLocation", "Paris"}, {"AWS::IoT::Certificate::Id", "abc"}});
  ASSERT_TRUE(plan.thing);
  EXPECT_EQ(plan.thing->attributes->count("site"), 0u);  // AWS::NoValue drops the member
  EXPECT_EQ(plan.device_configuration["Both"], "no");
  EXPECT_EQ(plan.device_configuration["LocationUrl"], "https://example.fr");
}

TEST(ProvisioningTemplate, MissingParameterOrMapKeyFailsTheEvaluation) {
  auto parsed = parse_template(kFleetTemplate);
  ASSERT_TRUE(parsed);
  auto missing = evaluate(*parsed, {{"AWS::IoT::Certificate::Id", "abc"}});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("SerialNumber"), std::string::npos);
  auto wrong_type = evaluate(*parsed, {{"SerialNumber", 5}, {"AWS::IoT::Certificate::Id", "a"}});
  ASSERT_FALSE(wrong_type);
  auto no_map = evaluate(
      *parsed,
      {{"SerialNumber", "1"}, {"DeviceLocation", "Mars"}, {"AWS::IoT::Certificate::Id", "a"}});
  ASSERT_FALSE(no_map);
  EXPECT_NE(no_map.error().message.find("Fn::FindInMap"), std::string::npos);
}

TEST(ProvisioningTemplate, RefusesWhatAwsRefusesAtCreation) {
  const std::string thing =
      R"("thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": "t"}})";
  EXPECT_NE(refusal("not json"), "");
  EXPECT_NE(refusal("[]"), "");
  EXPECT_NE(refusal(R"({"Parameters": {}})").find("no Resources"), std::string::npos);
  EXPECT_NE(refusal(R"({"Resources": {}, "Outputs": {}})").find("section Outputs"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"Resources": {"x": {"Type": "AWS::S3::Bucket", "Properties": {}}}})")
                .find("unsupported Type"),
            std::string::npos);
  EXPECT_NE(
      refusal(
          R"({"Resources": {"p": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "a", "PolicyDocument": "{}"}}}})")
          .find("not both"),
      std::string::npos);
  EXPECT_NE(refusal(R"({"Resources": {"p": {"Type": "AWS::IoT::Policy", "Properties": {}}}})"), "");
  EXPECT_NE(
      refusal(
          R"({"Resources": {"p": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "a"}, "OverrideSettings": {}}}})")
          .find("not available for policy"),
      std::string::npos);
  EXPECT_NE(
      refusal(
          R"({"Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": "t"}, "OverrideSettings": {"ThingTypeName": "MERGE"}}}})")
          .find("MERGE"),
      std::string::npos);
  EXPECT_NE(
      refusal(
          R"({"Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": "t"}, "OverrideSettings": {"ThingGroups": "SOMETIMES"}}}})"),
      "");
  EXPECT_NE(
      refusal(R"({"Resources": {)" + thing +
              R"(, "thing2": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": "u"}}}})")
          .find("at most one thing"),
      std::string::npos);
  EXPECT_NE(
      refusal(
          R"({"Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "Nope"}}}}})")
          .find("undeclared parameter Nope"),
      std::string::npos);
  EXPECT_NE(
      refusal(
          R"({"Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Fn::GetAtt": ["a", "b"]}}}}})")
          .find("unsupported function Fn::GetAtt"),
      std::string::npos);
  EXPECT_NE(
      refusal(
          R"({"Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Fn::If": ["Nope", "a", "b"]}}}}})")
          .find("Conditions does not declare"),
      std::string::npos);
  EXPECT_NE(
      refusal(
          R"({"Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Fn::Equals": ["a", "b"]}}}}})")
          .find("Conditions section"),
      std::string::npos);
  EXPECT_NE(refusal(R"({"Mappings": {"m": {"k": {"v": {"Ref": "x"}}}}, "Resources": {}})"), "");
  EXPECT_NE(
      refusal(
          R"({"Conditions": {"a": {"Condition": "b"}, "b": {"Fn::Not": [{"Condition": "a"}]}}, "Resources": {}})")
          .find("refers to itself"),
      std::string::npos);
  EXPECT_NE(refusal(R"({"Parameters": {"p": {"Type": "AWS::EC2::VPC::Id"}}, "Resources": {}})"),
            "");
  EXPECT_NE(
      refusal(R"({"Resources": {}, "DeviceConfiguration": {"a": {"b": "c"}}})").find("nested"),
      std::string::npos);
  EXPECT_NE(
      refusal(
          R"({"Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Fn::Split": ["", "abc"]}}}}})"),
      "");
}

TEST(ProvisioningTemplate, HostileTemplatesAreBounded) {
  EXPECT_NE(refusal(std::string(kMaxTemplateBody + 1, ' ')).find("longer than"), std::string::npos);
  std::string deep = R"({"Resources": {}, "DeviceConfiguration": {"a": )";
  for (int i = 0; i < 30; ++i) deep += R"({"Fn::Base64Encode": )";
  deep += "\"x\"" + std::string(30, '}') + "}}";
  EXPECT_NE(refusal(deep).find("deeper"), std::string::npos);
  // A split of a long parameter into more values than a list may hold.
  auto parsed = parse_template(R"({"Parameters": {"p": {"Type": "String"}}, "Resources": {},
      "DeviceConfiguration": {"n": {"Fn::Select": [0, {"Fn::Split": [",", {"Ref": "p"}]}]}}})");
  ASSERT_TRUE(parsed) << parsed.error().message;
  auto split = evaluate(*parsed, {{"p", std::string(5000, ',')}});
  ASSERT_FALSE(split);
  EXPECT_NE(split.error().message.find("more than"), std::string::npos);
  // A join past the string limit.
  auto joined = parse_template(R"({"Parameters": {"p": {"Type": "String"}}, "Resources": {},
      "DeviceConfiguration": {"n": {"Fn::Join": [{"Ref": "p"}, ["a", "b"]]}}})");
  EXPECT_FALSE(joined);  // the delimiter must be a literal string
  auto sub = parse_template(R"({"Parameters": {"p": {"Type": "String"}}, "Resources": {},
      "DeviceConfiguration": {"n": {"Fn::Base64Encode": {"Fn::Sub": "${p}${p}${p}${p}"}}}})");
  ASSERT_TRUE(sub);
  EvaluationLimits small{.max_string = 100, .max_list = 10, .max_steps = 100};
  auto long_sub = evaluate(*sub, {{"p", std::string(60, 'x')}}, small);
  ASSERT_FALSE(long_sub);
  EXPECT_NE(long_sub.error().message.find("longer than"), std::string::npos);
}

}  // namespace
}  // namespace zt::cloud::provisioning
