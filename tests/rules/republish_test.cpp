// MQTT 5 in the rules engine: get_user_properties() and get_mqtt_property() in rules SQL (AWS IoT
// SQL functions) and the republish action's headers (API reference,
// RepublishAction.headers / MqttHeaders): validated when the rule is created, expanded per message.
#include <gtest/gtest.h>

#include "cloud/rules/rule.hpp"

namespace zt::cloud::rules {
namespace {

MessageContext v5_message(UserProperties properties) {
  MessageContext out;
  out.topic = "devices/d1/data";
  out.payload = R"({"temp":21,"id":"req-7"})";
  out.client_id = "d1";
  out.user_properties = std::move(properties);
  return out;
}

std::optional<json> run(const std::string& sql, const MessageContext& message) {
  auto query = parse_query(sql);
  EXPECT_TRUE(query) << sql << ": " << query.error().message;
  return query ? query->evaluate(message) : std::nullopt;
}

// A name that repeats gives every value, in the order sent; one value is still an array.
TEST(RulesUserProperties, EveryValueOfTheNameInOrder) {
  auto message = v5_message({{"site", "north"}, {"batch", "7"}, {"site", "south"}});
  auto out =
      run("SELECT get_user_properties('site') AS sites, get_user_properties('batch') AS batch "
          "FROM 'devices/+/data'",
          message);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, json::parse(R"({"sites":["north","south"],"batch":["7"]})"));
}

// A name no property has, a message without properties (MQTT 3.1.1) and a key that is not a
// string are Undefined: the field is left out and a WHERE on it does not match.
TEST(RulesUserProperties, MissingIsUndefined) {
  auto out = run("SELECT temp, get_user_properties('nope') AS p FROM '#'",
                 v5_message({{"site", "north"}}));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, json::parse(R"({"temp":21})"));
  out = run("SELECT temp, get_user_properties('site') AS p FROM '#'", v5_message({}));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, json::parse(R"({"temp":21})"));
  out = run("SELECT get_user_properties(temp) AS p FROM '#'", v5_message({{"21", "x"}}));
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->empty());
  EXPECT_FALSE(run("SELECT * FROM '#' WHERE isUndefined(get_user_properties('site')) = false",
                   v5_message({})));
  EXPECT_TRUE(run("SELECT * FROM '#' WHERE isUndefined(get_user_properties('site')) = false",
                  v5_message({{"site", "north"}})));
  // Names are compared exactly (MQTT 5 user properties are case-sensitive UTF-8 strings).
  EXPECT_TRUE(
      run("SELECT get_user_properties('Site') AS p FROM '#'", v5_message({{"site", "north"}}))
          ->empty());
}

TEST(RulesUserProperties, UsableInTemplates) {
  auto topic = expand_template("out/${get_user_properties('site')}/${topic(2)}",
                               v5_message({{"site", "north"}}));
  ASSERT_TRUE(topic);
  EXPECT_EQ(*topic, R"(out/["north"]/d1)");
  // The function takes one argument; the parser knows it (a typo is a parse error, not Undefined).
  EXPECT_FALSE(parse_query("SELECT get_user_property('a') FROM '#'"));
}

// get_mqtt_property(name): the PUBLISH's content type, format indicator (AWS's enum), response
// topic and correlation data (base64); Undefined when absent or for another name.
TEST(RulesMqttProperty, EachPropertyAndUndefined) {
  auto message = v5_message({});
  message.payload_utf8 = true;
  message.content_type = "application/json";
  message.response_topic = "replies/d1";
  message.correlation_data = std::string("\0\xffid", 4);
  auto out =
      run("SELECT get_mqtt_property('content_type') AS ct, get_mqtt_property('format_indicator') "
          "AS fi, "
          "get_mqtt_property('response_topic') AS rt, get_mqtt_property('correlation_data') AS cd, "
          "get_mqtt_property('topic_alias') AS ta, get_mqtt_property(temp) AS n FROM '#'",
          message);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, json::parse(R"({"ct":"application/json","fi":"UTF8_DATA","rt":"replies/d1",
                                  "cd":"AP9pZA=="})"));
  message.payload_utf8 = false;
  EXPECT_EQ(run("SELECT get_mqtt_property('format_indicator') AS fi FROM '#'", message),
            json::parse(R"({"fi":"UNSPECIFIED_BYTES"})"));
  // An MQTT 3.1.1 message has none: a WHERE on one does not match.
  EXPECT_FALSE(run("SELECT * FROM '#' WHERE get_mqtt_property('content_type') = 'application/json'",
                   v5_message({})));
  // The template a request/response rule uses to answer on the requester's response topic.
  auto topic = expand_template("${get_mqtt_property('response_topic')}", v5_message({}));
  ASSERT_TRUE(topic);
  EXPECT_EQ(*topic, "");
}

Result<Rule> rule_with_headers(const json& headers) {
  return parse_rule(
      "r",
      json{{"sql", "SELECT * FROM 'devices/+/data'"},
           {"actions", {{{"republish", {{"topic", "out/${topic(2)}"}, {"headers", headers}}}}}}});
}

TEST(RulesRepublishHeaders, ParsedAndExpandedPerMessage) {
  auto rule = rule_with_headers(json::parse(R"({
      "payloadFormatIndicator": "UTF8_DATA",
      "contentType": "application/json",
      "correlationData": "${encode(id, 'base64')}",
      "messageExpiry": "60",
      "responseTopic": "replies/${clientid()}",
      "userProperties": [{"key": "rule", "value": "r1"}, {"key": "from", "value": "${topic(2)}"}]
  })"));
  // encode() is not in our SQL subset: the template does not parse, and the error names the member.
  ASSERT_FALSE(rule);
  EXPECT_NE(rule.error().message.find("actions[0].republish.headers.correlationData"),
            std::string::npos)
      << rule.error().message;

  rule = rule_with_headers(json::parse(R"({
      "payloadFormatIndicator": "UTF8_DATA",
      "contentType": "application/json",
      "correlationData": "cmVxLTc=",
      "messageExpiry": "60",
      "responseTopic": "replies/${clientid()}",
      "userProperties": [{"key": "rule", "value": "r1"}, {"key": "from", "value": "${topic(2)}"}]
  })"));
  ASSERT_TRUE(rule) << rule.error().message;
  const auto& republish = std::get<RepublishAction>(rule->actions.at(0));
  auto properties =
      publish_properties(republish.headers, v5_message({{"site", "north"}, {"site", "south"}}));
  ASSERT_TRUE(properties) << properties.error().message;
  EXPECT_EQ(properties->payload_utf8, true);
  EXPECT_EQ(properties->content_type, "application/json");
  EXPECT_EQ(properties->correlation_data, "req-7");
  EXPECT_EQ(properties->message_expiry_interval, 60u);
  EXPECT_EQ(properties->response_topic, "replies/d1");
  // The triggering message's user properties are kept, the headers' follow.
  UserProperties expected{{"site", "north"}, {"site", "south"}, {"rule", "r1"}, {"from", "d1"}};
  EXPECT_EQ(properties->user_properties, expected);
}

// Without headers a republish still keeps the triggering message's user properties, and sets no
// other MQTT 5 property.
TEST(RulesRepublishHeaders, NoHeadersKeepsTheUserProperties) {
  auto properties = publish_properties(MqttHeaders{}, v5_message({{"a", "1"}}));
  ASSERT_TRUE(properties);
  EXPECT_EQ(properties->user_properties, (UserProperties{{"a", "1"}}));
  EXPECT_FALSE(properties->payload_utf8 || properties->content_type ||
               properties->correlation_data || properties->message_expiry_interval ||
               properties->response_topic);
}

TEST(RulesRepublishHeaders, LiteralValuesAreCheckedWhenTheRuleIsCreated) {
  struct Case {
    const char* headers;
    const char* named;
  };
  const Case cases[] = {
      {R"([])", "headers must be an object"},
      {R"({"payloadFormatIndicator":"UTF-8"})", "headers.payloadFormatIndicator"},
      {R"({"payloadFormatIndicator":1})", "headers.payloadFormatIndicator"},
      {R"({"correlationData":"not base64!"})", "headers.correlationData"},
      {R"({"messageExpiry":"-1"})", "headers.messageExpiry"},
      {R"({"messageExpiry":"1.5"})", "headers.messageExpiry"},
      {R"({"messageExpiry":"99999999999"})", "headers.messageExpiry"},
      {R"({"responseTopic":"a/+/b"})", "headers.responseTopic"},
      {R"({"responseTopic":""})", "headers.responseTopic"},
      {R"({"contentType":"${topic(}"})", "headers.contentType"},
      {R"({"userProperties":[]})", "headers.userProperties"},
      {R"({"userProperties":{"a":"b"}})", "headers.userProperties"},
      {R"({"userProperties":["a"]})", "headers.userProperties[0]"},
      {R"({"userProperties":[{"key":"a"}]})", "headers.userProperties[0]"},
      {R"({"userProperties":[{"key":"a","value":7}]})", "headers.userProperties[0].value"},
  };
  for (const auto& c : cases) {
    auto rule = rule_with_headers(json::parse(c.headers));
    ASSERT_FALSE(rule) << c.headers;
    EXPECT_EQ(rule.error().code, Errc::invalid_argument) << c.headers;
    EXPECT_NE(rule.error().message.find(c.named), std::string::npos) << rule.error().message;
  }
  // MqttHeaders: every string at most 1024 characters; userProperties at most 100 entries.
  EXPECT_TRUE(rule_with_headers({{"contentType", std::string(1024, 'c')}}));
  EXPECT_FALSE(rule_with_headers({{"contentType", std::string(1025, 'c')}}));
  json many = json::array();
  for (int i = 0; i < 100; ++i) many.push_back({{"key", "k"}, {"value", std::to_string(i)}});
  EXPECT_TRUE(rule_with_headers({{"userProperties", many}}));
  many.push_back({{"key", "k"}, {"value", "x"}});
  EXPECT_FALSE(rule_with_headers({{"userProperties", many}}));
  // null headers are no headers (as botocore may send them).
  EXPECT_TRUE(rule_with_headers(nullptr));
}

// A templated header is checked on each message: a value it cannot take fails the action.
TEST(RulesRepublishHeaders, TemplatedValuesAreCheckedPerMessage) {
  MqttHeaders headers;
  headers.payload_format_indicator = "${get_user_properties('fmt')}";
  EXPECT_FALSE(publish_properties(headers, v5_message({{"fmt", "UTF8_DATA"}})));  // an array
  headers.payload_format_indicator = "${lower('UTF8_DATA')}";
  EXPECT_FALSE(publish_properties(headers, v5_message({})));
  headers.payload_format_indicator = "${upper('utf8_data')}";
  auto properties = publish_properties(headers, v5_message({}));
  ASSERT_TRUE(properties) << properties.error().message;
  EXPECT_EQ(properties->payload_utf8, true);

  MqttHeaders expiry;
  expiry.message_expiry = "${temp}";
  properties = publish_properties(expiry, v5_message({}));
  ASSERT_TRUE(properties);
  EXPECT_EQ(properties->message_expiry_interval, 21u);
  expiry.message_expiry = "${id}";
  EXPECT_FALSE(publish_properties(expiry, v5_message({})));

  MqttHeaders topic;
  topic.response_topic = "r/${missing}";  // Undefined expands to nothing: "r/" is a topic name
  EXPECT_TRUE(publish_properties(topic, v5_message({})));
  topic.response_topic = "${missing}";
  EXPECT_FALSE(publish_properties(topic, v5_message({})));
  MqttHeaders correlation;
  correlation.correlation_data = "${id}";
  EXPECT_FALSE(publish_properties(correlation, v5_message({})));
}

}  // namespace
}  // namespace zt::cloud::rules
