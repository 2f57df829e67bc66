// AWS IoT control-plane client (rest-json, SigV4 service "iot") with the calls `ztp ca register`
// and `ztp aws deploy-jitr` need. Same code path for real AWS (https://iot.<region>.amazonaws.com)
// and the local cloud (--endpoint-url / AWS_ENDPOINT_URL).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "aws/service_client.hpp"

namespace zt::aws {

struct RegisteredCertificate {
  std::string certificate_arn;
  std::string certificate_id;
};

class IotClient {
 public:
  explicit IotClient(ClientConfig config, HttpClientOptions options = {});

  const ClientConfig& config() const { return service_.config(); }
  std::string endpoint() const { return service_.endpoint(); }
  ServiceClient& service() { return service_; }

  // One signed rest-json call (ServiceClient::call_json).
  Result<nlohmann::json> call(std::string_view method, std::string_view raw_path,
                              std::string_view query = {}, const nlohmann::json* body = nullptr,
                              const Headers& headers = {}) {
    return service_.call_json(method, raw_path, query, body, headers);
  }

  Result<std::string> get_registration_code();
  Result<RegisteredCertificate> register_ca_certificate(std::string_view ca_pem,
                                                        std::string_view verification_pem,
                                                        bool set_as_active,
                                                        bool allow_auto_registration);
  Result<nlohmann::json> describe_ca_certificate(std::string_view ca_certificate_id);
  Result<std::string> describe_endpoint(std::string_view endpoint_type);

  // Topic rules (AWS IoT API Reference: CreateTopicRule POST /rules/{ruleName} with the
  // TopicRulePayload as the body; GetTopicRule GET; ReplaceTopicRule PATCH; DeleteTopicRule
  // DELETE). get_topic_rule answers nullopt for a rule that does not exist.
  Result<bool> topic_rule_listed(std::string_view name);  // ListTopicRules has it
  Status create_topic_rule(std::string_view name, const nlohmann::json& payload);
  Status replace_topic_rule(std::string_view name, const nlohmann::json& payload);
  Result<std::optional<nlohmann::json>> get_topic_rule(std::string_view name);
  Status delete_topic_rule(std::string_view name);

 private:
  ServiceClient service_;
};

}  // namespace zt::aws
