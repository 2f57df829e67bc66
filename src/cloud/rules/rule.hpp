// Topic rules as CreateTopicRule receives them (topicRulePayload): SQL + actions. The local cloud
// runs `lambda` (a registered function) and `republish`; other action types are stored and reported
// as failed invocations when they fire, so a rule written for real AWS still loads.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cloud/rules/republish.hpp"
#include "cloud/rules/sql.hpp"

namespace zt::cloud::rules {

struct LambdaAction {
  std::string function_arn;
};
struct RepublishAction {
  std::string topic;  // may hold ${…} templates
  int qos = 0;
  MqttHeaders headers;  // RepublishAction.headers: the MQTT 5 properties (republish.hpp)
};
struct UnsupportedAction {
  std::string type;  // e.g. "dynamoDBv2"
};
using Action = std::variant<LambdaAction, RepublishAction, UnsupportedAction>;

struct Rule {
  std::string name;
  Query query;
  std::vector<Action> actions;
  std::optional<Action> error_action;
  bool disabled = false;
  std::string sql_version = "2015-10-08";
};

// Rule names: [a-zA-Z0-9_]{1,128} (AWS).
bool valid_rule_name(std::string_view name);

// Validates and compiles a topicRulePayload JSON object; the error names the member at fault:
// Errc::parse when the SQL does not parse (the API's SqlParseException), Errc::invalid_argument
// for anything else (InvalidRequestException). Every member is type-checked and every ${…}
// template of an action parsed, so a rule this accepts cannot fail to compile later.
Result<Rule> parse_rule(std::string name, const json& topic_rule_payload);

// Substitution templates (${expr}) in an action parameter must parse: checked when a rule is
// created, so it cannot fail to compile on each message later. `name` names the parameter.
Status check_templates(std::string_view text, const std::string& name);

// "arn:aws:lambda:<region>:<account>:function:<name>[:alias]" -> "<name>"; nullopt if not such an
// ARN.
std::optional<std::string> lambda_function_name(std::string_view arn);

}  // namespace zt::cloud::rules
