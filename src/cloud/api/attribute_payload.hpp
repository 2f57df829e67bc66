// attributePayload (AWS IoT's AttributePayload: {"attributes": {name: value}, "merge": bool}) as
// things, thing groups and dynamic thing groups take it: parsed with AWS's bounds and applied to
// the stored attributes.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cloud/api/router.hpp"

namespace zt::cloud::api {

struct AttributePayload {
  nlohmann::json attributes = nlohmann::json::object();  // string → string
  bool merge = false;
};

// The "attributePayload" member of `holder` (absent → empty, merge false). Each value a string of
// at most 800 characters, each name 1..128 characters.
ApiResult<AttributePayload> attribute_payload_of(const nlohmann::json& holder);

// The stored attributes (JSON object text) after `payload`: with merge, its names replace or add
// and an empty value removes one; without, the payload's attributes replace all of them.
std::string apply_attribute_payload(const std::string& stored, const AttributePayload& payload);

}  // namespace zt::cloud::api
