#include <gtest/gtest.h>

#include "cloud/rules/rule.hpp"

namespace zt::cloud::rules {
namespace {

MessageContext message(std::string topic, std::string payload) {
  MessageContext out;
  out.topic = std::move(topic);
  out.payload = std::move(payload);
  out.client_id = "dev-1";
  out.principal = "abcd";
  out.account_id = "123456789012";
  out.timestamp_ms = 1700000000123;
  return out;
}

std::optional<json> run(const std::string& sql, const MessageContext& context) {
  auto query = parse_query(sql);
  EXPECT_TRUE(query) << sql << ": " << query.error().message;
  return query ? query->evaluate(context) : std::nullopt;
}

// The seed's JITR rule (section V of the guide) passes the registration event through unchanged.
TEST(RulesSql, JitrRuleSelectsTheWholeEvent) {
  std::string event =
      R"({"certificateId":"c1","caCertificateId":"ca1","timestamp":1,"certificateStatus":"PENDING_ACTIVATION","awsAccountId":"123456789012","certificateRegistrationTimestamp":null})";
  auto query = parse_query("SELECT * FROM '$aws/events/certificates/registered/#'");
  ASSERT_TRUE(query);
  EXPECT_EQ(query->topic_filter(), "$aws/events/certificates/registered/#");
  auto out = query->evaluate(message("$aws/events/certificates/registered/ca1", event));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, json::parse(event));
}

TEST(RulesSql, FieldsAliasesFunctionsAndUndefined) {
  auto context =
      message("sensors/room1/temp", R"({"temp":21.5,"meta":{"unit":"C","tags":["a","b"]}})");
  auto out =
      run("select temp, meta.unit AS u, meta.tags[1] AS second, topic(2) AS room, clientid() AS c, "
          "principal() AS p, "
          "timestamp() AS t, missing, meta.nope AS gone, temp * 2 AS doubled, out.nested AS x, "
          "temp AS a.b FROM 'sensors/+/temp'",
          context);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out,
            json::parse(R"({"temp":21.5,"u":"C","second":"b","room":"room1","c":"dev-1","p":"abcd",
                                  "t":1700000000123,"doubled":43,"a":{"b":21.5}})"));
  EXPECT_FALSE(out->contains("missing"));
  EXPECT_FALSE(out->contains("gone"));
}

TEST(RulesSql, StarPlusExtraFields) {
  auto out = run("SELECT *, topic() AS topic FROM 'a/#'", message("a/b", R"({"v":1})"));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, json::parse(R"({"v":1,"topic":"a/b"})"));
}

struct WhereCase {
  const char* condition;
  bool matches;
};
class RulesWhere : public testing::TestWithParam<WhereCase> {};
TEST_P(RulesWhere, Evaluates) {
  auto context =
      message("dev/42/state", R"({"n":5,"s":"abc","num":"10","flag":true,"nil":null,"o":{"k":1}})");
  auto out = run(std::string("SELECT n FROM 'dev/+/state' WHERE ") + GetParam().condition, context);
  EXPECT_EQ(out.has_value(), GetParam().matches) << GetParam().condition;
}
INSTANTIATE_TEST_SUITE_P(
    Conditions, RulesWhere,
    testing::Values(WhereCase{"n = 5", true}, WhereCase{"n <> 5", false}, WhereCase{"n != 4", true},
                    WhereCase{"n > 4 AND n < 6", true}, WhereCase{"n >= 6 OR s = 'abc'", true},
                    WhereCase{"NOT n = 5", false}, WhereCase{"NOT (n = 4)", true},
                    WhereCase{"num > 9", true}, WhereCase{"num = 10", true},
                    WhereCase{"s < 'abd'", true}, WhereCase{"flag", true},
                    WhereCase{"flag = false", false}, WhereCase{"missing = 1", false},
                    WhereCase{"missing <> 1", false},  // Undefined comparisons never match
                    WhereCase{"missing = 1 OR n = 5", true},
                    WhereCase{"isUndefined(missing)", true}, WhereCase{"isNull(nil)", true},
                    WhereCase{"isNull(n)", false}, WhereCase{"topic(2) = '42'", true},
                    WhereCase{"topic(9) = '42'", false}, WhereCase{"n % 2 = 1", true},
                    WhereCase{"(n + 1) * 2 = 12", true}, WhereCase{"-n = -5", true},
                    WhereCase{"n / 0 = 1", false}, WhereCase{"o.k = 1", true},
                    WhereCase{"startswith(s, 'ab')", true}, WhereCase{"endswith(s, 'x')", false},
                    WhereCase{"upper(s) = 'ABC'", true}, WhereCase{"concat(s, n) = 'abc5'", true},
                    WhereCase{"clientid() = 'dev-1'", true}));

struct BadSql {
  const char* sql;
  const char* message_part;
};
class RulesRejects : public testing::TestWithParam<BadSql> {};
TEST_P(RulesRejects, WithAPositionedMessage) {
  auto query = parse_query(GetParam().sql);
  ASSERT_FALSE(query) << GetParam().sql;
  EXPECT_NE(query.error().message.find(GetParam().message_part), std::string::npos)
      << query.error().message;
}
INSTANTIATE_TEST_SUITE_P(
    Errors, RulesRejects,
    testing::Values(BadSql{"", "expected SELECT"}, BadSql{"SELECT FROM 'a'", "expected a value"},
                    BadSql{"SELECT * FROM a", "quoted topic filter"},
                    BadSql{"SELECT * FROM 'a", "unterminated"},
                    BadSql{"SELECT * FROM 'a' WHERE", "expected a value"},
                    BadSql{"SELECT * FROM 'a' WHERE n = 1 extra", "end of query"},
                    BadSql{"SELECT * FROM 'a' WHERE (n = 1", "')'"},
                    BadSql{"SELECT nosuch(1) FROM 'a'", "nosuch"},
                    BadSql{"SELECT a.[1] FROM 'a'", "field name"},
                    BadSql{"SELECT * FROM ''", "empty"},
                    BadSql{"SELECT # FROM 'a'", "unexpected character"}));

TEST(RulesSql, DeepNestingIsRefusedNotOverflowed) {
  std::string sql =
      "SELECT * FROM 'a' WHERE " + std::string(5000, '(') + "1" + std::string(5000, ')') + " = 1";
  auto query = parse_query(sql);
  ASSERT_FALSE(query);
  EXPECT_NE(query.error().message.find("nests too deeply"), std::string::npos);
}

TEST(RulesTemplate, ExpandsTopicAndClientFunctions) {
  auto context = message("things/dev-1/events", "{}");
  EXPECT_EQ(*expand_template("out/${topic(2)}/${clientid()}", context), "out/dev-1/dev-1");
  EXPECT_EQ(*expand_template("plain", context), "plain");
  EXPECT_FALSE(expand_template("bad/${topic(2)", context));
}

TEST(Rules, ParseTopicRulePayload) {
  auto rule = parse_rule("ZeroTouchJustInTimeRegistration", json::parse(R"({
    "sql": "SELECT * FROM '$aws/events/certificates/registered/#'", "ruleDisabled": false,
    "awsIotSqlVersion": "2016-03-23",
    "actions": [{"lambda": {"functionArn": "arn:aws:lambda:us-east-1:123456789012:function:ZTLambdaJITR"}},
                {"republish": {"topic": "audit/${topic(5)}", "roleArn": "arn:aws:iam::1:role/r", "qos": 1}},
                {"dynamoDBv2": {"roleArn": "x", "putItem": {"tableName": "t"}}}]})"));
  ASSERT_TRUE(rule) << rule.error().message;
  EXPECT_EQ(rule->sql_version, "2016-03-23");
  ASSERT_EQ(rule->actions.size(), 3u);
  EXPECT_EQ(std::get<LambdaAction>(rule->actions[0]).function_arn,
            "arn:aws:lambda:us-east-1:123456789012:function:ZTLambdaJITR");
  EXPECT_EQ(std::get<RepublishAction>(rule->actions[1]).qos, 1);
  EXPECT_EQ(std::get<UnsupportedAction>(rule->actions[2]).type, "dynamoDBv2");
  EXPECT_EQ(*lambda_function_name("arn:aws:lambda:us-east-1:1:function:ZTLambdaJITR:prod"),
            "ZTLambdaJITR");
  EXPECT_FALSE(lambda_function_name("arn:aws:s3:::bucket"));

  EXPECT_FALSE(parse_rule("bad-name", json::parse(R"({"sql":"SELECT * FROM 'a'"})")));
  EXPECT_FALSE(parse_rule("r", json::parse(R"({"actions":[]})")));
  EXPECT_FALSE(
      parse_rule("r", json::parse(R"({"sql":"SELECT * FROM 'a'","actions":[{"lambda":{}}]})")));
  EXPECT_FALSE(
      parse_rule("r", json::parse(R"({"sql":"SELECT * FROM 'a'","awsIotSqlVersion":"2020"})")));
  auto bad_sql = parse_rule("r", json::parse(R"({"sql":"SELEKT * FROM 'a'"})"));
  ASSERT_FALSE(bad_sql);
  EXPECT_NE(bad_sql.error().message.find("SELECT"), std::string::npos);
}

// Issue 12: `"qos":"1"` made parse_rule throw type_error on the service worker for every
// matching message. Every member is now checked; the error names it.
TEST(Rules, MistypedRuleMembersAreErrorsNotExceptions) {
  struct Case {
    const char* payload;
    const char* named;
  };
  const Case cases[] = {
      {R"({"sql":"SELECT * FROM 'a'","actions":[{"republish":{"topic":"b","qos":"1"}}]})",
       "actions[0].republish.qos"},
      {R"({"sql":"SELECT * FROM 'a'","actions":[{"republish":{"topic":"b","qos":2}}]})",
       "actions[0].republish.qos"},
      {R"({"sql":"SELECT * FROM 'a'","actions":[{"republish":{"topic":1}}]})",
       "actions[0].republish.topic"},
      {R"({"sql":"SELECT * FROM 'a'","actions":[{"lambda":{"functionArn":[]}}]})",
       "actions[0].lambda.functionArn"},
      {R"({"sql":"SELECT * FROM 'a'","actions":{}})", "topicRulePayload.actions"},
      {R"({"sql":"SELECT * FROM 'a'","ruleDisabled":"yes"})", "topicRulePayload.ruleDisabled"},
      {R"({"sql":"SELECT * FROM 'a'","awsIotSqlVersion":7})", "topicRulePayload.awsIotSqlVersion"},
      {R"({"sql":"SELECT * FROM 'a'","description":{}})", "topicRulePayload.description"},
      {R"({"sql":1})", "topicRulePayload.sql"},
      {R"({"sql":"SELECT * FROM 'a'","errorAction":{"republish":{"topic":"x/${topic("}}})",
       "errorAction.republish.topic"},
  };
  for (const auto& c : cases) {
    Result<Rule> rule = make_error(Errc::internal, "not run");
    EXPECT_NO_THROW(rule = parse_rule("r", json::parse(c.payload))) << c.payload;
    ASSERT_FALSE(rule) << c.payload;
    EXPECT_EQ(rule.error().code, Errc::invalid_argument) << c.payload;
    EXPECT_NE(rule.error().message.find(c.named), std::string::npos) << rule.error().message;
  }
  // SQL that does not parse is told apart (the API's SqlParseException).
  EXPECT_EQ(parse_rule("r", json::parse(R"({"sql":"SELECT * FROM"})")).error().code, Errc::parse);
  EXPECT_EQ(parse_rule("r", json::parse(R"({"sql":"SELECT f(a) FROM 'a'"})")).error().code,
            Errc::parse);
}

// A payload too deep for the parse limit has no fields: the rule sees Undefined, and SELECT *
// passes the text through, never building (or serialising) the deep document.
TEST(Rules, DeepPayloadsAreNotParsed) {
  auto query = parse_query("SELECT a FROM 'x'");
  ASSERT_TRUE(query);
  MessageContext message;
  message.topic = "x";
  message.payload = std::string(65000, '[') + std::string(65000, ']');
  auto output = query->evaluate(message);
  ASSERT_TRUE(output);
  EXPECT_TRUE(output->empty());
}

}  // namespace
}  // namespace zt::cloud::rules
