// Fuzz target: provisioning templates through parse_template, then evaluate() with parameters.
// Input: the template body, optionally followed by a line "\n--\n" and the parameters as JSON.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cloud/provisioning/plan.hpp"
#include "cloud/provisioning/template.hpp"
#include "common/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zt::cloud::provisioning;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view body = input;
  nlohmann::json parameters = {{"SerialNumber", "123,456"},
                               {"ThingName", "t-1"},
                               {"AWS::IoT::Certificate::Id", "abc"},
                               {"Location", "Seattle"}};
  if (auto split = input.find("\n--\n"); split != std::string_view::npos) {
    body = input.substr(0, split);
    if (auto given = zt::parse_json(input.substr(split + 4)); given && given->is_object())
      parameters = std::move(*given);
  }
  auto parsed = parse_template(body);
  if (!parsed) return 0;
  EvaluationLimits limits{.max_string = 4096, .max_list = 64, .max_steps = 2000};
  (void)evaluate(*parsed, parameters, limits);
  (void)evaluate(*parsed, nlohmann::json::object(), limits);
  return 0;
}
