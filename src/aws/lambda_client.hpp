// AWS Lambda client (rest-json, SigV4 service "lambda", https://lambda.<region>.amazonaws.com,
// API version 2015-03-31: AWS Lambda API Reference). The function and permission calls
// `ztp aws deploy-jitr` needs; the same code for real AWS and the local cloud.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "aws/service_client.hpp"
#include "common/bytes.hpp"

namespace zt::aws {

struct FunctionDefinition {
  std::string name;
  std::string runtime;  // python3.12, provided.al2023, …
  std::string role_arn;
  std::string handler;
  int timeout_seconds = 30;
  std::string description;
};

// The function's configuration as UpdateFunctionConfiguration takes it (Role, Handler, Runtime,
// Timeout, Description).
nlohmann::json configuration_of(const FunctionDefinition& function);

class LambdaClient {
 public:
  explicit LambdaClient(ClientConfig config, HttpClientOptions options = {});

  ServiceClient& service() { return service_; }
  std::string endpoint() const { return service_.endpoint(); }

  // GetFunction's answer ({"Configuration": …, "Code": …}), or nullopt when there is no such
  // function.
  Result<std::optional<nlohmann::json>> get_function(std::string_view name);
  // CreateFunction with the deployment package inline (Code.ZipFile): the function's
  // configuration as answered.
  Result<nlohmann::json> create_function(const FunctionDefinition& function, ByteView zip);
  Result<nlohmann::json> update_function_code(std::string_view name, ByteView zip);
  Result<nlohmann::json> update_function_configuration(std::string_view name,
                                                       const nlohmann::json& configuration);
  Status delete_function(std::string_view name);

  // AddPermission's input members (StatementId, Action, Principal, SourceArn, …).
  Status add_permission(std::string_view function, const nlohmann::json& statement);
  Status remove_permission(std::string_view function, std::string_view statement_id);
  // The function's resource policy document (GetPolicy's Policy string, parsed), or nullopt when
  // it has none.
  Result<std::optional<nlohmann::json>> get_policy(std::string_view function);

  // Invoke (RequestResponse): the function's answer; a function error (X-Amz-Function-Error) is
  // an Errc::io error carrying its payload.
  Result<std::string> invoke(std::string_view function, std::string_view payload);

 private:
  ServiceClient service_;
};

// CodeSha256 as Lambda reports it: base64 of the package's SHA-256.
std::string code_sha256(ByteView zip);

}  // namespace zt::aws
