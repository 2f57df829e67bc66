#include "aws/service_client.hpp"

#include "common/json.hpp"

namespace zt::aws {
namespace {

std::string aws_host(const ServiceSpec& spec, const std::string& region) {
  std::string host = spec.host_pattern;
  if (auto at = host.find("{region}"); at != std::string::npos) host.replace(at, 8, region);
  return host;
}

// The configured endpoint, else the service's AWS endpoint. A configured endpoint that does not
// parse records its error (every call fails with it) and yields a placeholder URL.
Url endpoint_url(const ClientConfig& config, const ServiceSpec& spec, std::optional<Error>& error) {
  if (!config.endpoint_url.empty()) {
    auto url = parse_url(config.endpoint_url);
    if (url) return *url;
    error = url.error();
    error->message = "endpoint URL '" + config.endpoint_url + "': " + error->message;
    return Url{"http", "invalid.invalid", "80", ""};
  }
  return Url{"https", aws_host(spec, config.region), "443", ""};
}

// botocore (reference/aws-iot.md §1.4): the code from x-amzn-ErrorType cut at ':' and after the
// last '#', else the body's code/Code/__type, else the HTTP status.
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
  // IAM's query errors (IAM API Reference, "Common Errors" and each action's Errors) and the
  // rest-json services' error shapes.
  if (type == "ResourceNotFoundException" || type == "NoSuchEntity") return Errc::not_found;
  if (type == "ResourceAlreadyExistsException" || type == "EntityAlreadyExists" ||
      type == "ResourceConflictException") {
    return Errc::already_exists;
  }
  if (type == "InvalidRequestException" || type == "MalformedPolicyException" ||
      type == "SqlParseException" || type == "InvalidParameterValueException" ||
      type == "InvalidInput" || type == "ValidationError" || type == "MalformedPolicyDocument" ||
      type == "InvalidRequestContentException") {
    return Errc::invalid_argument;
  }
  if (type == "CertificateValidationException" || type == "RegistrationCodeValidationException") {
    return Errc::crypto;
  }
  if (type.find("Conflict") != std::string_view::npos || type == "CertificateStateException") {
    return Errc::conflict;
  }
  if (type == "UnauthorizedException" || type == "ForbiddenException" || type == "AccessDenied" ||
      type == "AccessDeniedException" || type == "InvalidClientTokenId" ||
      type.find("Signature") != std::string_view::npos || type == "UnrecognizedClientException" ||
      type == "403") {
    return Errc::permission;
  }
  return Errc::io;
}

ServiceClient::ServiceClient(ClientConfig config, ServiceSpec spec, HttpClientOptions options)
    : config_(std::move(config)),
      spec_(std::move(spec)),
      url_(endpoint_url(config_, spec_, endpoint_error_)),
      http_(url_, std::move(options)) {}
ServiceClient::ServiceClient(ServiceClient&&) noexcept = default;
ServiceClient& ServiceClient::operator=(ServiceClient&&) noexcept = default;
ServiceClient::~ServiceClient() = default;

std::string ServiceClient::endpoint() const {
  return url_.scheme + "://" + url_.host_header() + url_.base_path;
}

std::string ServiceClient::signing_region() const {
  return spec_.global_signing_region.empty() ? config_.region : spec_.global_signing_region;
}

Result<HttpRequest> ServiceClient::build(std::string_view method, std::string_view raw_path,
                                         std::string_view query, std::string body,
                                         std::string_view content_type,
                                         const Headers& headers) const {
  if (endpoint_error_) return *endpoint_error_;
  HttpRequest request;
  request.method = std::string(method);
  request.target = url_.base_path + std::string(raw_path);
  if (!query.empty()) request.target += "?" + std::string(query);
  request.headers.emplace_back("Host", url_.host_header());
  for (const auto& header : headers) request.headers.push_back(header);
  if (!body.empty() || !content_type.empty()) {
    request.body = std::move(body);
    request.headers.emplace_back("Content-Type", std::string(content_type));
  }
  ZT_TRY(sign_request(
      request, config_.credentials,
      {.region = signing_region(), .service = spec_.signing_name, .unix_time = signing_time_}));
  request.headers.emplace_back("User-Agent", "ztp/0.1.0");
  return request;
}

Result<HttpResponse> ServiceClient::send(const HttpRequest& request) {
  if (transport_) return transport_(request);
  return http_.send(request);
}

Result<nlohmann::json> ServiceClient::call_json(std::string_view method, std::string_view raw_path,
                                                std::string_view query, const nlohmann::json* body,
                                                const Headers& headers) {
  ZT_TRY_ASSIGN(HttpRequest request,
                build(method, raw_path, query, body ? body->dump() : std::string(),
                      body ? "application/json" : "", headers));
  ZT_TRY_ASSIGN(HttpResponse response, send(request));
  // The answer is outside input too: parsed with the depth limit, never with a throwing parser.
  auto body_json = parse_json(response.body);
  nlohmann::json parsed = body_json ? std::move(*body_json) : nlohmann::json();
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
  if (!body_json) {
    return make_error(Errc::parse, "response to " + std::string(raw_path) +
                                       " is not JSON: " + body_json.error().message);
  }
  return parsed;
}

}  // namespace zt::aws
