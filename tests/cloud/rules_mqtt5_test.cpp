// The rules runtime with MQTT 5 messages (issue 18): a republish keeps the triggering message's
// user properties and adds its headers; a republish whose headers cannot be expanded for a message
// is not sent (the other actions and rules still run).
#include <gtest/gtest.h>

#include "cloud/service/rules_runtime.hpp"
#include "registry_fixture.hpp"

namespace zt::cloud::service {
namespace {

using nlohmann::json;

class RulesMqtt5Test : public registry::testing::RegistryFixture {
 protected:
  void add_rule(const std::string& name, const json& payload) {
    ASSERT_TRUE(registry_->insert_topic_rule({.name = name, .payload = payload.dump()}));
  }
  static rules::MessageContext message(std::string topic, rules::UserProperties properties) {
    rules::MessageContext out;
    out.topic = std::move(topic);
    out.payload = R"({"v":1})";
    out.client_id = "d1";
    out.user_properties = std::move(properties);
    return out;
  }
};

TEST_F(RulesMqtt5Test, RepublishKeepsUserPropertiesAndAddsHeaders) {
  std::vector<Outgoing> sent;
  RulesRuntime runtime(*registry_, {"123456789012", "us-east-1"}, {},
                       [&](Outgoing message) { sent.push_back(std::move(message)); });
  add_rule("tag", {{"sql", "SELECT v, get_user_properties('site') AS site FROM 'in/#'"},
                   {"actions",
                    {{{"republish",
                       {{"topic", "out/${topic(2)}"},
                        {"qos", 1},
                        {"headers",
                         {{"contentType", "application/json"},
                          {"responseTopic", "replies/${clientid()}"},
                          {"userProperties", {{{"key", "via"}, {"value", "rule-tag"}}}}}}}}}}}});
  runtime.on_message(message("in/a", {{"site", "north"}, {"site", "south"}}));
  runtime.on_message(message("in/b", {}));  // MQTT 3.1.1: no user properties of its own
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].topic, "out/a");
  EXPECT_EQ(json::parse(sent[0].payload), json::parse(R"({"v":1,"site":["north","south"]})"));
  EXPECT_EQ(sent[0].properties.user_properties,
            (rules::UserProperties{{"site", "north"}, {"site", "south"}, {"via", "rule-tag"}}));
  EXPECT_EQ(sent[0].properties.content_type, "application/json");
  EXPECT_EQ(sent[0].properties.response_topic, "replies/d1");
  EXPECT_EQ(json::parse(sent[1].payload), json::parse(R"({"v":1})"));
  EXPECT_EQ(sent[1].properties.user_properties, (rules::UserProperties{{"via", "rule-tag"}}));
}

TEST_F(RulesMqtt5Test, HeadersThatDoNotExpandStopOnlyThatRepublish) {
  std::vector<Outgoing> sent;
  RulesRuntime runtime(*registry_, {"123456789012", "us-east-1"}, {},
                       [&](Outgoing message) { sent.push_back(std::move(message)); });
  add_rule("a_bad",
           {{"sql", "SELECT * FROM 'in/#'"},
            {"actions",
             {{{"republish", {{"topic", "bad"}, {"headers", {{"messageExpiry", "${v}${v}x"}}}}}},
              {{"republish", {{"topic", "also"}}}}}}});
  add_rule("b_good",
           {{"sql", "SELECT * FROM 'in/#'"}, {"actions", {{{"republish", {{"topic", "good"}}}}}}});
  add_rule("c_no_topic", {{"sql", "SELECT * FROM 'in/#'"},
                          {"actions",
                           {{{"republish", {{"topic", "${get_mqtt_property('response_topic')}"}}}},
                            {{"republish", {{"topic", "${topic(2)}"}}}}}}});
  runtime.on_message(message("in/a", {{"k", "v"}}));
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[2].topic, "a");  // the response topic was absent: that republish alone failed
  EXPECT_EQ(sent[0].topic, "also");
  EXPECT_EQ(sent[1].topic, "good");
  EXPECT_EQ(sent[1].properties.user_properties, (rules::UserProperties{{"k", "v"}}));
}

}  // namespace
}  // namespace zt::cloud::service
