#include "cloud/rules/rule.hpp"

#include <algorithm>

namespace zt::cloud::rules {

namespace {

Result<Action> parse_action(const json& action, const std::string& where) {
  if (!action.is_object() || action.size() != 1) {
    return make_error(Errc::invalid_argument,
                      where + " must be an object with exactly one action type");
  }
  const std::string type = action.begin().key();
  const json& body = action.begin().value();
  if (!body.is_object())
    return make_error(Errc::invalid_argument, where + "." + type + " must be an object");
  if (type == "lambda") {
    if (!body.contains("functionArn") || !body["functionArn"].is_string()) {
      return make_error(Errc::invalid_argument, where + ".lambda.functionArn is required");
    }
    std::string arn = body["functionArn"].get<std::string>();
    if (!lambda_function_name(arn) && arn.find("${") == std::string::npos) {
      return make_error(Errc::invalid_argument,
                        where + ".lambda.functionArn '" + arn + "' is not a Lambda function ARN");
    }
    return Action{LambdaAction{arn}};
  }
  if (type == "republish") {
    if (!body.contains("topic") || !body["topic"].is_string() ||
        body["topic"].get_ref<const std::string&>().empty()) {
      return make_error(Errc::invalid_argument, where + ".republish.topic is required");
    }
    int qos = body.value("qos", 0);
    if (qos != 0 && qos != 1)
      return make_error(Errc::invalid_argument, where + ".republish.qos must be 0 or 1");
    return Action{RepublishAction{body["topic"].get<std::string>(), qos}};
  }
  return Action{UnsupportedAction{type}};
}

}  // namespace

bool valid_rule_name(std::string_view name) {
  return !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

Result<Rule> parse_rule(std::string name, const json& payload) {
  if (!valid_rule_name(name)) {
    return make_error(Errc::invalid_argument,
                      "rule name '" + name + "' must match [a-zA-Z0-9_]{1,128}");
  }
  if (!payload.is_object())
    return make_error(Errc::invalid_argument, "topicRulePayload must be an object");
  if (!payload.contains("sql") || !payload["sql"].is_string()) {
    return make_error(Errc::invalid_argument, "topicRulePayload.sql is required");
  }
  ZT_TRY_ASSIGN(Query query, parse_query(payload["sql"].get<std::string>()));
  Rule rule{std::move(name), std::move(query), {}, std::nullopt, false, "2015-10-08"};
  if (payload.contains("ruleDisabled")) {
    if (!payload["ruleDisabled"].is_boolean()) {
      return make_error(Errc::invalid_argument, "topicRulePayload.ruleDisabled must be a boolean");
    }
    rule.disabled = payload["ruleDisabled"].get<bool>();
  }
  if (payload.contains("awsIotSqlVersion")) {
    const json& version = payload["awsIotSqlVersion"];
    if (!version.is_string() ||
        (version != "2015-10-08" && version != "2016-03-23" && version != "beta")) {
      return make_error(Errc::invalid_argument,
                        "topicRulePayload.awsIotSqlVersion must be 2015-10-08, 2016-03-23 or beta");
    }
    rule.sql_version = version.get<std::string>();
  }
  if (payload.contains("actions")) {
    const json& actions = payload["actions"];
    if (!actions.is_array())
      return make_error(Errc::invalid_argument, "topicRulePayload.actions must be a list");
    if (actions.size() > 10)
      return make_error(Errc::invalid_argument, "a rule may have at most 10 actions");
    for (size_t i = 0; i < actions.size(); ++i) {
      ZT_TRY_ASSIGN(Action action, parse_action(actions[i], "actions[" + std::to_string(i) + "]"));
      rule.actions.push_back(std::move(action));
    }
  }
  if (payload.contains("errorAction")) {
    ZT_TRY_ASSIGN(Action action, parse_action(payload["errorAction"], "errorAction"));
    rule.error_action = std::move(action);
  }
  return rule;
}

std::optional<std::string> lambda_function_name(std::string_view arn) {
  constexpr std::string_view kPrefix = "arn:aws:lambda:";
  if (arn.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  size_t marker = arn.find(":function:");
  if (marker == std::string_view::npos) return std::nullopt;
  std::string_view rest = arn.substr(marker + 10);
  std::string_view name = rest.substr(0, rest.find(':'));
  if (name.empty()) return std::nullopt;
  return std::string(name);
}

}  // namespace zt::cloud::rules
