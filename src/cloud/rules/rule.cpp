#include "cloud/rules/rule.hpp"

#include <algorithm>

#include "common/json.hpp"

namespace zt::cloud::rules {

// Every ${…} template of an action parameter must parse now, so the rule cannot fail on each
// message later (expand_template parses them again at run time).
Status check_templates(std::string_view text, const std::string& name) {
  for (size_t open = text.find("${"); open != std::string_view::npos;
       open = text.find("${", open + 2)) {
    size_t close = text.find('}', open);
    if (close == std::string_view::npos)
      return make_error(Errc::invalid_argument, name + " has an unterminated ${");
    std::string inner(text.substr(open + 2, close - open - 2));
    auto parsed = parse_query("SELECT " + inner + " AS v FROM 't'");
    if (!parsed) {
      return make_error(Errc::invalid_argument, name + " has a template ${" + inner.substr(0, 80) +
                                                    "} that does not parse");
    }
  }
  return ok();
}

namespace {

// A required, non-empty string parameter of an action.
Result<std::string> required_string(const json& body, const char* key, const std::string& name) {
  ZT_TRY_ASSIGN(auto value, string_member(body, key, name));
  if (!value || value->empty()) return make_error(Errc::invalid_argument, name + " is required");
  ZT_TRY(check_templates(*value, name));
  return std::move(*value);
}

Result<Action> parse_action(const json& action, const std::string& where) {
  if (!action.is_object() || action.size() != 1) {
    return make_error(Errc::invalid_argument,
                      where + " must be an object with exactly one action type");
  }
  const std::string type = action.begin().key();
  const json& body = action.begin().value();
  const std::string prefix = where + "." + type;
  if (!body.is_object()) return make_error(Errc::invalid_argument, prefix + " must be an object");
  if (type == "lambda") {
    ZT_TRY_ASSIGN(std::string arn, required_string(body, "functionArn", prefix + ".functionArn"));
    if (!lambda_function_name(arn) && arn.find("${") == std::string::npos) {
      return make_error(Errc::invalid_argument, prefix + ".functionArn '" + arn.substr(0, 200) +
                                                    "' is not a Lambda function ARN");
    }
    return Action{LambdaAction{arn}};
  }
  if (type == "republish") {
    ZT_TRY_ASSIGN(std::string topic, required_string(body, "topic", prefix + ".topic"));
    // RepublishAction.qos: an integer, 0 or 1 (API reference, RepublishAction).
    ZT_TRY_ASSIGN(auto qos, integer_member(body, "qos", prefix + ".qos", 0, 1));
    ZT_TRY(string_member(body, "roleArn", prefix + ".roleArn"));
    RepublishAction republish{std::move(topic), static_cast<int>(qos.value_or(0)), {}};
    if (auto headers = body.find("headers"); headers != body.end() && !headers->is_null()) {
      ZT_TRY_ASSIGN(republish.headers, parse_mqtt_headers(*headers, prefix + ".headers"));
    }
    return Action{std::move(republish)};
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
  ZT_TRY_ASSIGN(auto sql, string_member(payload, "sql", "topicRulePayload.sql"));
  if (!sql) return make_error(Errc::invalid_argument, "topicRulePayload.sql is required");
  auto query = parse_query(*sql);
  if (!query) return make_error(Errc::parse, std::move(query).error().message);
  Rule rule{std::move(name), std::move(*query), {}, std::nullopt, false, "2015-10-08"};
  ZT_TRY_ASSIGN(auto disabled,
                bool_member(payload, "ruleDisabled", "topicRulePayload.ruleDisabled"));
  rule.disabled = disabled.value_or(false);
  ZT_TRY_ASSIGN(auto version,
                string_member(payload, "awsIotSqlVersion", "topicRulePayload.awsIotSqlVersion"));
  if (version) {
    if (*version != "2015-10-08" && *version != "2016-03-23" && *version != "beta") {
      return make_error(Errc::invalid_argument,
                        "topicRulePayload.awsIotSqlVersion must be 2015-10-08, 2016-03-23 or beta");
    }
    rule.sql_version = *version;
  }
  ZT_TRY(string_member(payload, "description", "topicRulePayload.description"));
  ZT_TRY_ASSIGN(const json* actions, array_member(payload, "actions", "topicRulePayload.actions"));
  if (actions) {
    if (actions->size() > 10)
      return make_error(Errc::invalid_argument, "a rule may have at most 10 actions");
    for (size_t i = 0; i < actions->size(); ++i) {
      ZT_TRY_ASSIGN(Action action,
                    parse_action((*actions)[i], "actions[" + std::to_string(i) + "]"));
      rule.actions.push_back(std::move(action));
    }
  }
  if (auto error_action = payload.find("errorAction");
      error_action != payload.end() && !error_action->is_null()) {
    ZT_TRY_ASSIGN(Action action, parse_action(*error_action, "errorAction"));
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
