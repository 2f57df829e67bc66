// Fuzz target: policy documents through parse_policy, then evaluation of each with variables.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cloud/policy/policy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zt::cloud::policy;
  std::string_view document(reinterpret_cast<const char*>(data), size);
  auto policy = parse_policy(document);
  if (!policy) return 0;
  RequestContext context{
      .client_id = "dev", .thing_name = "dev", .certificate = {{"Subject.CommonName", "x"}}};
  (void)evaluate({*policy}, "iot:Publish", "arn:aws:iot:us-east-1:1:topic/dev/a", context);
  (void)evaluate({*policy}, "iot:Connect", "arn:aws:iot:us-east-1:1:client/dev", context);
  for (const auto& statement : policy->statements) {
    for (const auto& resource : statement.resources) {
      if (auto pattern = substitute(resource, context)) (void)glob_match(*pattern, resource);
    }
  }
  return 0;
}
