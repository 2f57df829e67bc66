// Thing types, things and thing ↔ principal attachments (reference/aws-iot.md §1.6).
#include "cloud/api/attribute_payload.hpp"
#include "cloud/api/handler_util.hpp"
#include "cloud/api/thing_group_util.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;
using registry::Thing;

ApiResult<std::string> thing_name_param(const ApiRequest& request) {
  const std::string& name = request.path.at("thingName");
  if (!valid_thing_name(name)) return constraint_violation(name, "thingName", "[a-zA-Z0-9:_-]+");
  return name;
}

ApiResult<void> check_thing_type(ServiceContext& ctx, const std::optional<std::string>& type) {
  if (!type) return {};
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_thing_type(*type));
  if (!found) return not_found("Thing type " + *type + " does not exist");
  if (found->deprecated) return invalid_request("Thing type " + *type + " is deprecated");
  return {};
}

json thing_json(const ServiceContext& ctx, const Thing& thing, bool describe) {
  json out = {{"thingName", thing.name},
              {"thingArn", ctx.arn("thing/" + thing.name)},
              {"attributes", json::parse(thing.attributes, nullptr, false)},
              {"version", thing.version}};
  if (thing.type_name) out["thingTypeName"] = *thing.type_name;
  if (describe) {
    out["defaultClientId"] = thing.name;
    out["thingId"] = thing.id;
  }
  return out;
}

ApiResult<Reply> create_thing(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, thing_name_param(request));
  ZT_API_TRY_ASSIGN(json body, json_body(request, false));
  ZT_API_TRY_ASSIGN(std::optional<std::string> type, string_member(body, "thingTypeName"));
  ZT_API_TRY_ASSIGN(AttributePayload payload, attribute_payload_of(body));
  const json& attributes = payload.attributes;
  // Without a thing type at most 3 attributes, 50 with one (reference §1.6 notes).
  if (attributes.size() > (type ? 50u : 3u)) {
    return invalid_request(type ? "at most 50 attributes"
                                : "at most 3 attributes without a thing type");
  }
  ZT_API_TRY(check_thing_type(ctx, type));
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_thing(name));
  if (existing) {
    // CreateThing is idempotent for an identical configuration.
    if (existing->type_name == type &&
        json::parse(existing->attributes, nullptr, false) == attributes) {
      return json_reply({{"thingName", existing->name},
                         {"thingArn", ctx.arn("thing/" + existing->name)},
                         {"thingId", existing->id}});
    }
    return already_exists("Thing " + name + " already exists with different tags or attributes",
                          existing->id, ctx.arn("thing/" + name));
  }
  Thing thing{.name = name,
              .id = new_uuid(),
              .type_name = type,
              .attributes = attributes.dump(),
              .version = 1};
  ZT_API_TRY(ctx.registry.insert_thing(thing));
  return json_reply({{"thingName", thing.name},
                     {"thingArn", ctx.arn("thing/" + thing.name)},
                     {"thingId", thing.id}});
}

ApiResult<Thing> require_thing(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, thing_name_param(request));
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_thing(name));
  if (!found) return not_found("Thing " + name + " cannot be found.");
  return std::move(*found);
}

ApiResult<Reply> describe_thing(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(Thing thing, require_thing(ctx, request));
  json out = thing_json(ctx, thing, true);
  ZT_API_TRY_ASSIGN(auto billing_group, ctx.registry.find_billing_group_for_thing(thing.name));
  if (billing_group) out["billingGroupName"] = *billing_group;
  return json_reply(out);
}

ApiResult<Reply> list_things(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "nextToken", "maxResults", 250));
  ZT_API_TRY_ASSIGN(bool prefix, query_bool(request, "usePrefixAttributeValue"));
  registry::ThingFilter filter{.type_name = request.query_value("thingTypeName"),
                               .attribute_name = request.query_value("attributeName"),
                               .attribute_value = request.query_value("attributeValue"),
                               .attribute_prefix = prefix};
  if (filter.attribute_value && !filter.attribute_name) {
    return invalid_request("attributeValue requires attributeName");
  }
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_things(page, filter));
  json items = json::array();
  for (const auto& thing : result.items) items.push_back(thing_json(ctx, thing, false));
  json out = {{"things", items}};
  if (!result.next_key.empty()) out["nextToken"] = page_token(result.next_key);
  return json_reply(out);
}

ApiResult<Reply> update_thing(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(Thing thing, require_thing(ctx, request));
  ZT_API_TRY_ASSIGN(json body, json_body(request, false));
  ZT_API_TRY_ASSIGN(auto expected, integer_member(body, "expectedVersion"));
  if (expected) {
    if (*expected != thing.version) {
      return api_error(
          409, "VersionConflictException",
          "The version for thing " + thing.name + " does not match the expected version.");
    }
  }
  ZT_API_TRY_ASSIGN(std::optional<std::string> type, string_member(body, "thingTypeName"));
  ZT_API_TRY_ASSIGN(auto remove_type, bool_member(body, "removeThingType"));
  if (remove_type.value_or(false)) {
    if (type) return invalid_request("removeThingType and thingTypeName are mutually exclusive");
    thing.type_name.reset();
  } else if (type) {
    ZT_API_TRY(check_thing_type(ctx, type));
    thing.type_name = type;
  }
  if (body.contains("attributePayload")) {
    ZT_API_TRY_ASSIGN(AttributePayload payload, attribute_payload_of(body));
    bool merge = payload.merge;
    json current = merge ? json::parse(thing.attributes, nullptr, false) : json::object();
    if (!current.is_object()) current = json::object();
    for (auto it = payload.attributes.begin(); it != payload.attributes.end(); ++it) {
      // An empty value removes the attribute, merging or not (UpdateThing docs: "To remove an
      // attribute, call UpdateThing with an empty attribute value"); without merge it is
      // simply not kept.
      if (it.value().get_ref<const std::string&>().empty()) {
        current.erase(it.key());
      } else {
        current[it.key()] = it.value();
      }
    }
    thing.attributes = current.dump();
  }
  thing.version += 1;
  ZT_API_TRY(ctx.registry.update_thing(thing));
  return no_content();
}

ApiResult<Reply> delete_thing(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, thing_name_param(request));
  ZT_API_TRY_ASSIGN(auto thing, ctx.registry.find_thing(name));
  if (!thing) return no_content();  // "Returns successfully … if … the thing doesn't exist"
  if (auto expected = request.query_value("expectedVersion")) {
    if (*expected != std::to_string(thing->version)) {
      return api_error(409, "VersionConflictException",
                       "The version for thing " + name + " does not match the expected version.");
    }
  }
  ZT_API_TRY_ASSIGN(auto principals,
                    ctx.registry.list_thing_principals(name, {.after = "", .limit = 1}));
  if (!principals.items.empty()) {
    return invalid_request("Cannot delete. Thing " + name +
                           " is still attached to one or more principals");
  }
  ZT_API_TRY(ctx.registry.delete_thing(name));
  return no_content();
}

ApiResult<Reply> create_thing_type(ServiceContext& ctx, const ApiRequest& request) {
  const std::string& name = request.path.at("thingTypeName");
  if (!valid_thing_name(name))
    return constraint_violation(name, "thingTypeName", "[a-zA-Z0-9:_-]+");
  ZT_API_TRY_ASSIGN(json body, json_body(request, false));
  ZT_API_TRY_ASSIGN(const json* given, object_member(body, "thingTypeProperties"));
  json properties = given ? *given : json::object();
  ZT_API_TRY(string_member(properties, "thingTypeDescription",
                           "thingTypeProperties.thingTypeDescription"));
  ZT_API_TRY_ASSIGN(
      const json* searchable,
      array_member(properties, "searchableAttributes", "thingTypeProperties.searchableAttributes"));
  if (searchable) {
    for (const auto& attribute : *searchable) {
      if (!attribute.is_string())
        return invalid_request("thingTypeProperties.searchableAttributes must hold strings");
    }
  }
  std::string arn = ctx.arn("thingtype/" + name);
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_thing_type(name));
  if (existing) {
    if (json::parse(existing->properties, nullptr, false) == properties) {
      return json_reply(
          {{"thingTypeName", name}, {"thingTypeArn", arn}, {"thingTypeId", existing->id}});
    }
    return already_exists("Thing type " + name + " already exists", existing->id, arn);
  }
  registry::ThingType type{.name = name,
                           .id = new_uuid(),
                           .properties = properties.dump(),
                           .creation_date = now_seconds()};
  ZT_API_TRY(ctx.registry.insert_thing_type(type));
  return json_reply({{"thingTypeName", name}, {"thingTypeArn", arn}, {"thingTypeId", type.id}});
}

ApiResult<Reply> describe_thing_type(ServiceContext& ctx, const ApiRequest& request) {
  const std::string& name = request.path.at("thingTypeName");
  if (!valid_thing_name(name))
    return constraint_violation(name, "thingTypeName", "[a-zA-Z0-9:_-]+");
  ZT_API_TRY_ASSIGN(auto type, ctx.registry.find_thing_type(name));
  if (!type) return not_found("Thing type " + name + " does not exist");
  return json_reply(thing_type_json(ctx, *type));
}

ApiResult<std::string> principal_header(const ApiRequest& request) {
  auto principal = request.header("x-amzn-principal");
  if (!principal || principal->empty())
    return invalid_request("the x-amzn-principal header (principal) is required");
  return std::move(*principal);
}

ApiResult<Reply> attach_thing_principal(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(Thing thing, require_thing(ctx, request));
  ZT_API_TRY_ASSIGN(std::string principal, principal_header(request));
  ZT_API_TRY(check_principal(ctx, principal));
  std::string type = request.query_value("thingPrincipalType").value_or("NON_EXCLUSIVE_THING");
  if (type != "NON_EXCLUSIVE_THING" && type != "EXCLUSIVE_THING") {
    return invalid_request("thingPrincipalType must be EXCLUSIVE_THING or NON_EXCLUSIVE_THING");
  }
  ZT_API_TRY(ctx.registry.attach_thing_principal(thing.name, principal, type));
  return no_content();
}

ApiResult<Reply> detach_thing_principal(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(Thing thing, require_thing(ctx, request));
  ZT_API_TRY_ASSIGN(std::string principal, principal_header(request));
  ZT_API_TRY(ctx.registry.detach_thing_principal(thing.name, principal));
  return no_content();
}

ApiResult<Reply> list_principal_things(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string principal, principal_header(request));
  ZT_API_TRY(check_principal(ctx, principal));
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "nextToken", "maxResults", 250));
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_principal_things(principal, page));
  json out = {{"things", result.items}};
  if (!result.next_key.empty()) out["nextToken"] = page_token(result.next_key);
  return json_reply(out);
}

ApiResult<Reply> list_thing_principals(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, thing_name_param(request));
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_thing(name));
  // The service's own wording for this call (recorded from AWS by moto's tests).
  if (!found) {
    return not_found("Failed to list principals for thing " + name +
                     " because the thing does not exist in your account");
  }
  const Thing& thing = *found;
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "nextToken", "maxResults", 250));
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_thing_principals(thing.name, page));
  json out = {{"principals", result.items}};
  if (!result.next_key.empty()) out["nextToken"] = page_token(result.next_key);
  return json_reply(out);
}

}  // namespace

void add_thing_routes(Router& r) {
  r.add("POST", "/thing-types/{thingTypeName}", "CreateThingType", create_thing_type);
  r.add("GET", "/thing-types/{thingTypeName}", "DescribeThingType", describe_thing_type);
  r.add("POST", "/things/{thingName}", "CreateThing", create_thing);
  r.add("GET", "/things/{thingName}", "DescribeThing", describe_thing);
  r.add("PATCH", "/things/{thingName}", "UpdateThing", update_thing);
  r.add("DELETE", "/things/{thingName}", "DeleteThing", delete_thing);
  r.add("GET", "/things", "ListThings", list_things);
  r.add("PUT", "/things/{thingName}/principals", "AttachThingPrincipal", attach_thing_principal);
  r.add("DELETE", "/things/{thingName}/principals", "DetachThingPrincipal", detach_thing_principal);
  r.add("GET", "/things/{thingName}/principals", "ListThingPrincipals", list_thing_principals);
  r.add("GET", "/principals/things", "ListPrincipalThings", list_principal_things);
}

}  // namespace zt::cloud::api
