#include "cloud/provisioning/hook.hpp"

#include "common/json.hpp"

namespace zt::cloud::provisioning {

std::optional<std::string> hook_function_name(std::string_view arn, std::string_view region,
                                              std::string_view account_id) {
  std::string prefix =
      "arn:aws:lambda:" + std::string(region) + ":" + std::string(account_id) + ":function:";
  if (arn.size() <= prefix.size() || arn.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string name(arn.substr(prefix.size()));
  // Lambda's function names: [a-zA-Z0-9-_]{1,64} (a ":qualifier" is not accepted here).
  if (name.size() > 64 || name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
                                                 "VWXYZ0123456789-_") != std::string::npos) {
    return std::nullopt;
  }
  return name;
}

Result<HookAnswer> parse_hook_answer(std::string_view payload) {
  auto parsed = parse_json(payload);
  if (!parsed || !parsed->is_object())
    return make_error(Errc::invalid_argument,
                      "the pre-provisioning hook did not answer a JSON object");
  HookAnswer out;
  auto allow = parsed->find("allowProvisioning");
  if (allow == parsed->end() || !allow->is_boolean()) {
    return make_error(Errc::invalid_argument,
                      "the pre-provisioning hook's answer has no boolean allowProvisioning");
  }
  out.allow = allow->get<bool>();
  if (auto overrides = parsed->find("parameterOverrides");
      overrides != parsed->end() && !overrides->is_null()) {
    if (!overrides->is_object()) {
      return make_error(Errc::invalid_argument,
                        "the pre-provisioning hook's parameterOverrides is not an object");
    }
    for (const auto& [name, value] : overrides->items()) {
      if (!value.is_string()) {
        return make_error(
            Errc::invalid_argument,
            "the pre-provisioning hook's parameterOverrides." + name + " is not a string");
      }
    }
    out.parameter_overrides = *overrides;
  }
  return out;
}

}  // namespace zt::cloud::provisioning
