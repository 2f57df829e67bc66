// Topic rules (reference/aws-iot.md §1.6, §7). The payload is validated with the rules engine's
// parser and stored as given; cloud/service/rules_runtime evaluates it.
#include "cloud/api/handler_util.hpp"
#include "cloud/rules/rule.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;

// What GetTopicRule and ListTopicRules show of a stored payload. Read defensively: a rule stored
// by an older build was checked less (a member of another type shows as its default).
struct StoredRule {
  json payload;
  std::string sql;
  std::string topic_pattern;  // the FROM filter, "" when the SQL does not parse
  bool disabled = false;
};

StoredRule read_stored(const registry::TopicRule& rule) {
  StoredRule out;
  out.payload = parse_json(rule.payload).value_or(json::object());
  if (!out.payload.is_object()) out.payload = json::object();
  out.sql = string_member(out.payload, "sql").value_or(std::nullopt).value_or("");
  out.disabled = bool_member(out.payload, "ruleDisabled").value_or(std::nullopt).value_or(false);
  if (auto query = rules::parse_query(out.sql)) out.topic_pattern = query->topic_filter();
  return out;
}

// The payload is compiled with the rules engine's own parser (rules::parse_rule), so a rule the
// API accepted cannot fail when a message arrives. AWS's errors (API reference, CreateTopicRule):
// SqlParseException for SQL that does not parse, InvalidRequestException for the rest.
ApiResult<void> check_payload(const std::string& name, const json& payload) {
  if (!payload.is_object()) return invalid_request("the topic rule payload must be a JSON object");
  auto sql = payload.find("sql");
  if (sql != payload.end() && sql->is_string() &&
      sql->get_ref<const std::string&>().size() > 256 * 1024) {
    return api_error(400, "SqlParseException", "sql is longer than 256 KB");
  }
  auto actions = payload.find("actions");
  if (actions == payload.end() || !actions->is_array())
    return invalid_request("actions is required (an array)");
  auto rule = rules::parse_rule(name, payload);
  if (!rule) {
    if (rule.error().code == Errc::parse)
      return api_error(400, "SqlParseException", rule.error().message);
    return invalid_request(rule.error().message);
  }
  return {};
}

ApiResult<std::string> rule_name_param(const ApiRequest& request) {
  const std::string& name = request.path.at("ruleName");
  if (!valid_rule_name(name)) return constraint_violation(name, "ruleName", "^[a-zA-Z0-9_]+$");
  return name;
}

// GetTopicRule and friends have no ResourceNotFound in the model; AWS answers Unauthorized.
ApiError rule_missing(const std::string& name) {
  return api_error(401, "UnauthorizedException", "Rule " + name + " does not exist");
}

ApiResult<Reply> create_topic_rule(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, rule_name_param(request));
  ZT_API_TRY_ASSIGN(json payload, json_body(request, true));
  ZT_API_TRY(check_payload(name, payload));
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_topic_rule(name));
  if (existing)
    return already_exists("Rule " + name + " already exists", name, ctx.arn("rule/" + name));
  ZT_API_TRY(ctx.registry.insert_topic_rule(
      {.name = name, .payload = payload.dump(), .created_at = now_seconds()}));
  return no_content();
}

json rule_json(const registry::TopicRule& rule) {
  StoredRule stored = read_stored(rule);
  const json& payload = stored.payload;
  auto actions = payload.find("actions");
  json out = {
      {"ruleName", rule.name},
      {"sql", stored.sql},
      {"createdAt", rule.created_at},
      {"actions", actions != payload.end() && actions->is_array() ? *actions : json::array()},
      {"ruleDisabled", stored.disabled},
      {"awsIotSqlVersion",
       string_member(payload, "awsIotSqlVersion").value_or(std::nullopt).value_or("2015-10-08")}};
  for (const char* key : {"description", "errorAction"}) {
    if (auto member = payload.find(key); member != payload.end()) out[key] = *member;
  }
  return out;
}

ApiResult<Reply> get_topic_rule(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, rule_name_param(request));
  ZT_API_TRY_ASSIGN(auto rule, ctx.registry.find_topic_rule(name));
  if (!rule) return rule_missing(name);
  return json_reply({{"ruleArn", ctx.arn("rule/" + name)}, {"rule", rule_json(*rule)}});
}

ApiResult<Reply> list_topic_rules(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "nextToken", "maxResults", 10000));
  auto topic = request.query_value("topic");
  std::optional<bool> disabled_filter;
  if (request.query_value("ruleDisabled")) {
    ZT_API_TRY_ASSIGN(disabled_filter, query_bool(request, "ruleDisabled"));
  }
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_topic_rules(page));
  json items = json::array();
  for (const auto& rule : result.items) {
    StoredRule stored = read_stored(rule);
    const std::string& pattern = stored.topic_pattern;
    bool disabled = stored.disabled;
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

ApiResult<Reply> replace_topic_rule(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, rule_name_param(request));
  ZT_API_TRY_ASSIGN(json payload, json_body(request, true));
  ZT_API_TRY(check_payload(name, payload));
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_topic_rule(name));
  if (!existing) return rule_missing(name);
  ZT_API_TRY(ctx.registry.replace_topic_rule(name, payload.dump()));
  return no_content();
}

ApiResult<Reply> delete_topic_rule(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, rule_name_param(request));
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_topic_rule(name));
  if (!existing) return rule_missing(name);
  ZT_API_TRY(ctx.registry.delete_topic_rule(name));
  return no_content();
}

// EnableTopicRule / DisableTopicRule: the stored payload's ruleDisabled, which the rules engine
// reads (a disabled rule does not fire: rules_runtime skips it).
ApiResult<Reply> set_rule_disabled(ServiceContext& ctx, const ApiRequest& request, bool disabled) {
  ZT_API_TRY_ASSIGN(std::string name, rule_name_param(request));
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_topic_rule(name));
  if (!existing) return rule_missing(name);
  json payload = read_stored(*existing).payload;
  payload["ruleDisabled"] = disabled;
  ZT_API_TRY(ctx.registry.replace_topic_rule(name, payload.dump()));
  return no_content();
}

ApiResult<Reply> enable_topic_rule(ServiceContext& ctx, const ApiRequest& request) {
  return set_rule_disabled(ctx, request, false);
}

ApiResult<Reply> disable_topic_rule(ServiceContext& ctx, const ApiRequest& request) {
  return set_rule_disabled(ctx, request, true);
}

}  // namespace

void add_rule_routes(Router& r) {
  r.add("POST", "/rules/{ruleName}/enable", "EnableTopicRule", enable_topic_rule);
  r.add("POST", "/rules/{ruleName}/disable", "DisableTopicRule", disable_topic_rule);
  r.add("POST", "/rules/{ruleName}", "CreateTopicRule", create_topic_rule);
  r.add("GET", "/rules/{ruleName}", "GetTopicRule", get_topic_rule);
  r.add("PATCH", "/rules/{ruleName}", "ReplaceTopicRule", replace_topic_rule);
  r.add("DELETE", "/rules/{ruleName}", "DeleteTopicRule", delete_topic_rule);
  r.add("GET", "/rules", "ListTopicRules", list_topic_rules);
}

}  // namespace zt::cloud::api
