// parse_template: the checks AWS IoT makes when a template is stored (CreateProvisioningTemplate,
// CreateProvisioningTemplateVersion, a CA's registration config), each refused with
// InvalidRequestException and its reason. The rules are the developer guide's "Provisioning
// templates" page: the sections, the three resource types and their properties, OverrideSettings
// (DO_NOTHING, REPLACE, FAIL; MERGE only for a thing's AttributePayload and ThingGroups; none for
// policies), "PolicyName or PolicyDocument, but not both", Mappings without intrinsic functions.
#include <set>

#include "cloud/provisioning/intrinsics.hpp"
#include "cloud/provisioning/template.hpp"
#include "common/json.hpp"

namespace zt::cloud::provisioning {
namespace {

using nlohmann::json;

Error invalid(std::string message) {
  return make_error(Errc::invalid_argument, std::move(message));
}

const std::set<std::string> kSections = {"Parameters", "Resources",   "Mappings",
                                         "Conditions", "Description", "DeviceConfiguration",
                                         "Version"};
const std::set<std::string> kThingProperties = {"ThingName",     "AttributePayload",
                                                "ThingTypeName", "ThingGroups",
                                                "BillingGroup",  "PackageVersions"};
const std::set<std::string> kCertificateProperties = {
    "CertificateId", "CertificateSigningRequest", "CertificatePem", "CACertificatePem", "Status"};
const std::set<std::string> kPolicyProperties = {"PolicyName", "PolicyDocument"};

Result<ParameterDeclaration> parse_parameter(const std::string& name, const json& declaration) {
  if (!declaration.is_object())
    return invalid("Template error: parameter " + name + " must be an object");
  ParameterDeclaration out;
  auto type = declaration.find("Type");
  if (type == declaration.end() || !type->is_string())
    return invalid("Template error: parameter " + name + " has no Type");
  const auto& type_name = type->get_ref<const std::string&>();
  if (type_name == "String")
    out.type = ParameterType::string;
  else if (type_name == "Number")
    out.type = ParameterType::number;
  else if (type_name == "CommaDelimitedList")
    out.type = ParameterType::comma_delimited_list;
  else
    return invalid("Template error: parameter " + name + " has unsupported Type " + type_name);
  for (const auto& [key, value] : declaration.items()) {
    if (key != "Type" && key != "Default" && key != "Description")
      return invalid("Template error: parameter " + name + " has unsupported attribute " + key);
  }
  if (auto fallback = declaration.find("Default"); fallback != declaration.end()) {
    bool fits =
        fallback->is_string() || (out.type == ParameterType::number && fallback->is_number());
    if (!fits)
      return invalid("Template error: the Default of parameter " + name + " must be a string");
    out.default_value = *fallback;
  }
  return out;
}

Status check_mappings(const json& mappings) {
  if (!mappings.is_object()) return invalid("Template error: Mappings must be an object");
  // AWS IoT: "You cannot include parameters, pseudo parameters, or call intrinsic functions in
  // the Mappings section."
  for (const auto& [map_name, map] : mappings.items()) {
    if (!map.is_object() || is_intrinsic(map))
      return invalid("Template error: mapping " + map_name + " must be an object of keys");
    for (const auto& [key, values] : map.items()) {
      if (!values.is_object() || is_intrinsic(values))
        return invalid("Template error: Mappings." + map_name + "." + key + " must be an object");
      for (const auto& [name, value] : values.items()) {
        bool list_of_strings = value.is_array();
        if (list_of_strings) {
          for (const auto& item : value) list_of_strings = list_of_strings && item.is_string();
        }
        if (!value.is_string() && !list_of_strings) {
          return invalid("Template error: Mappings." + map_name + "." + key + "." + name +
                         " must be a string or a list of strings");
        }
      }
    }
  }
  return ok();
}

Status check_override_settings(const std::string& logical, const std::string& type,
                               const json& resource) {
  auto settings = resource.find("OverrideSettings");
  if (settings == resource.end()) return ok();
  if (type == "AWS::IoT::Policy")
    return invalid("Template error: OverrideSettings are not available for policy resources (" +
                   logical + ")");
  if (!settings->is_object())
    return invalid("Template error: OverrideSettings of " + logical + " must be an object");
  for (const auto& [property, action] : settings->items()) {
    bool known = type == "AWS::IoT::Thing"
                     ? (property == "AttributePayload" || property == "ThingTypeName" ||
                        property == "ThingGroups")
                     : property == "Status";
    if (!known) {
      return invalid("Template error: OverrideSettings of " + logical + " cannot name " + property);
    }
    std::string value = action.is_string() ? action.get<std::string>() : "";
    if (value != "DO_NOTHING" && value != "REPLACE" && value != "FAIL" && value != "MERGE") {
      return invalid("Template error: OverrideSettings." + property + " of " + logical +
                     " must be DO_NOTHING, REPLACE, FAIL or MERGE");
    }
    if (value == "MERGE" && property != "AttributePayload" && property != "ThingGroups") {
      return invalid(
          "Template error: MERGE is valid only for a thing's AttributePayload and "
          "ThingGroups, not " +
          property + " of " + logical);
    }
  }
  return ok();
}

Status check_resource(const std::string& logical, const json& resource, const CheckScope& scope,
                      int& things, int& certificates) {
  if (!resource.is_object())
    return invalid("Template error: resource " + logical + " must be an object");
  for (const auto& [key, value] : resource.items()) {
    if (key != "Type" && key != "Properties" && key != "OverrideSettings" && key != "Condition")
      return invalid("Template error: resource " + logical + " has unsupported attribute " + key);
  }
  auto type = resource.find("Type");
  if (type == resource.end() || !type->is_string())
    return invalid("Template error: resource " + logical + " has no Type");
  const auto& type_name = type->get_ref<const std::string&>();
  const std::set<std::string>* allowed = nullptr;
  if (type_name == "AWS::IoT::Thing") {
    allowed = &kThingProperties;
    ++things;
  } else if (type_name == "AWS::IoT::Certificate") {
    allowed = &kCertificateProperties;
    ++certificates;
  } else if (type_name == "AWS::IoT::Policy") {
    allowed = &kPolicyProperties;
  } else {
    return invalid("Template error: resource " + logical + " has unsupported Type " + type_name +
                   " (AWS::IoT::Thing, AWS::IoT::Certificate or AWS::IoT::Policy)");
  }
  if (auto condition = resource.find("Condition"); condition != resource.end()) {
    if (!condition->is_string() || !scope.conditions->contains(condition->get<std::string>()))
      return invalid("Template error: resource " + logical + " names an undeclared Condition");
  }
  auto properties = resource.find("Properties");
  if (properties == resource.end() || !properties->is_object())
    return invalid("Template error: resource " + logical + " has no Properties object");
  for (const auto& [key, value] : properties->items()) {
    if (!allowed->count(key))
      return invalid("Template error: resource " + logical + " has unsupported property " + key);
    ZT_TRY(check_value(value, scope, "Resources." + logical + ".Properties." + key));
  }
  if (type_name == "AWS::IoT::Thing" && !properties->contains("ThingName"))
    return invalid("Template error: thing resource " + logical + " has no ThingName");
  if (type_name == "AWS::IoT::Policy" &&
      properties->contains("PolicyName") == properties->contains("PolicyDocument")) {
    return invalid("Template error: policy resource " + logical +
                   " must specify PolicyName or PolicyDocument, but not both");
  }
  if (type_name == "AWS::IoT::Certificate") {
    int ways = 0;
    for (const char* key : {"CertificateId", "CertificateSigningRequest", "CertificatePem"})
      ways += properties->contains(key) ? 1 : 0;
    if (ways != 1) {
      return invalid("Template error: certificate resource " + logical +
                     " must specify exactly one of CertificateId, CertificateSigningRequest, "
                     "CertificatePem");
    }
  }
  return check_override_settings(logical, type_name, resource);
}

}  // namespace

Result<Template> parse_template(std::string_view body) {
  if (body.size() > kMaxTemplateBody) {
    return invalid("templateBody is longer than " + std::to_string(kMaxTemplateBody) +
                   " characters");
  }
  auto parsed = parse_json(body, kMaxTemplateDepth);
  if (!parsed) {
    if (parsed.error().code == Errc::invalid_argument)
      return invalid("Template error: the template nests deeper than " +
                     std::to_string(kMaxTemplateDepth) + " levels");
    return invalid("Template error: the template is not valid JSON");
  }
  Template out;
  out.document = std::move(*parsed);
  const json& document = out.document;
  if (!document.is_object()) return invalid("Template error: the template must be a JSON object");
  for (const auto& [key, value] : document.items()) {
    if (!kSections.count(key)) return invalid("Template error: unsupported section " + key);
  }
  static const json kEmpty = json::object();
  auto section = [&](const char* name) -> Result<const json*> {
    auto found = document.find(name);
    if (found == document.end()) return &kEmpty;
    if (!found->is_object())
      return invalid(std::string("Template error: ") + name + " must be an object");
    return &*found;
  };
  ZT_TRY_ASSIGN(const json* parameters, section("Parameters"));
  ZT_TRY_ASSIGN(const json* resources, section("Resources"));
  ZT_TRY_ASSIGN(const json* mappings, section("Mappings"));
  ZT_TRY_ASSIGN(const json* conditions, section("Conditions"));
  ZT_TRY_ASSIGN(const json* configuration, section("DeviceConfiguration"));
  if (!document.contains("Resources"))
    return invalid("Template error: the template has no Resources");
  for (const auto& [name, declaration] : parameters->items()) {
    ZT_TRY_ASSIGN(out.parameters[name], parse_parameter(name, declaration));
  }
  ZT_TRY(check_mappings(*mappings));
  CheckScope scope{.parameters = &out.parameters, .mappings = mappings, .conditions = conditions};
  ZT_TRY(check_conditions(scope));
  int things = 0;
  int certificates = 0;
  for (const auto& [logical, resource] : resources->items())
    ZT_TRY(check_resource(logical, resource, scope, things, certificates));
  // A template provisions one device: "a thing, a certificate, and one or more IoT policies".
  if (things > 1) return invalid("Template error: a template declares at most one thing resource");
  if (certificates > 1)
    return invalid("Template error: a template declares at most one certificate resource");
  // AWS IoT: "The DeviceConfiguration section doesn't support nested JSON objects."
  for (const auto& [key, value] : configuration->items()) {
    if ((value.is_object() && !is_intrinsic(value)) || value.is_array())
      return invalid("Template error: DeviceConfiguration." + key + " must not be a nested object");
    ZT_TRY(check_value(value, scope, "DeviceConfiguration." + key));
  }
  return out;
}

}  // namespace zt::cloud::provisioning
