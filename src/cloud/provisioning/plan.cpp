#include "cloud/provisioning/plan.hpp"

#include "cloud/policy/policy.hpp"
#include "cloud/provisioning/intrinsics.hpp"
#include "common/hex.hpp"
#include "crypto/digest.hpp"

namespace zt::cloud::provisioning {
namespace {

using nlohmann::json;

Error invalid(std::string message) {
  return make_error(Errc::invalid_argument, std::move(message));
}

Override override_of(const json& resource, const char* property, Override fallback) {
  auto settings = resource.find("OverrideSettings");
  if (settings == resource.end() || !settings->is_object()) return fallback;
  auto value = settings->find(property);
  if (value == settings->end() || !value->is_string()) return fallback;
  const auto& text = value->get_ref<const std::string&>();
  if (text == "REPLACE") return Override::replace;
  if (text == "FAIL") return Override::fail;
  if (text == "MERGE") return Override::merge;
  return Override::do_nothing;
}

Result<std::string> string_property(const json& properties, const char* name,
                                    const std::string& logical) {
  auto value = properties.find(name);
  if (value == properties.end() || !value->is_string())
    return invalid(std::string(name) + " of " + logical + " must evaluate to a string");
  return value->get<std::string>();
}

Result<ThingPlan> thing_plan(const std::string& logical, const json& resource,
                             const json& properties) {
  ThingPlan out;
  out.logical_name = logical;
  ZT_TRY_ASSIGN(out.name, string_property(properties, "ThingName", logical));
  if (properties.contains("ThingTypeName")) {
    ZT_TRY_ASSIGN(out.type_name, string_property(properties, "ThingTypeName", logical));
  }
  if (properties.contains("BillingGroup")) {
    ZT_TRY_ASSIGN(out.billing_group, string_property(properties, "BillingGroup", logical));
  }
  if (auto attributes = properties.find("AttributePayload"); attributes != properties.end()) {
    if (!attributes->is_object())
      return invalid("AttributePayload of " + logical + " must be an object of strings");
    std::map<std::string, std::string> values;
    for (const auto& [name, value] : attributes->items()) {
      if (!value.is_string())
        return invalid("AttributePayload." + name + " of " + logical + " must be a string");
      values[name] = value.get<std::string>();
    }
    out.attributes = std::move(values);
  }
  if (auto groups = properties.find("ThingGroups"); groups != properties.end()) {
    if (!groups->is_array()) return invalid("ThingGroups of " + logical + " must be a list");
    std::vector<std::string> names;
    for (const auto& group : *groups) {
      if (!group.is_string()) return invalid("ThingGroups of " + logical + " must list strings");
      names.push_back(group.get<std::string>());
    }
    out.groups = std::move(names);
  }
  out.attributes_override = override_of(resource, "AttributePayload", Override::do_nothing);
  out.type_override = override_of(resource, "ThingTypeName", Override::do_nothing);
  out.groups_override = override_of(resource, "ThingGroups", Override::do_nothing);
  return out;
}

Result<CertificatePlan> certificate_plan(const std::string& logical, const json& resource,
                                         const json& properties) {
  CertificatePlan out;
  out.logical_name = logical;
  if (properties.contains("CertificateId")) {
    ZT_TRY_ASSIGN(out.certificate_id, string_property(properties, "CertificateId", logical));
  }
  if (properties.contains("CertificatePem")) {
    ZT_TRY_ASSIGN(out.certificate_pem, string_property(properties, "CertificatePem", logical));
  }
  out.has_csr = properties.contains("CertificateSigningRequest");
  if (properties.contains("Status")) {
    ZT_TRY_ASSIGN(std::string status, string_property(properties, "Status", logical));
    // The developer guide's own example writes "Active": the status is read without regard to case.
    for (auto& c : status) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (status != "ACTIVE" && status != "INACTIVE")
      return invalid("Status of " + logical + " must be ACTIVE or INACTIVE");
    out.status = status;
  }
  out.status_override = override_of(resource, "Status", Override::replace);
  return out;
}

Result<PolicyPlan> policy_plan(const std::string& logical, const json& properties) {
  PolicyPlan out;
  out.logical_name = logical;
  if (properties.contains("PolicyName")) {
    ZT_TRY_ASSIGN(out.name, string_property(properties, "PolicyName", logical));
    return out;
  }
  auto found = properties.find("PolicyDocument");
  if (found == properties.end())
    return invalid(logical + " must specify PolicyName or PolicyDocument");
  const json& document = *found;
  std::string text;
  if (document.is_string()) {
    text = document.get<std::string>();
    auto parsed = json::parse(text, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object())
      return invalid("PolicyDocument of " + logical + " is not a JSON object");
  } else if (document.is_object()) {
    text = document.dump();
  } else {
    return invalid("PolicyDocument of " + logical + " must be a JSON object");
  }
  // The document as CreatePolicy would take it (cloud/policy's parser).
  if (auto policy = policy::parse_policy(text); !policy)
    return invalid("PolicyDocument of " + logical + ": " + policy.error().message);
  out.name = policy_name_for_document(text);
  out.document = std::move(text);
  return out;
}

}  // namespace

std::string policy_name_for_document(const std::string& document) {
  auto digest = crypto::sha256(as_bytes(document));
  return to_hex(digest);
}

Result<json> resolve_parameters(const Template& parsed, const json& parameters) {
  json values = json::object();
  for (const auto& [name, declaration] : parsed.parameters) {
    const json* given = nullptr;
    if (parameters.is_object()) {
      if (auto found = parameters.find(name); found != parameters.end() && !found->is_null())
        given = &*found;
    }
    if (!given && declaration.default_value) given = &*declaration.default_value;
    if (!given) return invalid("Parameter " + name + " has no value and no Default");
    switch (declaration.type) {
      case ParameterType::string:
        if (!given->is_string()) return invalid("Parameter " + name + " must be a string");
        values[name] = *given;
        break;
      case ParameterType::number: {
        std::string text = given->is_string() ? given->get<std::string>() : given->dump();
        char* end = nullptr;
        (void)std::strtod(text.c_str(), &end);
        if ((!given->is_string() && !given->is_number()) || text.empty() || *end != '\0')
          return invalid("Parameter " + name + " must be a number");
        values[name] = text;
        break;
      }
      case ParameterType::comma_delimited_list: {
        if (!given->is_string()) return invalid("Parameter " + name + " must be a string");
        json list = json::array();
        const std::string text = given->get<std::string>();
        size_t start = 0;
        while (true) {
          if (list.size() >= EvaluationLimits{}.max_list)
            return invalid("Parameter " + name + " lists too many values");
          size_t comma = text.find(',', start);
          list.push_back(text.substr(start, comma == std::string::npos ? comma : comma - start));
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
        values[name] = std::move(list);
        break;
      }
    }
  }
  return values;
}

Result<Plan> evaluate(const Template& parsed, const json& parameters, EvaluationLimits limits) {
  ZT_TRY_ASSIGN(json values, resolve_parameters(parsed, parameters));
  Evaluator evaluator(parsed.document, std::move(values), limits);
  Plan plan;
  const json& document = parsed.document;
  if (auto resources = document.find("Resources"); resources != document.end()) {
    for (const auto& [logical, resource] : resources->items()) {
      if (auto condition = resource.find("Condition"); condition != resource.end()) {
        ZT_TRY_ASSIGN(bool wanted, evaluator.condition(condition->get<std::string>()));
        if (!wanted) continue;
      }
      ZT_TRY_ASSIGN(auto evaluated, evaluator.evaluate(resource.at("Properties")));
      json properties = evaluated ? std::move(*evaluated) : json::object();
      const auto& type = resource.at("Type").get_ref<const std::string&>();
      if (type == "AWS::IoT::Thing") {
        ZT_TRY_ASSIGN(plan.thing, thing_plan(logical, resource, properties));
      } else if (type == "AWS::IoT::Certificate") {
        ZT_TRY_ASSIGN(plan.certificate, certificate_plan(logical, resource, properties));
      } else {
        ZT_TRY_ASSIGN(auto policy, policy_plan(logical, properties));
        plan.policies.push_back(std::move(policy));
      }
    }
  }
  if (auto configuration = document.find("DeviceConfiguration"); configuration != document.end()) {
    ZT_TRY_ASSIGN(auto evaluated, evaluator.evaluate(*configuration));
    if (evaluated) plan.device_configuration = std::move(*evaluated);
  }
  return plan;
}

}  // namespace zt::cloud::provisioning
