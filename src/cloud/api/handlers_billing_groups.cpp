// Billing groups (AWS IoT API reference): Create/Describe/Update/Delete/List BillingGroup(s),
// Add/RemoveThingTo/FromBillingGroup, ListThingsInBillingGroup. A thing is in at most one billing
// group (the registry moves it when it is added to another).
#include "cloud/api/thing_group_util.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;
using registry::BillingGroup;

constexpr const char* kKind = "billinggroup";

std::string arn_of(const ServiceContext& ctx, const std::string& name) {
  return ctx.arn(std::string(kKind) + "/" + name);
}

ApiResult<std::optional<std::string>> description_of(const json& body) {
  ZT_API_TRY_ASSIGN(const json* properties, object_member(body, "billingGroupProperties"));
  if (!properties) return std::optional<std::string>();
  ZT_API_TRY_ASSIGN(auto description,
                    string_member(*properties, "billingGroupDescription",
                                  "billingGroupProperties.billingGroupDescription"));
  // BillingGroupDescription: at most 2028 characters.
  if (description && description->size() > 2028)
    return invalid_request("billingGroupDescription is longer than 2028 characters");
  return description;
}

ApiResult<BillingGroup> require_group(ServiceContext& ctx, const std::string& name) {
  ZT_API_TRY_ASSIGN(auto group, ctx.registry.find_billing_group(name));
  if (!group) return not_found("Billing group " + name + " does not exist");
  return std::move(*group);
}

ApiResult<Reply> create_billing_group(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, name_param(request, "billingGroupName"));
  ZT_API_TRY_ASSIGN(json body, json_body(request, false));
  ZT_API_TRY_ASSIGN(auto description, description_of(body));
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_billing_group(name));
  if (existing) {
    if (existing->description == description.value_or("")) {
      return json_reply({{"billingGroupName", name},
                         {"billingGroupArn", arn_of(ctx, name)},
                         {"billingGroupId", existing->id}});
    }
    return already_exists("Billing Group " + name + " already exists with different tags",
                          existing->id, arn_of(ctx, name));
  }
  BillingGroup group{.name = name,
                     .id = new_uuid(),
                     .description = description.value_or(""),
                     .creation_date = now_seconds()};
  ZT_API_TRY(ctx.registry.insert_billing_group(group));
  return json_reply({{"billingGroupName", name},
                     {"billingGroupArn", arn_of(ctx, name)},
                     {"billingGroupId", group.id}});
}

ApiResult<Reply> describe_billing_group(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, name_param(request, "billingGroupName"));
  ZT_API_TRY_ASSIGN(BillingGroup group, require_group(ctx, name));
  json properties = json::object();
  if (!group.description.empty()) properties["billingGroupDescription"] = group.description;
  return json_reply({{"billingGroupName", name},
                     {"billingGroupId", group.id},
                     {"billingGroupArn", arn_of(ctx, name)},
                     {"version", group.version},
                     {"billingGroupProperties", properties},
                     {"billingGroupMetadata", {{"creationDate", group.creation_date}}}});
}

ApiResult<Reply> update_billing_group(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, name_param(request, "billingGroupName"));
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(BillingGroup group, require_group(ctx, name));
  if (!body.contains("billingGroupProperties"))
    return invalid_request("billingGroupProperties is required");
  ZT_API_TRY_ASSIGN(auto expected, integer_member(body, "expectedVersion"));
  ZT_API_TRY(check_expected_version(expected, group.version, "billing group " + name));
  ZT_API_TRY_ASSIGN(auto description, description_of(body));
  group.description = description.value_or("");
  group.version += 1;
  ZT_API_TRY(ctx.registry.update_billing_group(group));
  return json_reply({{"version", group.version}});
}

ApiResult<Reply> delete_billing_group(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, name_param(request, "billingGroupName"));
  ZT_API_TRY_ASSIGN(auto expected, expected_version_query(request));
  ZT_API_TRY_ASSIGN(auto group, ctx.registry.find_billing_group(name));
  if (!group) return no_content();  // DeleteBillingGroup documents no ResourceNotFoundException
  ZT_API_TRY(check_expected_version(expected, group->version, "billing group " + name));
  ZT_API_TRY(ctx.registry.delete_billing_group(name));
  return no_content();
}

ApiResult<Reply> list_billing_groups(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "nextToken", "maxResults", 250));
  std::string prefix = request.query_value("namePrefixFilter").value_or("");
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_billing_groups(page, prefix));
  json items = json::array();
  for (const auto& group : result.items) items.push_back(name_and_arn(ctx, kKind, group.name));
  return list_reply("billingGroups", items, result.next_key);
}

struct Membership {
  std::string group;
  std::string thing;
};

ApiResult<Membership> membership_of(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(auto group,
                    name_or_arn(ctx, body, "billingGroupName", "billingGroupArn", kKind));
  ZT_API_TRY_ASSIGN(auto thing, name_or_arn(ctx, body, "thingName", "thingArn", "thing"));
  if (!group) return invalid_request("billingGroupName or billingGroupArn is required");
  if (!thing) return invalid_request("thingName or thingArn is required");
  ZT_API_TRY(require_group(ctx, *group));
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_thing(*thing));
  if (!found) return not_found("Thing " + *thing + " cannot be found.");
  return Membership{*group, *thing};
}

ApiResult<Reply> add_thing_to_billing_group(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(Membership m, membership_of(ctx, request));
  ZT_API_TRY(ctx.registry.add_thing_to_billing_group(m.group, m.thing));
  return no_content();
}

ApiResult<Reply> remove_thing_from_billing_group(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(Membership m, membership_of(ctx, request));
  ZT_API_TRY(ctx.registry.remove_thing_from_billing_group(m.group, m.thing));
  return no_content();
}

ApiResult<Reply> list_things_in_billing_group(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, name_param(request, "billingGroupName"));
  ZT_API_TRY(require_group(ctx, name));
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "nextToken", "maxResults", 250));
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_things_in_billing_group(name, page));
  return list_reply("things", result.items, result.next_key);
}

}  // namespace

void add_billing_group_routes(Router& r) {
  r.add("PUT", "/billing-groups/addThingToBillingGroup", "AddThingToBillingGroup",
        add_thing_to_billing_group);
  r.add("PUT", "/billing-groups/removeThingFromBillingGroup", "RemoveThingFromBillingGroup",
        remove_thing_from_billing_group);
  r.add("POST", "/billing-groups/{billingGroupName}", "CreateBillingGroup", create_billing_group);
  r.add("GET", "/billing-groups/{billingGroupName}", "DescribeBillingGroup",
        describe_billing_group);
  r.add("PATCH", "/billing-groups/{billingGroupName}", "UpdateBillingGroup", update_billing_group);
  r.add("DELETE", "/billing-groups/{billingGroupName}", "DeleteBillingGroup", delete_billing_group);
  r.add("GET", "/billing-groups", "ListBillingGroups", list_billing_groups);
  r.add("GET", "/billing-groups/{billingGroupName}/things", "ListThingsInBillingGroup",
        list_things_in_billing_group);
}

}  // namespace zt::cloud::api
