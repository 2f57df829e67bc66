// Thing-group membership: AddThingToThingGroup, RemoveThingFromThingGroup (by name or ARN),
// UpdateThingGroupsForThing, ListThingsInThingGroup (recursive), ListThingGroupsForThing (AWS IoT
// API reference). The rules (dynamic groups refuse both, ten groups per thing, one group per
// hierarchy) are the registry's.
#include "cloud/api/thing_group_util.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;

struct Membership {
  std::string group;
  std::string thing;
  bool override_dynamic_groups = false;
};

ApiResult<Membership> membership_of(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(auto group,
                    name_or_arn(ctx, body, "thingGroupName", "thingGroupArn", "thinggroup"));
  ZT_API_TRY_ASSIGN(auto thing, name_or_arn(ctx, body, "thingName", "thingArn", "thing"));
  ZT_API_TRY_ASSIGN(auto override_dynamic, bool_member(body, "overrideDynamicGroups"));
  if (!group) return invalid_request("thingGroupName or thingGroupArn is required");
  if (!thing) return invalid_request("thingName or thingArn is required");
  return Membership{*group, *thing, override_dynamic.value_or(false)};
}

ApiResult<void> require_thing_named(ServiceContext& ctx, const std::string& thing) {
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_thing(thing));
  if (!found) return not_found("Thing " + thing + " cannot be found.");
  return {};
}

ApiResult<void> require_group_named(ServiceContext& ctx, const std::string& group) {
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_thing_group(group));
  if (!found) return not_found("Thing group " + group + " does not exist");
  return {};
}

// overrideDynamicGroups (AddThingToThingGroup): "If a thing belongs to 10 thing groups, and one or
// more of those groups are dynamic thing groups, adding a thing to a static group removes the
// thing from the last dynamic group."
ApiResult<void> make_room(ServiceContext& ctx, const std::string& thing) {
  ZT_API_TRY_ASSIGN(auto groups, ctx.registry.list_thing_groups_for_thing(thing));
  if (groups.size() < static_cast<size_t>(registry::kMaxThingGroupsPerThing)) return {};
  for (auto it = groups.rbegin(); it != groups.rend(); ++it) {
    ZT_API_TRY_ASSIGN(auto group, ctx.registry.find_thing_group(*it));
    if (group && group->dynamic) {
      ZT_API_TRY(ctx.registry.set_thing_group_member(*it, thing, false));
      return {};
    }
  }
  return {};
}

ApiResult<void> join(ServiceContext& ctx, const std::string& group, const std::string& thing,
                     bool override_dynamic_groups) {
  ZT_API_TRY(require_group_named(ctx, group));
  ZT_API_TRY(require_thing_named(ctx, thing));
  if (override_dynamic_groups) ZT_API_TRY(make_room(ctx, thing));
  ZT_API_TRY(ctx.registry.add_thing_to_thing_group(group, thing));
  return {};
}

ApiResult<void> leave(ServiceContext& ctx, const std::string& group, const std::string& thing) {
  ZT_API_TRY(require_group_named(ctx, group));
  ZT_API_TRY(require_thing_named(ctx, thing));
  ZT_API_TRY(ctx.registry.remove_thing_from_thing_group(group, thing));
  return {};
}

ApiResult<Reply> add_thing_to_thing_group(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(Membership m, membership_of(ctx, request));
  ZT_API_TRY(join(ctx, m.group, m.thing, m.override_dynamic_groups));
  return no_content();
}

ApiResult<Reply> remove_thing_from_thing_group(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(Membership m, membership_of(ctx, request));
  ZT_API_TRY(leave(ctx, m.group, m.thing));
  return no_content();
}

ApiResult<std::vector<std::string>> group_names(const json& body, const char* key) {
  ZT_API_TRY_ASSIGN(const json* list, array_member(body, key));
  std::vector<std::string> out;
  if (!list) return out;
  // ThingGroupList: at most 10 names (a thing is in at most 10 groups).
  if (list->size() > static_cast<size_t>(registry::kMaxThingGroupsPerThing))
    return invalid_request(std::string(key) + " holds more than 10 thing groups");
  for (const auto& name : *list) {
    if (!name.is_string() || !valid_thing_name(name.get_ref<const std::string&>()))
      return invalid_request(std::string(key) + " must hold thing group names");
    out.push_back(name.get<std::string>());
  }
  return out;
}

// UpdateThingGroupsForThing: removals first, then additions, in the one transaction of the call.
ApiResult<Reply> update_thing_groups_for_thing(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(auto thing, string_member(body, "thingName"));
  if (!thing) return invalid_request("thingName is required");
  ZT_API_TRY(require_thing_named(ctx, *thing));
  ZT_API_TRY_ASSIGN(auto to_add, group_names(body, "thingGroupsToAdd"));
  ZT_API_TRY_ASSIGN(auto to_remove, group_names(body, "thingGroupsToRemove"));
  ZT_API_TRY_ASSIGN(auto override_dynamic, bool_member(body, "overrideDynamicGroups"));
  for (const auto& group : to_remove) ZT_API_TRY(leave(ctx, group, *thing));
  for (const auto& group : to_add)
    ZT_API_TRY(join(ctx, group, *thing, override_dynamic.value_or(false)));
  return no_content();
}

ApiResult<Reply> list_things_in_thing_group(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, name_param(request, "thingGroupName"));
  ZT_API_TRY(require_group_named(ctx, name));
  ZT_API_TRY_ASSIGN(bool recursive, query_bool(request, "recursive"));
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "nextToken", "maxResults", 250));
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.page_things_in_thing_group(name, recursive, page));
  return list_reply("things", result.items, result.next_key);
}

ApiResult<Reply> list_thing_groups_for_thing(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string thing, name_param(request, "thingName"));
  ZT_API_TRY(require_thing_named(ctx, thing));
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "nextToken", "maxResults", 250));
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.page_thing_groups_for_thing(thing, page));
  json items = json::array();
  for (const auto& group : result.items) items.push_back(name_and_arn(ctx, "thinggroup", group));
  return list_reply("thingGroups", items, result.next_key);
}

}  // namespace

void add_thing_group_member_routes(Router& r) {
  // PUTs: no /thing-groups/{thingGroupName} route takes that method, so the names can't clash.
  r.add("PUT", "/thing-groups/addThingToThingGroup", "AddThingToThingGroup",
        add_thing_to_thing_group);
  r.add("PUT", "/thing-groups/removeThingFromThingGroup", "RemoveThingFromThingGroup",
        remove_thing_from_thing_group);
  r.add("PUT", "/thing-groups/updateThingGroupsForThing", "UpdateThingGroupsForThing",
        update_thing_groups_for_thing);
  r.add("GET", "/thing-groups/{thingGroupName}/things", "ListThingsInThingGroup",
        list_things_in_thing_group);
  r.add("GET", "/things/{thingName}/thing-groups", "ListThingGroupsForThing",
        list_thing_groups_for_thing);
}

}  // namespace zt::cloud::api
