// The provisioning template language (AWS IoT developer guide, "Provisioning templates"): a JSON
// document with Parameters, Resources (AWS::IoT::Thing, AWS::IoT::Certificate, AWS::IoT::Policy),
// and for fleet provisioning Mappings, Conditions and DeviceConfiguration, with CloudFormation's
// intrinsic functions (Ref, Fn::Join, Fn::Select, Fn::Split, Fn::FindInMap, Fn::Sub, Fn::If,
// Fn::Equals, Fn::Not, Fn::And, Fn::Or, Fn::Base64Encode).
//
// parse_template checks everything that does not depend on a device's parameters, so a template
// the local cloud stores cannot fail later for a reason visible at creation; evaluate() (plan.hpp)
// does the rest for one device. Both are pure: no registry, no clock. Every input is bounded (the
// body's size, its nesting, each string and list an evaluation makes, the number of steps).
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace zt::cloud::provisioning {

// CreateProvisioningTemplate's templateBody: at most 10,240 characters (API reference).
inline constexpr size_t kMaxTemplateBody = 10240;
// The deepest nesting a template may have (objects, arrays); deeper is refused at creation.
inline constexpr int kMaxTemplateDepth = 24;

// What one evaluation may make: each string, each list, and the number of intrinsic calls.
struct EvaluationLimits {
  size_t max_string = 64 * 1024;
  size_t max_list = 1024;
  size_t max_steps = 10000;
};

// The parameter types a template may declare (CloudFormation's String, Number and
// CommaDelimitedList; AWS IoT's examples use String).
enum class ParameterType { string, number, comma_delimited_list };

struct ParameterDeclaration {
  ParameterType type = ParameterType::string;
  std::optional<nlohmann::json> default_value{};  // a string (a number for Number)
};

// A template that parse_template accepted.
struct Template {
  nlohmann::json document;
  std::map<std::string, ParameterDeclaration> parameters;
};

// Errc::invalid_argument with the reason (shown to the client in InvalidRequestException).
Result<Template> parse_template(std::string_view body);

}  // namespace zt::cloud::provisioning
