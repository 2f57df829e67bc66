// What the thing-group, dynamic-thing-group and billing-group handlers share: names from paths,
// bodies or ARNs, the GroupNameAndArn shape, version checks and the list replies.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cloud/api/handler_util.hpp"

namespace zt::cloud::api {

// A group or thing name from a path parameter, checked against [a-zA-Z0-9:_-]{1,128}.
ApiResult<std::string> name_param(const ApiRequest& request, const char* param);

// A name given either by name or by ARN in a body (AddThingToThingGroup's thingGroupName /
// thingGroupArn): the ARN's resource must be `<kind>/<name>` of this account and region.
ApiResult<std::optional<std::string>> name_or_arn(const ServiceContext& ctx,
                                                  const nlohmann::json& body, const char* name_key,
                                                  const char* arn_key, const char* kind);

// {"groupName", "groupArn"} (GroupNameAndArn) for a group of `kind` ("thinggroup" or
// "billinggroup").
nlohmann::json name_and_arn(const ServiceContext& ctx, const char* kind, const std::string& name);

// expectedVersion (a body member or a query parameter) against the stored version:
// VersionConflictException (409) when they differ.
ApiResult<void> check_expected_version(std::optional<int64_t> expected, int64_t version,
                                       const std::string& what);
ApiResult<std::optional<int64_t>> expected_version_query(const ApiRequest& request);

// A list reply: `key` → the items, nextToken when another page follows.
Reply list_reply(const char* key, nlohmann::json items, const std::string& next_key);

// ThingTypeDefinition (ListThingTypes) and DescribeThingType's answer: name, id, ARN, properties,
// metadata (deprecated, deprecationDate, creationDate).
nlohmann::json thing_type_json(const ServiceContext& ctx, const registry::ThingType& type);

// The routes add_thing_group_routes (service.hpp) adds besides its own.
void add_thing_group_member_routes(Router& router);  // handlers_thing_group_members.cpp
void add_billing_group_routes(Router& router);       // handlers_billing_groups.cpp
void add_thing_type_routes(Router& router);          // handlers_thing_types.cpp

}  // namespace zt::cloud::api
