// Thing types beyond create/describe (handlers_things.cpp): ListThingTypes, DeprecateThingType
// (and undoDeprecate), DeleteThingType; and the typed listings ListThingPrincipalsV2 /
// ListPrincipalThingsV2 (AWS IoT API reference).
#include "cloud/api/thing_group_util.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;

// Developer guide, "Thing types": "You must wait five minutes after you deprecate a thing type
// before you can delete it."
constexpr double kDeleteAfterDeprecationSeconds = 5 * 60;

ApiResult<registry::ThingType> require_type(ServiceContext& ctx, const std::string& name) {
  ZT_API_TRY_ASSIGN(auto type, ctx.registry.find_thing_type(name));
  if (!type) return not_found("Thing Type " + name + " does not exist");
  return std::move(*type);
}

ApiResult<Reply> list_thing_types(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "nextToken", "maxResults", 250));
  auto name = request.query_value("thingTypeName");
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_thing_types(page, name));
  json items = json::array();
  for (const auto& type : result.items) items.push_back(thing_type_json(ctx, type));
  return list_reply("thingTypes", items, result.next_key);
}

ApiResult<Reply> deprecate_thing_type(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, name_param(request, "thingTypeName"));
  ZT_API_TRY_ASSIGN(json body, json_body(request, false));
  ZT_API_TRY_ASSIGN(auto undo, bool_member(body, "undoDeprecate"));
  ZT_API_TRY_ASSIGN(auto type, require_type(ctx, name));
  if (undo.value_or(false)) {
    ZT_API_TRY(ctx.registry.set_thing_type_deprecation(name, false, 0));
  } else if (!type.deprecated) {
    ZT_API_TRY(ctx.registry.set_thing_type_deprecation(name, true, ctx.now()));
  }
  return no_content();
}

ApiResult<Reply> delete_thing_type(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, name_param(request, "thingTypeName"));
  ZT_API_TRY_ASSIGN(auto type, require_type(ctx, name));
  if (!type.deprecated) {
    return invalid_request("Thing type " + name + " must be deprecated before it can be deleted");
  }
  if (ctx.now() - type.deprecation_date < kDeleteAfterDeprecationSeconds) {
    return invalid_request("Thing type " + name +
                           " can be deleted only 5 minutes after it was deprecated");
  }
  ZT_API_TRY_ASSIGN(int64_t things, ctx.registry.count_things_of_type(name));
  if (things > 0) {
    return invalid_request("Thing type " + name + " can't be deleted: " + std::to_string(things) +
                           " thing(s) still have this type");
  }
  ZT_API_TRY(ctx.registry.delete_thing_type(name));
  return no_content();
}

ApiResult<std::string> principal_type_filter(const ApiRequest& request) {
  std::string type = request.query_value("thingPrincipalType").value_or("");
  if (!type.empty() && type != "EXCLUSIVE_THING" && type != "NON_EXCLUSIVE_THING")
    return invalid_request("thingPrincipalType must be EXCLUSIVE_THING or NON_EXCLUSIVE_THING");
  return type;
}

ApiResult<Reply> list_thing_principals_v2(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string thing, name_param(request, "thingName"));
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_thing(thing));
  if (!found) return not_found("Thing " + thing + " cannot be found.");
  ZT_API_TRY_ASSIGN(std::string type, principal_type_filter(request));
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "nextToken", "maxResults", 250));
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_thing_principals_v2(thing, page, type));
  json items = json::array();
  for (const auto& row : result.items)
    items.push_back({{"principal", row.principal}, {"thingPrincipalType", row.type}});
  return list_reply("thingPrincipalObjects", items, result.next_key);
}

ApiResult<Reply> list_principal_things_v2(ServiceContext& ctx, const ApiRequest& request) {
  auto principal = request.header("x-amzn-principal");
  if (!principal || principal->empty())
    return invalid_request("the x-amzn-principal header (principal) is required");
  ZT_API_TRY(check_principal(ctx, *principal));
  ZT_API_TRY_ASSIGN(std::string type, principal_type_filter(request));
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "nextToken", "maxResults", 250));
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_principal_things_v2(*principal, page, type));
  json items = json::array();
  for (const auto& row : result.items)
    items.push_back({{"thingName", row.thing_name}, {"thingPrincipalType", row.type}});
  return list_reply("principalThingObjects", items, result.next_key);
}

}  // namespace

json thing_type_json(const ServiceContext& ctx, const registry::ThingType& type) {
  json metadata = {{"deprecated", type.deprecated}, {"creationDate", type.creation_date}};
  if (type.deprecated) metadata["deprecationDate"] = type.deprecation_date;
  return {{"thingTypeName", type.name},
          {"thingTypeId", type.id},
          {"thingTypeArn", ctx.arn("thingtype/" + type.name)},
          {"thingTypeProperties", json::parse(type.properties, nullptr, false)},
          {"thingTypeMetadata", metadata}};
}

void add_thing_type_routes(Router& r) {
  r.add("GET", "/thing-types", "ListThingTypes", list_thing_types);
  r.add("POST", "/thing-types/{thingTypeName}/deprecate", "DeprecateThingType",
        deprecate_thing_type);
  r.add("DELETE", "/thing-types/{thingTypeName}", "DeleteThingType", delete_thing_type);
  r.add("GET", "/things/{thingName}/principals-v2", "ListThingPrincipalsV2",
        list_thing_principals_v2);
  r.add("GET", "/principals/things-v2", "ListPrincipalThingsV2", list_principal_things_v2);
}

}  // namespace zt::cloud::api
