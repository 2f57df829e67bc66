// Thing groups, static and dynamic: Create/Describe/Update/Delete/List ThingGroups and
// Create/Update/DeleteDynamicThingGroup (AWS IoT API reference; developer guide "Static thing
// groups", "Dynamic thing groups"). The hierarchy rules live in the registry
// (registry_thing_groups.cpp); a dynamic group's members are computed there from its query.
#include "cloud/api/attribute_payload.hpp"
#include "cloud/api/thing_group_util.hpp"
#include "cloud/index/query.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;
using registry::ThingGroup;

constexpr const char* kKind = "thinggroup";
// DescribeThingGroup's description: AWS's ThingGroupDescription is at most 2028 characters.
constexpr size_t kMaxDescription = 2028;
constexpr size_t kMaxDynamicGroups = 100;

// thingGroupProperties: the description and the attribute payload.
struct GroupProperties {
  std::optional<std::string> description{};
  AttributePayload attributes{};
  bool has_attributes = false;
};

ApiResult<GroupProperties> group_properties(const json& body) {
  ZT_API_TRY_ASSIGN(const json* properties, object_member(body, "thingGroupProperties"));
  GroupProperties out;
  if (!properties) return out;
  ZT_API_TRY_ASSIGN(out.description, string_member(*properties, "thingGroupDescription",
                                                   "thingGroupProperties.thingGroupDescription"));
  if (out.description && out.description->size() > kMaxDescription)
    return invalid_request("thingGroupDescription is longer than 2028 characters");
  out.has_attributes = properties->contains("attributePayload");
  ZT_API_TRY_ASSIGN(out.attributes, attribute_payload_of(*properties));
  return out;
}

json properties_json(const ThingGroup& group) {
  json properties = {
      {"attributePayload", {{"attributes", json::parse(group.attributes, nullptr, false)}}}};
  if (!group.description.empty()) properties["thingGroupDescription"] = group.description;
  return properties;
}

ApiResult<ThingGroup> require_group(ServiceContext& ctx, const std::string& name) {
  ZT_API_TRY_ASSIGN(auto group, ctx.registry.find_thing_group(name));
  if (!group) return not_found("Thing group " + name + " does not exist");
  return std::move(*group);
}

// What Create*ThingGroup answers (the dynamic variant adds its query fields).
json created_json(const ServiceContext& ctx, const ThingGroup& group) {
  json out = {{"thingGroupName", group.name},
              {"thingGroupArn", ctx.arn(std::string(kKind) + "/" + group.name)},
              {"thingGroupId", group.id}};
  if (group.dynamic) {
    out["indexName"] = group.index_name;
    out["queryString"] = group.query_string;
    out["queryVersion"] = group.query_version;
  }
  return out;
}

// The dynamic fields of a Create/UpdateDynamicThingGroup body onto `group`.
ApiResult<void> read_query(const json& body, ThingGroup& group, bool required) {
  ZT_API_TRY_ASSIGN(auto query, string_member(body, "queryString"));
  ZT_API_TRY_ASSIGN(auto index, string_member(body, "indexName"));
  ZT_API_TRY_ASSIGN(auto version, string_member(body, "queryVersion"));
  if (required && !query) return invalid_request("queryString is required");
  if (query) {
    if (query->empty()) return invalid_request("queryString must not be empty");
    // A query SearchIndex would refuse is refused here with the same InvalidQueryException.
    auto parsed = index::parse_query(*query);
    if (!parsed) return api_error(400, "InvalidQueryException", parsed.error().message);
    group.query_string = *query;
  }
  // AWS: "Currently one index is supported: AWS_Things".
  if (index && *index != "AWS_Things") return not_found("Index " + *index + " does not exist");
  if (version) group.query_version = *version;
  return {};
}

ApiResult<Reply> create_group(ServiceContext& ctx, const ApiRequest& request, bool dynamic) {
  ZT_API_TRY_ASSIGN(std::string name, name_param(request, "thingGroupName"));
  ZT_API_TRY_ASSIGN(json body, json_body(request, dynamic));
  ZT_API_TRY_ASSIGN(GroupProperties properties, group_properties(body));
  ThingGroup group{.name = name,
                   .id = new_uuid(),
                   .description = properties.description.value_or(""),
                   .attributes = apply_attribute_payload("{}", properties.attributes),
                   .creation_date = now_seconds(),
                   .dynamic = dynamic};
  if (dynamic) {
    ZT_API_TRY(read_query(body, group, true));
    // "Dynamic thing groups per account: 100" (AWS IoT Core quotas).
    ZT_API_TRY_ASSIGN(auto dynamic_groups, ctx.registry.list_dynamic_thing_groups());
    if (dynamic_groups.size() >= kMaxDynamicGroups) {
      return api_error(410, "LimitExceededException",
                       "An account can have at most 100 dynamic thing groups");
    }
  } else {
    ZT_API_TRY_ASSIGN(group.parent_name, string_member(body, "parentGroupName"));
  }
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_thing_group(name));
  if (existing) {
    // As CreateThing: the same request again answers the existing group.
    bool same = existing->dynamic == dynamic && existing->parent_name == group.parent_name &&
                existing->description == group.description &&
                json::parse(existing->attributes, nullptr, false) ==
                    json::parse(group.attributes, nullptr, false) &&
                existing->query_string == group.query_string;
    if (same) return json_reply(created_json(ctx, *existing));
    return already_exists("Thing Group " + name + " already exists with different tags",
                          existing->id, ctx.arn(std::string(kKind) + "/" + name));
  }
  ZT_API_TRY(ctx.registry.insert_thing_group(group));
  if (dynamic) ZT_API_TRY(ctx.registry.refresh_dynamic_thing_group(name));
  return json_reply(created_json(ctx, group));
}

ApiResult<Reply> create_thing_group(ServiceContext& ctx, const ApiRequest& request) {
  return create_group(ctx, request, false);
}

ApiResult<Reply> create_dynamic_thing_group(ServiceContext& ctx, const ApiRequest& request) {
  return create_group(ctx, request, true);
}

ApiResult<Reply> describe_thing_group(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, name_param(request, "thingGroupName"));
  ZT_API_TRY_ASSIGN(ThingGroup group, require_group(ctx, name));
  ZT_API_TRY_ASSIGN(auto path, ctx.registry.thing_group_path(name));
  json metadata = {{"creationDate", group.creation_date}};
  if (group.parent_name) {
    metadata["parentGroupName"] = *group.parent_name;
    json ancestors = json::array();
    for (size_t i = 0; i + 1 < path.size(); ++i)
      ancestors.push_back(name_and_arn(ctx, kKind, path[i].name));
    metadata["rootToParentThingGroups"] = ancestors;
  }
  json out = {{"thingGroupName", group.name},
              {"thingGroupId", group.id},
              {"thingGroupArn", ctx.arn(std::string(kKind) + "/" + group.name)},
              {"version", group.version},
              {"thingGroupProperties", properties_json(group)},
              {"thingGroupMetadata", metadata}};
  if (group.dynamic) {
    out["indexName"] = group.index_name;
    out["queryString"] = group.query_string;
    out["queryVersion"] = group.query_version;
    out["status"] = group.status;
  }
  return json_reply(out);
}

ApiResult<Reply> update_group(ServiceContext& ctx, const ApiRequest& request, bool dynamic) {
  ZT_API_TRY_ASSIGN(std::string name, name_param(request, "thingGroupName"));
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(ThingGroup group, require_group(ctx, name));
  if (group.dynamic != dynamic) {
    return invalid_request(dynamic ? "Thing group " + name + " is not a dynamic thing group"
                                   : "Thing group " + name +
                                         " is a dynamic thing group: use UpdateDynamicThingGroup");
  }
  if (!body.contains("thingGroupProperties"))
    return invalid_request("thingGroupProperties is required");
  ZT_API_TRY_ASSIGN(auto expected, integer_member(body, "expectedVersion"));
  ZT_API_TRY(check_expected_version(expected, group.version, "thing group " + name));
  ZT_API_TRY_ASSIGN(GroupProperties properties, group_properties(body));
  if (properties.description) group.description = *properties.description;
  if (properties.has_attributes)
    group.attributes = apply_attribute_payload(group.attributes, properties.attributes);
  std::string old_query = group.query_string;
  if (dynamic) ZT_API_TRY(read_query(body, group, false));
  group.version += 1;
  ZT_API_TRY(ctx.registry.update_thing_group(group));
  if (dynamic && group.query_string != old_query)
    ZT_API_TRY(ctx.registry.refresh_dynamic_thing_group(name));
  return json_reply({{"version", group.version}});
}

ApiResult<Reply> update_thing_group(ServiceContext& ctx, const ApiRequest& request) {
  return update_group(ctx, request, false);
}

ApiResult<Reply> update_dynamic_thing_group(ServiceContext& ctx, const ApiRequest& request) {
  return update_group(ctx, request, true);
}

ApiResult<Reply> delete_group(ServiceContext& ctx, const ApiRequest& request, bool dynamic) {
  ZT_API_TRY_ASSIGN(std::string name, name_param(request, "thingGroupName"));
  ZT_API_TRY_ASSIGN(auto expected, expected_version_query(request));
  ZT_API_TRY_ASSIGN(auto group, ctx.registry.find_thing_group(name));
  // DeleteThingGroup documents no ResourceNotFoundException: deleting a missing group succeeds.
  if (!group) return no_content();
  if (group->dynamic != dynamic) {
    return invalid_request(dynamic ? "Thing group " + name + " is not a dynamic thing group"
                                   : "Thing group " + name +
                                         " is a dynamic thing group: use DeleteDynamicThingGroup");
  }
  ZT_API_TRY(check_expected_version(expected, group->version, "thing group " + name));
  ZT_API_TRY(ctx.registry.delete_thing_group(name));
  return no_content();
}

ApiResult<Reply> delete_thing_group(ServiceContext& ctx, const ApiRequest& request) {
  return delete_group(ctx, request, false);
}

ApiResult<Reply> delete_dynamic_thing_group(ServiceContext& ctx, const ApiRequest& request) {
  return delete_group(ctx, request, true);
}

ApiResult<Reply> list_thing_groups(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "nextToken", "maxResults", 250));
  ZT_API_TRY_ASSIGN(bool recursive, query_bool(request, "recursive"));
  registry::ThingGroupFilter filter{
      .parent_name = request.query_value("parentGroup"),
      .name_prefix = request.query_value("namePrefixFilter").value_or(""),
      .recursive = recursive};
  if (filter.parent_name) ZT_API_TRY(require_group(ctx, *filter.parent_name));
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_thing_groups(page, filter));
  json items = json::array();
  for (const auto& group : result.items) items.push_back(name_and_arn(ctx, kKind, group.name));
  return list_reply("thingGroups", items, result.next_key);
}

}  // namespace

void add_thing_group_routes(Router& r) {
  r.add("POST", "/thing-groups/{thingGroupName}", "CreateThingGroup", create_thing_group);
  r.add("GET", "/thing-groups/{thingGroupName}", "DescribeThingGroup", describe_thing_group);
  r.add("PATCH", "/thing-groups/{thingGroupName}", "UpdateThingGroup", update_thing_group);
  r.add("DELETE", "/thing-groups/{thingGroupName}", "DeleteThingGroup", delete_thing_group);
  r.add("GET", "/thing-groups", "ListThingGroups", list_thing_groups);
  r.add("POST", "/dynamic-thing-groups/{thingGroupName}", "CreateDynamicThingGroup",
        create_dynamic_thing_group);
  r.add("PATCH", "/dynamic-thing-groups/{thingGroupName}", "UpdateDynamicThingGroup",
        update_dynamic_thing_group);
  r.add("DELETE", "/dynamic-thing-groups/{thingGroupName}", "DeleteDynamicThingGroup",
        delete_dynamic_thing_group);
  add_thing_group_member_routes(r);
  add_billing_group_routes(r);
  add_thing_type_routes(r);
}

}  // namespace zt::cloud::api
