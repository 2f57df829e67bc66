// The intrinsic functions of provisioning templates: their static check (at creation) and their
// evaluation (for one device). An intrinsic is an object with exactly one member whose name is
// "Ref", "Condition" (inside Conditions) or starts with "Fn::"; every other value is data.
// Semantics follow CloudFormation's intrinsic function reference, which AWS IoT's "Provisioning
// templates" page points to; where AWS IoT documents a difference it is named beside the code.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "cloud/provisioning/template.hpp"
#include "common/result.hpp"

namespace zt::cloud::provisioning {

// Ref "AWS::NoValue" (inside Fn::If): the member or list element is left out.
inline constexpr const char* kNoValue = "AWS::NoValue";

// Whether `value` is an intrinsic call (one member named Ref, Condition or Fn::*).
bool is_intrinsic(const nlohmann::json& value);

// What a static check may refer to.
struct CheckScope {
  const std::map<std::string, ParameterDeclaration>* parameters = nullptr;
  const nlohmann::json* mappings = nullptr;    // the Mappings section (an object, maybe empty)
  const nlohmann::json* conditions = nullptr;  // the Conditions section (an object, maybe empty)
};

// Checks every intrinsic in `value` (a value of Resources or DeviceConfiguration): known names,
// arity, Ref to declared parameters, Fn::If to declared conditions, Fn::FindInMap to a declared
// map (when named literally). `where` names the place for the message.
Status check_value(const nlohmann::json& value, const CheckScope& scope, const std::string& where);
// Checks one condition of the Conditions section (Fn::Equals/Not/And/Or, {"Condition": name})
// and that conditions do not refer to one another in a cycle.
Status check_conditions(const CheckScope& scope);

// One evaluation: the parameters' values (strings, or arrays of strings for CommaDelimitedList),
// the template's sections, and the budget.
class Evaluator {
 public:
  Evaluator(const nlohmann::json& document, nlohmann::json parameter_values,
            EvaluationLimits limits);

  // The value with every intrinsic replaced by its result. nullopt = AWS::NoValue (the caller
  // drops the member). Errors: Errc::invalid_argument naming the function and the reason.
  Result<std::optional<nlohmann::json>> evaluate(const nlohmann::json& value);
  // A named condition's truth (memoised).
  Result<bool> condition(const std::string& name);

 private:
  Result<std::optional<nlohmann::json>> call(const std::string& function,
                                             const nlohmann::json& args);
  Result<nlohmann::json> evaluate_required(const nlohmann::json& value, const char* function);
  Result<std::string> evaluate_string(const nlohmann::json& value, const char* function);
  Result<bool> evaluate_condition_expression(const nlohmann::json& value, int depth);
  Result<std::string> substitute(const std::string& text, const nlohmann::json& variables);
  Status spend();
  Status check_string(const std::string& text, const char* function) const;

  const nlohmann::json& document_;
  nlohmann::json parameters_;
  EvaluationLimits limits_;
  size_t steps_ = 0;
  std::map<std::string, bool> condition_values_;
  std::set<std::string> conditions_in_progress_;
};

}  // namespace zt::cloud::provisioning
