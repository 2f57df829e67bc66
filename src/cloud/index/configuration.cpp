#include "cloud/index/configuration.hpp"

#include <algorithm>
#include <cctype>
#include <initializer_list>

#include "common/json.hpp"

namespace zt::cloud::index {
namespace {

using nlohmann::json;

Error invalid(std::string message) {
  return make_error(Errc::invalid_argument, std::move(message));
}

bool one_of(std::string_view value, std::initializer_list<std::string_view> allowed) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

// A mode member: absent → `fallback`; else one of `allowed` (AWS's enum).
Result<std::string> mode_member(const json& object, std::string_view key, std::string fallback,
                                std::initializer_list<std::string_view> allowed) {
  ZT_TRY_ASSIGN(auto value, string_member(object, key));
  if (!value) return fallback;
  if (!one_of(*value, allowed)) {
    std::string list;
    for (auto option : allowed) list += (list.empty() ? "" : ", ") + std::string(option);
    return invalid("1 validation error detected: Value '" + *value + "' at '" + std::string(key) +
                   "' failed to satisfy constraint: Member must satisfy enum value set: [" + list +
                   "]");
  }
  return *value;
}

// Managed fields (developer guide, "Managed fields"), by data source.
std::vector<Field> managed_thing_fields(const IndexingConfiguration& c) {
  std::vector<Field> fields;
  if (!c.things_indexed()) return fields;
  fields = {{"thingId", "String"},
            {"thingName", "String"},
            {"registry.version", "Number"},
            {"registry.thingTypeName", "String"},
            {"registry.thingGroupNames", "String"}};
  if (c.shadow_indexed()) {
    fields.push_back({"shadow.version", "Number"});
    fields.push_back({"shadow.hasDelta", "Boolean"});
  }
  if (c.named_shadows_indexed()) {
    fields.push_back({"shadow.name.*.version", "Number"});
    fields.push_back({"shadow.name.*.hasDelta", "Boolean"});
  }
  if (c.connectivity_indexed()) {
    fields.push_back({"connectivity.timestamp", "Number"});
    fields.push_back({"connectivity.version", "Number"});
    fields.push_back({"connectivity.connected", "Boolean"});
    fields.push_back({"connectivity.disconnectReason", "String"});
  }
  return fields;
}

std::vector<Field> managed_group_fields(const IndexingConfiguration& c) {
  if (!c.thing_groups_indexed()) return {};
  return {{"description", "String"},
          {"parentGroupNames", "String"},
          {"thingGroupId", "String"},
          {"thingGroupName", "String"},
          {"version", "Number"}};
}

json fields_json(const std::vector<Field>& fields) {
  json out = json::array();
  for (const auto& field : fields) out.push_back({{"name", field.name}, {"type", field.type}});
  return out;
}

bool name_characters(std::string_view name, std::string_view extra) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || extra.find(c) != std::string_view::npos;
  });
}

// customFields: [{name, type}]; "Custom field names ... begin with attributes. ... shadow.desired
// or shadow.reported ... shadow.name.*.desired. or shadow.name.*.reported. ... deviceDefender.";
// "Managed fields can't be changed or appear in customFields".
Result<std::vector<Field>> custom_fields(const json& object, const IndexingConfiguration& c,
                                         bool groups) {
  ZT_TRY_ASSIGN(const json* list, array_member(object, "customFields"));
  std::vector<Field> fields;
  if (list == nullptr) return fields;
  if (list->size() > kMaxCustomFields) {
    return invalid("At most " + std::to_string(kMaxCustomFields) + " custom fields are allowed");
  }
  auto managed = groups ? managed_group_fields(c) : managed_thing_fields(c);
  for (const json& entry : *list) {
    ZT_TRY_ASSIGN(auto name, string_member(entry, "name", "customFields.name"));
    ZT_TRY_ASSIGN(auto type, string_member(entry, "type", "customFields.type"));
    if (!name || name->empty() || name->size() > 256) {
      return invalid("A custom field needs a name of 1 to 256 characters");
    }
    if (!type || !one_of(*type, {"Number", "String", "Boolean"})) {
      return invalid("The type of custom field " + *name + " must be Number, String or Boolean");
    }
    if (std::any_of(managed.begin(), managed.end(),
                    [&](const Field& f) { return f.name == *name; })) {
      return invalid("Managed field " + *name + " cannot be a custom field");
    }
    std::string_view rest;
    std::string_view text = *name;
    if (text.starts_with("attributes.")) {
      rest = text.substr(11);
    } else if (!groups &&
               (text.starts_with("shadow.desired.") || text.starts_with("shadow.reported."))) {
      if (!c.shadow_indexed()) {
        return invalid("Custom field " + *name + " needs thingIndexingMode REGISTRY_AND_SHADOW");
      }
      rest = text.substr(text.find('.', 7) + 1);
    } else if (!groups && text.starts_with("shadow.name.")) {
      if (!c.named_shadows_indexed()) {
        return invalid("Custom field " + *name + " needs namedShadowIndexingMode ON");
      }
      rest = text.substr(12);
    } else if (!groups && text.starts_with("deviceDefender.")) {
      rest = text.substr(15);
    } else {
      return invalid("Custom field " + *name + " is not an attributes." +
                     std::string(groups ? "" : ", shadow. or deviceDefender.") + " field");
    }
    if (!name_characters(rest, "-_.*:")) {
      return invalid("Custom field " + *name + " may hold only alphanumeric, - and _ characters");
    }
    if (std::any_of(fields.begin(), fields.end(),
                    [&](const Field& f) { return f.name == *name; })) {
      return invalid("Custom field " + *name + " is listed twice");
    }
    fields.push_back({*name, *type});
  }
  return fields;
}

Status apply_things(IndexingConfiguration& c, const json& thing) {
  if (!thing.is_object()) return invalid("thingIndexingConfiguration must be an object");
  if (!thing.contains("thingIndexingMode")) {
    return invalid("thingIndexingConfiguration.thingIndexingMode is required");
  }
  ZT_TRY_ASSIGN(c.thing_indexing_mode, mode_member(thing, "thingIndexingMode", "OFF",
                                                   {"OFF", "REGISTRY", "REGISTRY_AND_SHADOW"}));
  ZT_TRY_ASSIGN(c.thing_connectivity_indexing_mode,
                mode_member(thing, "thingConnectivityIndexingMode", "OFF", {"OFF", "STATUS"}));
  ZT_TRY_ASSIGN(c.device_defender_indexing_mode,
                mode_member(thing, "deviceDefenderIndexingMode", "OFF", {"OFF", "VIOLATIONS"}));
  ZT_TRY_ASSIGN(c.named_shadow_indexing_mode,
                mode_member(thing, "namedShadowIndexingMode", "OFF", {"OFF", "ON"}));
  // API reference, ThingIndexingConfiguration: "To enable thing connectivity indexing,
  // thingIndexMode must not be set to OFF" (likewise Device Defender and named shadows).
  if (!c.things_indexed()) {
    if (c.thing_connectivity_indexing_mode != "OFF") {
      return invalid(
          "To enable thing connectivity indexing, thingIndexMode must not be set to OFF");
    }
    if (c.device_defender_indexing_mode != "OFF") {
      return invalid("To enable Device Defender indexing, thingIndexMode must not be set to OFF");
    }
    if (c.named_shadow_indexing_mode != "OFF") {
      return invalid("To enable named shadow indexing, thingIndexMode must not be set to OFF");
    }
  }
  c.named_shadow_names.clear();
  c.geo_locations = json::array();
  ZT_TRY_ASSIGN(const json* filter, object_member(thing, "filter"));
  if (filter != nullptr) {
    ZT_TRY_ASSIGN(const json* names,
                  array_member(*filter, "namedShadowNames", "filter.namedShadowNames"));
    if (names != nullptr) {
      if (names->size() > kMaxNamedShadowNames) {
        return invalid("At most " + std::to_string(kMaxNamedShadowNames) +
                       " named shadows can be indexed");
      }
      for (const json& name : *names) {
        if (!name.is_string() || name.get_ref<const std::string&>().size() > 64 ||
            !name_characters(name.get_ref<const std::string&>(), ":_-")) {
          return invalid(
              "filter.namedShadowNames: Member must satisfy regular expression pattern: "
              "[a-zA-Z0-9:_-]+");
        }
        c.named_shadow_names.push_back(name.get<std::string>());
      }
    }
    ZT_TRY_ASSIGN(const json* geo, array_member(*filter, "geoLocations", "filter.geoLocations"));
    if (geo != nullptr) c.geo_locations = *geo;
  }
  ZT_TRY_ASSIGN(c.custom_fields, custom_fields(thing, c, false));
  return ok();
}

Status apply_groups(IndexingConfiguration& c, const json& group) {
  if (!group.is_object()) return invalid("thingGroupIndexingConfiguration must be an object");
  if (!group.contains("thingGroupIndexingMode")) {
    return invalid("thingGroupIndexingConfiguration.thingGroupIndexingMode is required");
  }
  ZT_TRY_ASSIGN(c.thing_group_indexing_mode,
                mode_member(group, "thingGroupIndexingMode", "OFF", {"OFF", "ON"}));
  ZT_TRY_ASSIGN(c.thing_group_custom_fields, custom_fields(group, c, true));
  return ok();
}

std::vector<Field> fields_of(const json& list) {
  std::vector<Field> fields;
  if (!list.is_array()) return fields;
  for (const json& entry : list) {
    if (entry.is_object() && entry.value("name", json()).is_string() &&
        entry.value("type", json()).is_string()) {
      fields.push_back({entry["name"].get<std::string>(), entry["type"].get<std::string>()});
    }
  }
  return fields;
}

std::string string_or(const json& object, const char* key, std::string fallback) {
  auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : fallback;
}

}  // namespace

Result<IndexingConfiguration> apply_update(const IndexingConfiguration& current, const json& body) {
  IndexingConfiguration next = current;
  bool any = false;
  if (auto thing = body.find("thingIndexingConfiguration");
      thing != body.end() && !thing->is_null()) {
    ZT_TRY(apply_things(next, *thing));
    any = true;
  }
  if (auto group = body.find("thingGroupIndexingConfiguration");
      group != body.end() && !group->is_null()) {
    ZT_TRY(apply_groups(next, *group));
    any = true;
  }
  if (!any) {
    return invalid("thingIndexingConfiguration or thingGroupIndexingConfiguration is required");
  }
  return next;
}

json to_response(const IndexingConfiguration& c) {
  json thing = {{"thingIndexingMode", c.thing_indexing_mode},
                {"thingConnectivityIndexingMode", c.thing_connectivity_indexing_mode}};
  if (c.device_defender_indexing_mode != "OFF") {
    thing["deviceDefenderIndexingMode"] = c.device_defender_indexing_mode;
  }
  if (c.named_shadow_indexing_mode != "OFF")
    thing["namedShadowIndexingMode"] = c.named_shadow_indexing_mode;
  if (auto managed = managed_thing_fields(c); !managed.empty())
    thing["managedFields"] = fields_json(managed);
  if (!c.custom_fields.empty()) thing["customFields"] = fields_json(c.custom_fields);
  if (!c.named_shadow_names.empty() || !c.geo_locations.empty()) {
    json filter = json::object();
    if (!c.named_shadow_names.empty()) filter["namedShadowNames"] = c.named_shadow_names;
    if (!c.geo_locations.empty()) filter["geoLocations"] = c.geo_locations;
    thing["filter"] = filter;
  }
  json group = {{"thingGroupIndexingMode", c.thing_group_indexing_mode}};
  if (auto managed = managed_group_fields(c); !managed.empty())
    group["managedFields"] = fields_json(managed);
  if (!c.thing_group_custom_fields.empty())
    group["customFields"] = fields_json(c.thing_group_custom_fields);
  return {{"thingIndexingConfiguration", thing}, {"thingGroupIndexingConfiguration", group}};
}

std::string to_storage(const IndexingConfiguration& c) {
  return json{{"thingIndexingMode", c.thing_indexing_mode},
              {"thingConnectivityIndexingMode", c.thing_connectivity_indexing_mode},
              {"deviceDefenderIndexingMode", c.device_defender_indexing_mode},
              {"namedShadowIndexingMode", c.named_shadow_indexing_mode},
              {"namedShadowNames", c.named_shadow_names},
              {"geoLocations", c.geo_locations},
              {"customFields", fields_json(c.custom_fields)},
              {"thingGroupIndexingMode", c.thing_group_indexing_mode},
              {"thingGroupCustomFields", fields_json(c.thing_group_custom_fields)}}
      .dump();
}

IndexingConfiguration from_storage(std::string_view text) {
  IndexingConfiguration c;
  json stored = json::parse(text, nullptr, false);
  if (!stored.is_object()) return c;
  c.thing_indexing_mode = string_or(stored, "thingIndexingMode", "OFF");
  c.thing_connectivity_indexing_mode = string_or(stored, "thingConnectivityIndexingMode", "OFF");
  c.device_defender_indexing_mode = string_or(stored, "deviceDefenderIndexingMode", "OFF");
  c.named_shadow_indexing_mode = string_or(stored, "namedShadowIndexingMode", "OFF");
  if (auto names = stored.find("namedShadowNames"); names != stored.end() && names->is_array()) {
    for (const json& name : *names) {
      if (name.is_string()) c.named_shadow_names.push_back(name.get<std::string>());
    }
  }
  if (auto geo = stored.find("geoLocations"); geo != stored.end() && geo->is_array())
    c.geo_locations = *geo;
  c.custom_fields = fields_of(stored.value("customFields", json()));
  c.thing_group_indexing_mode = string_or(stored, "thingGroupIndexingMode", "OFF");
  c.thing_group_custom_fields = fields_of(stored.value("thingGroupCustomFields", json()));
  return c;
}

std::string things_schema(const IndexingConfiguration& c) {
  std::string schema = c.shadow_indexed() ? "REGISTRY_AND_SHADOW" : "REGISTRY";
  if (c.connectivity_indexed()) schema += "_AND_CONNECTIVITY_STATUS";
  return schema;
}

std::optional<std::string> aggregation_field_type(const IndexingConfiguration& c,
                                                  std::string_view field) {
  // Managed fields go by their query names: registry.thingTypeName is searched as thingTypeName.
  std::string name(field);
  if (name == "thingTypeName" || name == "thingGroupNames") name = "registry." + name;
  for (const auto& list : {managed_thing_fields(c), c.custom_fields}) {
    for (const auto& candidate : list) {
      if (candidate.name == name) return candidate.type;
      if (candidate.name.starts_with("shadow.name.*.") && name.starts_with("shadow.name.")) {
        std::string_view rest = std::string_view(name).substr(12);
        std::size_t dot = rest.find('.');
        if (dot != std::string_view::npos && rest.substr(dot + 1) == candidate.name.substr(14)) {
          return candidate.type;
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace zt::cloud::index
