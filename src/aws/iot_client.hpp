// AWS IoT control-plane client (rest-json, SigV4 service "iot") with the calls `ztp ca register`
// needs. Same code path for real AWS (https://iot.<region>.amazonaws.com) and the local cloud
// (--endpoint-url / AWS_ENDPOINT_URL).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "aws/config.hpp"
#include "aws/http_client.hpp"

namespace zt::aws {

struct RegisteredCertificate {
  std::string certificate_arn;
  std::string certificate_id;
};

class IotClient {
 public:
  explicit IotClient(ClientConfig config, HttpClientOptions options = {});

  const ClientConfig& config() const { return config_; }
  std::string endpoint() const;

  // One signed rest-json call. `raw_path` is already percent-encoded; `query` is "k=v&..."
  // (encoded) or empty. Errors carry "<x-amzn-ErrorType>: <message>" and a matching Errc.
  Result<nlohmann::json> call(std::string_view method, std::string_view raw_path,
                              std::string_view query = {}, const nlohmann::json* body = nullptr,
                              const std::vector<std::pair<std::string, std::string>>& headers = {});

  Result<std::string> get_registration_code();
  Result<RegisteredCertificate> register_ca_certificate(std::string_view ca_pem,
                                                        std::string_view verification_pem,
                                                        bool set_as_active,
                                                        bool allow_auto_registration);
  Result<nlohmann::json> describe_ca_certificate(std::string_view ca_certificate_id);
  Result<std::string> describe_endpoint(std::string_view endpoint_type);

 private:
  ClientConfig config_;
  // An endpoint URL that was given but does not parse: every call fails with it, rather than
  // quietly falling back to the real AWS endpoint of the region.
  std::optional<Error> endpoint_error_;
  HttpClient http_;
};

// AWS error type (as in x-amzn-ErrorType, botocore rules §1.4) → our error code.
Errc errc_for_aws_error(std::string_view error_type);

}  // namespace zt::aws
