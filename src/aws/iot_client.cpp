#include "aws/iot_client.hpp"

namespace zt::aws {
namespace {

// The configured endpoint, else the region's AWS endpoint. A configured endpoint that does not
// parse records its error (the caller fails every call with it) and yields a placeholder URL.
Url endpoint_url(const ClientConfig& config, std::optional<Error>& error) {
  if (!config.endpoint_url.empty()) {
    auto url = parse_url(config.endpoint_url);
    if (url) return *url;
    error = url.error();
    error->message = "endpoint URL '" + config.endpoint_url + "': " + error->message;
    return Url{"http", "invalid.invalid", "80", ""};
  }
  return Url{"https", "iot." + config.region + ".amazonaws.com", "443", ""};
}

// botocore: code from x-amzn-ErrorType cut at ':' and after the last '#', else body code/__type.
std::string error_type_of(const HttpResponse& response, const nlohmann::json& body) {
  std::string type;
  if (auto header = response.header("x-amzn-ErrorType")) {
    type = std::string(*header);
  } else if (body.is_object()) {
    for (const char* key : {"code", "Code", "__type"}) {
      if (body.contains(key) && body[key].is_string()) {
        type = body[key].get<std::string>();
        break;
      }
    }
  }
  if (auto colon = type.find(':'); colon != std::string::npos) type.resize(colon);
  if (auto hash = type.rfind('#'); hash != std::string::npos) type = type.substr(hash + 1);
  return type.empty() ? std::to_string(response.status) : type;
}

}  // namespace

Errc errc_for_aws_error(std::string_view type) {
  if (type == "ResourceNotFoundException") return Errc::not_found;
  if (type == "ResourceAlreadyExistsException") return Errc::already_exists;
  if (type == "InvalidRequestException" || type == "MalformedPolicyException" ||
      type == "SqlParseException") {
    return Errc::invalid_argument;
  }
  if (type == "CertificateValidationException" || type == "RegistrationCodeValidationException") {
    return Errc::crypto;
  }
  if (type.find("Conflict") != std::string_view::npos || type == "CertificateStateException") {
    return Errc::conflict;
  }
  if (type == "UnauthorizedException" || type == "ForbiddenException" ||
      type.find("Signature") != std::string_view::npos || type == "UnrecognizedClientException" ||
      type == "403") {
    return Errc::permission;
  }
  return Errc::io;
}

IotClient::IotClient(ClientConfig config, HttpClientOptions options)
    : config_(std::move(config)),
      http_(endpoint_url(config_, endpoint_error_), std::move(options)) {}

std::string IotClient::endpoint() const {
  const Url& url = http_.url();
  return url.scheme + "://" + url.host_header() + url.base_path;
}

Result<nlohmann::json> IotClient::call(
    std::string_view method, std::string_view raw_path, std::string_view query,
    const nlohmann::json* body, const std::vector<std::pair<std::string, std::string>>& headers) {
  if (endpoint_error_) return *endpoint_error_;
  HttpRequest request;
  request.method = std::string(method);
  request.target = http_.url().base_path + std::string(raw_path);
  if (!query.empty()) request.target += "?" + std::string(query);
  request.headers.emplace_back("Host", http_.url().host_header());
  for (const auto& header : headers) request.headers.push_back(header);
  if (body) {
    request.body = body->dump();
    request.headers.emplace_back("Content-Type", "application/json");
  }
  ZT_TRY(sign_request(request, config_.credentials, {.region = config_.region, .service = "iot"}));
  request.headers.emplace_back("User-Agent", "ztp/0.1.0");
  ZT_TRY_ASSIGN(HttpResponse response, http_.send(request));
  nlohmann::json parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (response.status >= 300) {
    std::string type = error_type_of(response, parsed);
    std::string message;
    if (parsed.is_object()) {
      for (const char* key : {"message", "Message"}) {
        if (parsed.contains(key) && parsed[key].is_string())
          message = parsed[key].get<std::string>();
      }
    }
    return make_error(errc_for_aws_error(type), type + " (HTTP " + std::to_string(response.status) +
                                                    ") calling " + std::string(method) + " " +
                                                    std::string(raw_path) + ": " + message);
  }
  if (response.body.empty()) return nlohmann::json::object();
  if (parsed.is_discarded()) {
    return make_error(Errc::parse, "response to " + std::string(raw_path) + " is not JSON");
  }
  return parsed;
}

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

}  // namespace zt::aws
