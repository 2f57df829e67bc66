#include "cloud/api/attribute_payload.hpp"

#include "cloud/api/handler_util.hpp"

namespace zt::cloud::api {

using nlohmann::json;

ApiResult<AttributePayload> attribute_payload_of(const json& holder) {
  ZT_API_TRY_ASSIGN(const json* payload, object_member(holder, "attributePayload"));
  if (!payload) return AttributePayload{};
  auto merge = bool_member(*payload, "merge", "attributePayload.merge");
  auto attributes = object_member(*payload, "attributes", "attributePayload.attributes");
  ZT_API_TRY(merge);
  ZT_API_TRY(attributes);
  AttributePayload out{.attributes = json::object(), .merge = merge->value_or(false)};
  if (!*attributes) return out;
  for (auto it = (*attributes)->begin(); it != (*attributes)->end(); ++it) {
    if (!it.value().is_string() || it.key().empty() || it.key().size() > 128 ||
        it.value().get_ref<const std::string&>().size() > 800) {
      return invalid_request("attribute '" + it.key().substr(0, 64) +
                             "' must be a string of at most 800 characters");
    }
  }
  out.attributes = **attributes;
  return out;
}

std::string apply_attribute_payload(const std::string& stored, const AttributePayload& payload) {
  json current = payload.merge ? json::parse(stored, nullptr, false) : json::object();
  if (!current.is_object()) current = json::object();
  for (auto it = payload.attributes.begin(); it != payload.attributes.end(); ++it) {
    // An empty value removes the attribute (AttributePayload: "To remove an attribute, call
    // UpdateThing with an empty attribute value"), with merge or without.
    if (it.value().get_ref<const std::string&>().empty()) {
      current.erase(it.key());
    } else {
      current[it.key()] = it.value();
    }
  }
  return current.dump();
}

}  // namespace zt::cloud::api
