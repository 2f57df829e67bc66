// Topic rules (reference/aws-iot.md §1.6, §7). The payload is stored as given; the rules engine
// (a later part) evaluates it.
#include <regex>

#include "cloud/api/handler_util.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;

// FROM '<topic filter>' of a rule's SQL, or nullopt if the SQL has no quoted FROM clause.
std::optional<std::string> topic_pattern(const std::string& sql) {
  static const std::regex from(R"(^\s*SELECT\s+.+?\s+FROM\s+'([^']+)')",
                               std::regex::icase | std::regex::ECMAScript);
  std::smatch match;
  if (!std::regex_search(sql, match, from)) return std::nullopt;
  return match[1].str();
}

std::optional<Reply> payload_problem(const json& payload) {
  if (!payload.is_object()) return invalid_request("the topic rule payload must be a JSON object");
  if (!payload.contains("sql") || !payload["sql"].is_string())
    return invalid_request("sql is required");
  std::string sql = payload["sql"];
  if (sql.size() > 256 * 1024 || !topic_pattern(sql)) {
    return error_reply(400, "SqlParseException",
                       "Expected SELECT <items> FROM '<topic filter>' [WHERE <condition>]");
  }
  if (!payload.contains("actions") || !payload["actions"].is_array()) {
    return invalid_request("actions is required (an array)");
  }
  if (payload["actions"].size() > 10) return invalid_request("a rule has at most 10 actions");
  for (const auto& action : payload["actions"]) {
    if (!action.is_object() || action.size() != 1 || !action.begin().value().is_object()) {
      return invalid_request("each action must be an object with exactly one action type");
    }
  }
  if (payload.contains("ruleDisabled") && !payload["ruleDisabled"].is_boolean()) {
    return invalid_request("ruleDisabled must be a boolean");
  }
  if (payload.contains("awsIotSqlVersion")) {
    const json& version = payload["awsIotSqlVersion"];
    if (!version.is_string() ||
        (version != "2015-10-08" && version != "2016-03-23" && version != "beta")) {
      return invalid_request("awsIotSqlVersion must be 2015-10-08, 2016-03-23 or beta");
    }
  }
  return std::nullopt;
}

std::optional<std::string> rule_name_param(const ApiRequest& request, Reply& error) {
  const std::string& name = request.path.at("ruleName");
  if (!valid_rule_name(name)) {
    error = invalid_request("ruleName must match ^[a-zA-Z0-9_]+$ (1..128)");
    return std::nullopt;
  }
  return name;
}

// GetTopicRule and friends have no ResourceNotFound in the model; AWS answers Unauthorized.
Reply rule_missing(const std::string& name) {
  return error_reply(401, "UnauthorizedException", "Rule " + name + " does not exist");
}

Reply create_topic_rule(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto name = rule_name_param(request, error);
  if (!name) return error;
  auto payload = json_body(request, error, true);
  if (!payload) return error;
  if (auto problem = payload_problem(*payload)) return *problem;
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_topic_rule(*name));
  if (existing)
    return already_exists("Rule " + *name + " already exists", *name, ctx.arn("rule/" + *name));
  ZT_API_TRY(ctx.registry.insert_topic_rule(
      {.name = *name, .payload = payload->dump(), .created_at = now_seconds()}));
  return no_content();
}

json rule_json(const registry::TopicRule& rule) {
  json payload = json::parse(rule.payload, nullptr, false);
  json out = {{"ruleName", rule.name},
              {"sql", payload.value("sql", "")},
              {"createdAt", rule.created_at},
              {"actions", payload.value("actions", json::array())},
              {"ruleDisabled", payload.value("ruleDisabled", false)},
              {"awsIotSqlVersion", payload.value("awsIotSqlVersion", "2015-10-08")}};
  if (payload.contains("description")) out["description"] = payload["description"];
  if (payload.contains("errorAction")) out["errorAction"] = payload["errorAction"];
  return out;
}

Reply get_topic_rule(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto name = rule_name_param(request, error);
  if (!name) return error;
  ZT_API_TRY_ASSIGN(auto rule, ctx.registry.find_topic_rule(*name));
  if (!rule) return rule_missing(*name);
  return json_reply({{"ruleArn", ctx.arn("rule/" + *name)}, {"rule", rule_json(*rule)}});
}

Reply list_topic_rules(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto page = page_request(request, error, "nextToken", "maxResults", 10000);
  if (!page) return error;
  auto topic = request.query_value("topic");
  std::optional<bool> disabled_filter;
  if (request.query_value("ruleDisabled")) {
    auto value = query_bool(request, "ruleDisabled", error);
    if (!value) return error;
    disabled_filter = value;
  }
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_topic_rules(*page));
  json items = json::array();
  for (const auto& rule : result.items) {
    json payload = json::parse(rule.payload, nullptr, false);
    std::string pattern = topic_pattern(payload.value("sql", "")).value_or("");
    bool disabled = payload.value("ruleDisabled", false);
    if (topic && pattern != *topic) continue;
    if (disabled_filter && disabled != *disabled_filter) continue;
    items.push_back({{"ruleArn", ctx.arn("rule/" + rule.name)},
                     {"ruleName", rule.name},
                     {"topicPattern", pattern},
                     {"createdAt", rule.created_at},
                     {"ruleDisabled", disabled}});
  }
  json out = {{"rules", items}};
  if (!result.next_key.empty()) out["nextToken"] = page_token(result.next_key);
  return json_reply(out);
}

Reply replace_topic_rule(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto name = rule_name_param(request, error);
  if (!name) return error;
  auto payload = json_body(request, error, true);
  if (!payload) return error;
  if (auto problem = payload_problem(*payload)) return *problem;
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_topic_rule(*name));
  if (!existing) return rule_missing(*name);
  ZT_API_TRY(ctx.registry.replace_topic_rule(*name, payload->dump()));
  return no_content();
}

Reply delete_topic_rule(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto name = rule_name_param(request, error);
  if (!name) return error;
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_topic_rule(*name));
  if (!existing) return rule_missing(*name);
  ZT_API_TRY(ctx.registry.delete_topic_rule(*name));
  return no_content();
}

}  // namespace

void add_rule_routes(Router& r) {
  r.add("POST", "/rules/{ruleName}", "CreateTopicRule", create_topic_rule);
  r.add("GET", "/rules/{ruleName}", "GetTopicRule", get_topic_rule);
  r.add("PATCH", "/rules/{ruleName}", "ReplaceTopicRule", replace_topic_rule);
  r.add("DELETE", "/rules/{ruleName}", "DeleteTopicRule", delete_topic_rule);
  r.add("GET", "/rules", "ListTopicRules", list_topic_rules);
}

}  // namespace zt::cloud::api
