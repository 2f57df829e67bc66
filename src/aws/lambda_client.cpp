#include "aws/lambda_client.hpp"

#include "common/hex.hpp"
#include "common/json.hpp"
#include "crypto/digest.hpp"

namespace zt::aws {
namespace {

constexpr std::string_view kFunctions = "/2015-03-31/functions";

std::string function_path(std::string_view name) {
  return std::string(kFunctions) + "/" + uri_encode(name, false);
}

template <class T>
Result<std::optional<T>> absent_if_not_found(Result<T> result) {
  if (!result && result.error().code == Errc::not_found) return std::optional<T>();
  ZT_TRY_ASSIGN(T value, std::move(result));
  return std::optional<T>(std::move(value));
}

}  // namespace

nlohmann::json configuration_of(const FunctionDefinition& function) {
  nlohmann::json configuration{{"Role", function.role_arn},
                               {"Handler", function.handler},
                               {"Runtime", function.runtime},
                               {"Timeout", function.timeout_seconds}};
  if (!function.description.empty()) configuration["Description"] = function.description;
  return configuration;
}

std::string code_sha256(ByteView zip) { return base64_encode(crypto::sha256(zip)); }

LambdaClient::LambdaClient(ClientConfig config, HttpClientOptions options)
    : service_(std::move(config), kLambdaService, std::move(options)) {}

Result<std::optional<nlohmann::json>> LambdaClient::get_function(std::string_view name) {
  return absent_if_not_found(service_.call_json("GET", function_path(name)));
}

Result<nlohmann::json> LambdaClient::create_function(const FunctionDefinition& function,
                                                     ByteView zip) {
  nlohmann::json body = configuration_of(function);
  body["FunctionName"] = function.name;
  body["Code"] = {{"ZipFile", base64_encode(zip)}};
  return service_.call_json("POST", kFunctions, {}, &body);
}

Result<nlohmann::json> LambdaClient::update_function_code(std::string_view name, ByteView zip) {
  nlohmann::json body{{"ZipFile", base64_encode(zip)}};
  return service_.call_json("PUT", function_path(name) + "/code", {}, &body);
}

Result<nlohmann::json> LambdaClient::update_function_configuration(
    std::string_view name, const nlohmann::json& configuration) {
  return service_.call_json("PUT", function_path(name) + "/configuration", {}, &configuration);
}

Status LambdaClient::delete_function(std::string_view name) {
  ZT_TRY(service_.call_json("DELETE", function_path(name)));
  return ok();
}

Status LambdaClient::add_permission(std::string_view function, const nlohmann::json& statement) {
  ZT_TRY(service_.call_json("POST", function_path(function) + "/policy", {}, &statement));
  return ok();
}

Status LambdaClient::remove_permission(std::string_view function, std::string_view statement_id) {
  ZT_TRY(service_.call_json(
      "DELETE", function_path(function) + "/policy/" + uri_encode(statement_id, false)));
  return ok();
}

Result<std::optional<nlohmann::json>> LambdaClient::get_policy(std::string_view function) {
  ZT_TRY_ASSIGN(auto answer, absent_if_not_found(
                                 service_.call_json("GET", function_path(function) + "/policy")));
  if (!answer) return std::optional<nlohmann::json>();
  ZT_TRY_ASSIGN(auto text, string_member(*answer, "Policy"));
  if (!text) return make_error(Errc::parse, "GetPolicy answer has no Policy string");
  ZT_TRY_ASSIGN(auto policy, with_context(parse_json(*text), "GetPolicy's Policy"));
  return std::optional<nlohmann::json>(std::move(policy));
}

Result<std::string> LambdaClient::invoke(std::string_view function, std::string_view payload) {
  ZT_TRY_ASSIGN(
      HttpRequest request,
      service_.build("POST", function_path(function) + "/invocations", {}, std::string(payload),
                     "application/json", {{"X-Amz-Invocation-Type", "RequestResponse"}}));
  ZT_TRY_ASSIGN(HttpResponse response, service_.send(request));
  if (response.status >= 300) {
    return make_error(Errc::io, "Invoke " + std::string(function) + ": HTTP " +
                                    std::to_string(response.status) + ": " + response.body);
  }
  if (auto error = response.header("X-Amz-Function-Error")) {
    return make_error(Errc::io, "function " + std::string(function) + " failed (" +
                                    std::string(*error) + "): " + response.body);
  }
  return std::move(response.body);
}

}  // namespace zt::aws
