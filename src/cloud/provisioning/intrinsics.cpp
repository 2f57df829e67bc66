#include "cloud/provisioning/intrinsics.hpp"

#include <string_view>

#include "common/bytes.hpp"
#include "common/hex.hpp"

namespace zt::cloud::provisioning {
namespace {

using nlohmann::json;

Error invalid(std::string message) {
  return make_error(Errc::invalid_argument, std::move(message));
}

bool is_condition_function(std::string_view name) {
  return name == "Fn::Equals" || name == "Fn::Not" || name == "Fn::And" || name == "Fn::Or" ||
         name == "Condition";
}

// The functions a value of Resources or DeviceConfiguration may call.
bool is_value_function(std::string_view name) {
  return name == "Ref" || name == "Fn::Join" || name == "Fn::Select" || name == "Fn::Split" ||
         name == "Fn::FindInMap" || name == "Fn::Sub" || name == "Fn::If" ||
         name == "Fn::Base64Encode";
}

Status expect_array(const json& args, size_t size, const std::string& function,
                    const std::string& where) {
  if (!args.is_array() || args.size() != size) {
    return invalid("Template error in " + where + ": " + function + " takes a list of " +
                   std::to_string(size) + " values");
  }
  return ok();
}

// The ${Name} references of an Fn::Sub string; "${!Literal}" is the literal "${Literal}".
Result<std::vector<std::string>> sub_variables(const std::string& text, const std::string& where) {
  std::vector<std::string> names;
  size_t at = 0;
  while ((at = text.find("${", at)) != std::string::npos) {
    size_t end = text.find('}', at + 2);
    if (end == std::string::npos)
      return invalid("Template error in " + where + ": Fn::Sub has an unclosed ${");
    std::string name = text.substr(at + 2, end - at - 2);
    if (name.empty()) return invalid("Template error in " + where + ": Fn::Sub has an empty ${}");
    if (name[0] != '!') names.push_back(name);
    at = end + 1;
  }
  return names;
}

Status check_call(const std::string& function, const json& args, const CheckScope& scope,
                  const std::string& where);

Status check_any(const json& value, const CheckScope& scope, const std::string& where) {
  if (is_intrinsic(value)) {
    const std::string& function = value.begin().key();
    const json& args = value.begin().value();
    if (is_condition_function(function)) {
      return invalid("Template error in " + where + ": " + function +
                     " can only be used in the Conditions section");
    }
    if (!is_value_function(function))
      return invalid("Template error in " + where + ": unsupported function " + function);
    return check_call(function, args, scope, where);
  }
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      if (key.rfind("Fn::", 0) == 0 || key == "Ref")
        return invalid("Template error in " + where + ": " + key +
                       " must be the only member of its object");
      ZT_TRY(check_any(member, scope, where + "." + key));
    }
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i)
      ZT_TRY(check_any(value[i], scope, where + "[" + std::to_string(i) + "]"));
  }
  return ok();
}

Status check_call(const std::string& function, const json& args, const CheckScope& scope,
                  const std::string& where) {
  if (function == "Ref") {
    if (!args.is_string())
      return invalid("Template error in " + where + ": Ref takes a parameter name");
    const auto& name = args.get_ref<const std::string&>();
    if (name == kNoValue || scope.parameters->count(name)) return ok();
    return invalid("Template error in " + where + ": Ref to undeclared parameter " + name);
  }
  if (function == "Fn::Join") {
    ZT_TRY(expect_array(args, 2, function, where));
    if (!args[0].is_string())
      return invalid("Template error in " + where + ": Fn::Join's delimiter must be a string");
    if (!args[1].is_array() && !is_intrinsic(args[1]))
      return invalid("Template error in " + where + ": Fn::Join's second value must be a list");
    return check_any(args[1], scope, where);
  }
  if (function == "Fn::Select") {
    ZT_TRY(expect_array(args, 2, function, where));
    if (args[0].is_number_integer() && args[0].get<int64_t>() < 0)
      return invalid("Template error in " + where + ": Fn::Select's index must not be negative");
    if (!args[0].is_number_integer() && !args[0].is_string() && !is_intrinsic(args[0]))
      return invalid("Template error in " + where + ": Fn::Select's index must be an integer");
    if (!args[1].is_array() && !is_intrinsic(args[1]))
      return invalid("Template error in " + where + ": Fn::Select's second value must be a list");
    ZT_TRY(check_any(args[0], scope, where));
    return check_any(args[1], scope, where);
  }
  if (function == "Fn::Split") {
    ZT_TRY(expect_array(args, 2, function, where));
    if (!args[0].is_string() || args[0].get_ref<const std::string&>().empty())
      return invalid("Template error in " + where +
                     ": Fn::Split's delimiter must be a non-empty string");
    if (!args[1].is_string() && !is_intrinsic(args[1]))
      return invalid("Template error in " + where + ": Fn::Split splits a string");
    return check_any(args[1], scope, where);
  }
  if (function == "Fn::FindInMap") {
    ZT_TRY(expect_array(args, 3, function, where));
    for (const auto& key : args) {
      if (!key.is_string() && !is_intrinsic(key))
        return invalid("Template error in " + where + ": Fn::FindInMap's keys must be strings");
      ZT_TRY(check_any(key, scope, where));
    }
    if (args[0].is_string() && !scope.mappings->contains(args[0].get_ref<const std::string&>())) {
      return invalid("Template error in " + where + ": Fn::FindInMap names the map " +
                     args[0].get<std::string>() + ", which Mappings does not declare");
    }
    return ok();
  }
  if (function == "Fn::Sub") {
    const json* text = &args;
    const json* variables = nullptr;
    if (args.is_array()) {
      ZT_TRY(expect_array(args, 2, function, where));
      text = &args[0];
      variables = &args[1];
      if (!variables->is_object())
        return invalid("Template error in " + where + ": Fn::Sub's variables must be an object");
      ZT_TRY(check_any(*variables, scope, where));
    }
    if (!text->is_string())
      return invalid("Template error in " + where + ": Fn::Sub takes a string");
    ZT_TRY_ASSIGN(auto names, sub_variables(text->get<std::string>(), where));
    for (const auto& name : names) {
      if (scope.parameters->count(name) || (variables && variables->contains(name))) continue;
      return invalid("Template error in " + where + ": Fn::Sub refers to undeclared parameter " +
                     name);
    }
    return ok();
  }
  if (function == "Fn::If") {
    ZT_TRY(expect_array(args, 3, function, where));
    if (!args[0].is_string())
      return invalid("Template error in " + where +
                     ": Fn::If's first value must be a condition name");
    if (!scope.conditions->contains(args[0].get_ref<const std::string&>())) {
      return invalid("Template error in " + where + ": Fn::If names the condition " +
                     args[0].get<std::string>() + ", which Conditions does not declare");
    }
    ZT_TRY(check_any(args[1], scope, where));
    return check_any(args[2], scope, where);
  }
  // Fn::Base64Encode
  if (!args.is_string() && !is_intrinsic(args))
    return invalid("Template error in " + where + ": Fn::Base64Encode takes a string");
  return check_any(args, scope, where);
}

Status check_condition_expression(const json& value, const CheckScope& scope,
                                  const std::string& where) {
  if (!is_intrinsic(value))
    return invalid("Template error in " + where + ": a condition must be a condition function");
  const std::string& function = value.begin().key();
  const json& args = value.begin().value();
  if (function == "Condition") {
    if (!args.is_string() || !scope.conditions->contains(args.get_ref<const std::string&>()))
      return invalid("Template error in " + where + ": Condition names an undeclared condition");
    return ok();
  }
  if (function == "Fn::Equals") {
    ZT_TRY(expect_array(args, 2, function, where));
    ZT_TRY(check_any(args[0], scope, where));
    return check_any(args[1], scope, where);
  }
  if (function == "Fn::Not") {
    ZT_TRY(expect_array(args, 1, function, where));
    return check_condition_expression(args[0], scope, where);
  }
  if (function == "Fn::And" || function == "Fn::Or") {
    // CloudFormation: "a minimum of 2 conditions and a maximum of 10".
    if (!args.is_array() || args.size() < 2 || args.size() > 10)
      return invalid("Template error in " + where + ": " + function + " takes 2 to 10 conditions");
    for (const auto& operand : args) ZT_TRY(check_condition_expression(operand, scope, where));
    return ok();
  }
  return invalid("Template error in " + where + ": " + function + " is not a condition function");
}

// Depth-first walk for a cycle of {"Condition": name} references.
Status find_cycle(const std::string& name, const json& conditions, std::set<std::string>& done,
                  std::set<std::string>& path);

Status walk_references(const json& value, const json& conditions, std::set<std::string>& done,
                       std::set<std::string>& path) {
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      if (key == "Condition" && member.is_string())
        ZT_TRY(find_cycle(member.get<std::string>(), conditions, done, path));
      else
        ZT_TRY(walk_references(member, conditions, done, path));
    }
  } else if (value.is_array()) {
    for (const auto& member : value) ZT_TRY(walk_references(member, conditions, done, path));
  }
  return ok();
}

Status find_cycle(const std::string& name, const json& conditions, std::set<std::string>& done,
                  std::set<std::string>& path) {
  if (done.count(name)) return ok();
  if (!path.insert(name).second)
    return invalid("Template error: the condition " + name + " refers to itself");
  auto found = conditions.find(name);
  if (found != conditions.end()) ZT_TRY(walk_references(*found, conditions, done, path));
  path.erase(name);
  done.insert(name);
  return ok();
}

}  // namespace

bool is_intrinsic(const json& value) {
  if (!value.is_object() || value.size() != 1) return false;
  const std::string& key = value.begin().key();
  return key == "Ref" || key == "Condition" || key.rfind("Fn::", 0) == 0;
}

Status check_value(const json& value, const CheckScope& scope, const std::string& where) {
  return check_any(value, scope, where);
}

Status check_conditions(const CheckScope& scope) {
  for (const auto& [name, expression] : scope.conditions->items())
    ZT_TRY(check_condition_expression(expression, scope, "Conditions." + name));
  std::set<std::string> done;
  std::set<std::string> path;
  for (const auto& [name, expression] : scope.conditions->items())
    ZT_TRY(find_cycle(name, *scope.conditions, done, path));
  return ok();
}

// --- evaluation ---------------------------------------------------------------------------------

Evaluator::Evaluator(const json& document, json parameter_values, EvaluationLimits limits)
    : document_(document), parameters_(std::move(parameter_values)), limits_(limits) {}

Status Evaluator::spend() {
  if (++steps_ > limits_.max_steps) {
    return invalid("the template takes more than " + std::to_string(limits_.max_steps) +
                   " evaluation steps");
  }
  return ok();
}

Status Evaluator::check_string(const std::string& text, const char* function) const {
  if (text.size() > limits_.max_string) {
    return invalid(std::string(function) + " makes a string longer than " +
                   std::to_string(limits_.max_string) + " characters");
  }
  return ok();
}

Result<std::optional<json>> Evaluator::evaluate(const json& value) {
  ZT_TRY(spend());
  if (is_intrinsic(value)) {
    const std::string& function = value.begin().key();
    const json& args = value.begin().value();
    return call(function, args);
  }
  if (value.is_object()) {
    json out = json::object();
    for (const auto& [key, member] : value.items()) {
      ZT_TRY_ASSIGN(auto result, evaluate(member));
      if (result) out[key] = std::move(*result);
    }
    return std::optional<json>(std::move(out));
  }
  if (value.is_array()) {
    json out = json::array();
    for (const auto& member : value) {
      ZT_TRY_ASSIGN(auto result, evaluate(member));
      if (result) out.push_back(std::move(*result));
    }
    return std::optional<json>(std::move(out));
  }
  return std::optional<json>(value);
}

Result<json> Evaluator::evaluate_required(const json& value, const char* function) {
  ZT_TRY_ASSIGN(auto result, evaluate(value));
  if (!result) return invalid(std::string(function) + " cannot use AWS::NoValue");
  return std::move(*result);
}

Result<std::string> Evaluator::evaluate_string(const json& value, const char* function) {
  ZT_TRY_ASSIGN(json result, evaluate_required(value, function));
  if (result.is_string()) return result.get<std::string>();
  if (result.is_number()) return result.dump();
  return invalid(std::string(function) + " needs a string, not " + result.type_name());
}

Result<std::optional<json>> Evaluator::call(const std::string& function, const json& args) {
  if (function == "Ref") {
    if (!args.is_string()) return invalid("Ref takes a parameter name");
    const auto& name = args.get_ref<const std::string&>();
    if (name == kNoValue) return std::optional<json>();
    auto found = parameters_.find(name);
    if (found == parameters_.end())
      return invalid("Ref to parameter " + name + ", which has no value");
    return std::optional<json>(*found);
  }
  if (function == "Fn::Join") {
    if (!args.is_array() || args.size() != 2 || !args[0].is_string())
      return invalid("Fn::Join takes a delimiter and a list");
    ZT_TRY_ASSIGN(json list, evaluate_required(args[1], "Fn::Join"));
    if (!list.is_array()) return invalid("Fn::Join joins a list");
    std::string out;
    const auto& delimiter = args[0].get_ref<const std::string&>();
    for (size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_string()) return invalid("Fn::Join joins strings");
      if (i > 0) out += delimiter;
      out += list[i].get_ref<const std::string&>();
      ZT_TRY(check_string(out, "Fn::Join"));
    }
    return std::optional<json>(std::move(out));
  }
  if (function == "Fn::Select") {
    if (!args.is_array() || args.size() != 2)
      return invalid("Fn::Select takes an index and a list");
    ZT_TRY_ASSIGN(json index, evaluate_required(args[0], "Fn::Select"));
    int64_t position = -1;
    if (index.is_number_integer()) {
      position = index.get<int64_t>();
    } else if (index.is_string()) {
      const auto& text = index.get_ref<const std::string&>();
      if (text.empty() || text.size() > 9 ||
          text.find_first_not_of("0123456789") != std::string::npos)
        return invalid("Fn::Select's index " + text + " is not a non-negative integer");
      position = std::stoll(text);
    }
    ZT_TRY_ASSIGN(json list, evaluate_required(args[1], "Fn::Select"));
    if (!list.is_array()) return invalid("Fn::Select selects from a list");
    // AWS IoT: "Fn::Select does not check for null values or if the index is out of bounds of the
    // array. Both conditions result in a provisioning error".
    if (position < 0 || static_cast<uint64_t>(position) >= list.size())
      return invalid("Fn::Select's index is out of bounds of the list");
    if (list[position].is_null()) return invalid("Fn::Select selected a null value");
    return std::optional<json>(list[position]);
  }
  if (function == "Fn::Split") {
    if (!args.is_array() || args.size() != 2 || !args[0].is_string() ||
        args[0].get_ref<const std::string&>().empty())
      return invalid("Fn::Split takes a non-empty delimiter and a string");
    ZT_TRY_ASSIGN(std::string text, evaluate_string(args[1], "Fn::Split"));
    const auto& delimiter = args[0].get_ref<const std::string&>();
    json out = json::array();
    size_t start = 0;
    while (true) {
      if (out.size() >= limits_.max_list) {
        return invalid("Fn::Split makes more than " + std::to_string(limits_.max_list) + " values");
      }
      size_t at = text.find(delimiter, start);
      out.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
      if (at == std::string::npos) break;
      start = at + delimiter.size();
    }
    return std::optional<json>(std::move(out));
  }
  if (function == "Fn::FindInMap") {
    if (!args.is_array() || args.size() != 3) return invalid("Fn::FindInMap takes three keys");
    std::string keys[3];
    for (size_t i = 0; i < 3; ++i) {
      ZT_TRY_ASSIGN(keys[i], evaluate_string(args[i], "Fn::FindInMap"));
    }
    const json* level = document_.contains("Mappings") ? &document_["Mappings"] : nullptr;
    for (const auto& key : keys) {
      if (!level || !level->is_object() || !level->contains(key)) {
        return invalid("Fn::FindInMap: no value for [" + keys[0] + ", " + keys[1] + ", " + keys[2] +
                       "] in Mappings");
      }
      level = &(*level)[key];
    }
    return std::optional<json>(*level);
  }
  if (function == "Fn::Sub") {
    if (args.is_string()) {
      ZT_TRY_ASSIGN(std::string out, substitute(args.get<std::string>(), json::object()));
      return std::optional<json>(std::move(out));
    }
    if (!args.is_array() || args.size() != 2 || !args[0].is_string() || !args[1].is_object())
      return invalid("Fn::Sub takes a string, or a string and an object of variables");
    json variables = json::object();
    for (const auto& [name, value] : args[1].items()) {
      ZT_TRY_ASSIGN(variables[name], evaluate_string(value, "Fn::Sub"));
    }
    ZT_TRY_ASSIGN(std::string out, substitute(args[0].get<std::string>(), variables));
    return std::optional<json>(std::move(out));
  }
  if (function == "Fn::If") {
    if (!args.is_array() || args.size() != 3 || !args[0].is_string())
      return invalid("Fn::If takes a condition name and two values");
    ZT_TRY_ASSIGN(bool truth, condition(args[0].get<std::string>()));
    return evaluate(args[truth ? 1 : 2]);
  }
  if (function == "Fn::Base64Encode") {
    ZT_TRY_ASSIGN(std::string text, evaluate_string(args, "Fn::Base64Encode"));
    std::string out = base64_encode(as_bytes(text));
    ZT_TRY(check_string(out, "Fn::Base64Encode"));
    return std::optional<json>(std::move(out));
  }
  return invalid("unsupported function " + function);
}

Result<std::string> Evaluator::substitute(const std::string& text, const json& variables) {
  std::string out;
  size_t at = 0;
  while (true) {
    size_t open = text.find("${", at);
    out += text.substr(at, open == std::string::npos ? std::string::npos : open - at);
    if (open == std::string::npos) break;
    size_t close = text.find('}', open + 2);
    if (close == std::string::npos) return invalid("Fn::Sub has an unclosed ${");
    std::string name = text.substr(open + 2, close - open - 2);
    if (!name.empty() && name[0] == '!') {
      out += "${" + name.substr(1) + "}";
    } else if (auto variable = variables.find(name); variable != variables.end()) {
      out += variable->get<std::string>();
    } else if (auto parameter = parameters_.find(name);
               parameter != parameters_.end() && parameter->is_string()) {
      out += parameter->get<std::string>();
    } else {
      return invalid("Fn::Sub: no string value for ${" + name + "}");
    }
    ZT_TRY(check_string(out, "Fn::Sub"));
    at = close + 1;
  }
  return out;
}

Result<bool> Evaluator::condition(const std::string& name) {
  if (auto known = condition_values_.find(name); known != condition_values_.end())
    return known->second;
  const json* conditions = document_.contains("Conditions") ? &document_["Conditions"] : nullptr;
  if (!conditions || !conditions->is_object() || !conditions->contains(name))
    return invalid("no condition named " + name);
  if (!conditions_in_progress_.insert(name).second)
    return invalid("the condition " + name + " refers to itself");
  auto value = evaluate_condition_expression((*conditions)[name], 0);
  conditions_in_progress_.erase(name);
  if (value) condition_values_[name] = *value;
  return value;
}

Result<bool> Evaluator::evaluate_condition_expression(const json& value, int depth) {
  ZT_TRY(spend());
  if (depth > kMaxTemplateDepth) return invalid("conditions nest too deeply");
  if (!is_intrinsic(value)) return invalid("a condition must be a condition function");
  const std::string& function = value.begin().key();
  const json& args = value.begin().value();
  if (function == "Condition") {
    if (!args.is_string()) return invalid("Condition takes a condition name");
    return condition(args.get<std::string>());
  }
  if (function == "Fn::Equals") {
    if (!args.is_array() || args.size() != 2) return invalid("Fn::Equals compares two values");
    ZT_TRY_ASSIGN(json left, evaluate_required(args[0], "Fn::Equals"));
    ZT_TRY_ASSIGN(json right, evaluate_required(args[1], "Fn::Equals"));
    return left == right;
  }
  if (function == "Fn::Not") {
    if (!args.is_array() || args.size() != 1) return invalid("Fn::Not takes one condition");
    ZT_TRY_ASSIGN(bool inner, evaluate_condition_expression(args[0], depth + 1));
    return !inner;
  }
  if (function == "Fn::And" || function == "Fn::Or") {
    if (!args.is_array() || args.empty()) return invalid(function + " takes conditions");
    bool is_and = function == "Fn::And";
    for (const auto& operand : args) {
      ZT_TRY_ASSIGN(bool truth, evaluate_condition_expression(operand, depth + 1));
      if (truth != is_and) return truth;
    }
    return is_and;
  }
  return invalid(function + " is not a condition function");
}

}  // namespace zt::cloud::provisioning
