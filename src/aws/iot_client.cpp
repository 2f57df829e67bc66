#include "aws/iot_client.hpp"

namespace zt::aws {

IotClient::IotClient(ClientConfig config, HttpClientOptions options)
    : service_(std::move(config), kIotService, std::move(options)) {}

Result<std::string> IotClient::get_registration_code() {
  ZT_TRY_ASSIGN(auto answer, call("GET", "/registrationcode"));
  if (!answer.contains("registrationCode") || !answer["registrationCode"].is_string()) {
    return make_error(Errc::parse, "GetRegistrationCode answer has no registrationCode");
  }
  return answer["registrationCode"].get<std::string>();
}

Result<RegisteredCertificate> IotClient::register_ca_certificate(std::string_view ca_pem,
                                                                 std::string_view verification_pem,
                                                                 bool set_as_active,
                                                                 bool allow_auto_registration) {
  nlohmann::json body = {{"caCertificate", ca_pem}, {"verificationCertificate", verification_pem}};
  std::string query;
  if (set_as_active) query = "setAsActive=true";
  if (allow_auto_registration)
    query += std::string(query.empty() ? "" : "&") + "allowAutoRegistration=true";
  ZT_TRY_ASSIGN(auto answer, call("POST", "/cacertificate", query, &body));
  if (!answer.value("certificateId", nlohmann::json()).is_string()) {
    return make_error(Errc::parse, "RegisterCACertificate answer has no certificateId");
  }
  return RegisteredCertificate{answer.value("certificateArn", ""), answer["certificateId"]};
}

Result<nlohmann::json> IotClient::describe_ca_certificate(std::string_view ca_certificate_id) {
  return call("GET", "/cacertificate/" + uri_encode(ca_certificate_id, false));
}

Result<std::string> IotClient::describe_endpoint(std::string_view endpoint_type) {
  std::string query =
      endpoint_type.empty() ? "" : "endpointType=" + uri_encode(endpoint_type, false);
  ZT_TRY_ASSIGN(auto answer, call("GET", "/endpoint", query));
  if (!answer.value("endpointAddress", nlohmann::json()).is_string()) {
    return make_error(Errc::parse, "DescribeEndpoint answer has no endpointAddress");
  }
  return answer["endpointAddress"].get<std::string>();
}

Status IotClient::create_topic_rule(std::string_view name, const nlohmann::json& payload) {
  ZT_TRY(call("POST", "/rules/" + uri_encode(name, false), {}, &payload));
  return ok();
}

Status IotClient::replace_topic_rule(std::string_view name, const nlohmann::json& payload) {
  ZT_TRY(call("PATCH", "/rules/" + uri_encode(name, false), {}, &payload));
  return ok();
}

Result<bool> IotClient::topic_rule_listed(std::string_view name) {
  std::string token;
  // ListTopicRules pages (nextToken / maxResults); a server that never stops paging is cut off.
  for (int page = 0; page < 100; ++page) {
    std::string query = "maxResults=100";
    if (!token.empty()) query += "&nextToken=" + uri_encode(token, false);
    ZT_TRY_ASSIGN(auto answer, call("GET", "/rules", query));
    if (answer.contains("rules") && answer["rules"].is_array()) {
      for (const auto& rule : answer["rules"]) {
        if (rule.is_object() && rule.contains("ruleName") && rule["ruleName"] == name) return true;
      }
    }
    if (!answer.contains("nextToken") || !answer["nextToken"].is_string()) return false;
    token = answer["nextToken"].get<std::string>();
    if (token.empty()) return false;
  }
  return make_error(Errc::io, "ListTopicRules: more than 100 pages");
}

Result<std::optional<nlohmann::json>> IotClient::get_topic_rule(std::string_view name) {
  auto answer = call("GET", "/rules/" + uri_encode(name, false));
  if (!answer && answer.error().code == Errc::not_found) return std::optional<nlohmann::json>();
  // GetTopicRule's model has no ResourceNotFoundException: AWS answers a missing rule with
  // UnauthorizedException, as it answers a caller without the permission. ListTopicRules tells
  // the two apart.
  if (!answer && answer.error().code == Errc::permission) {
    ZT_TRY_ASSIGN(bool listed, with_context(topic_rule_listed(name), "ListTopicRules"));
    if (!listed) return std::optional<nlohmann::json>();
  }
  ZT_TRY_ASSIGN(auto rule, std::move(answer));
  if (!rule.contains("rule") || !rule["rule"].is_object()) {
    return make_error(Errc::parse, "GetTopicRule answer has no rule object");
  }
  return std::optional<nlohmann::json>(std::move(rule));
}

Status IotClient::delete_topic_rule(std::string_view name) {
  ZT_TRY(call("DELETE", "/rules/" + uri_encode(name, false)));
  return ok();
}

}  // namespace zt::aws
